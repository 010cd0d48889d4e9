package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/internal/store"
)

var _ store.Store = (*Store)(nil)

// Options tune a Store. The zero value is ready to use.
type Options struct {
	// Prefix starts every key (default "hookgate"). Several gateways
	// share work when they share a Redis and a prefix.
	Prefix string
	// Now is the clock for times a caller leaves zero and for accept
	// recovery. Nil means time.Now.
	Now func() time.Time
	// Logger receives the store's few log lines. Nil discards them.
	Logger *slog.Logger
	// DialTimeout, ReadTimeout and WriteTimeout bound each network step
	// (defaults 2s, 3s, 3s), so a call fails with store.ErrUnavailable
	// soon after Redis goes away.
	DialTimeout, ReadTimeout, WriteTimeout time.Duration
}

// Store keeps hookgate's records in Redis (or a Redis Cluster). It is safe
// for concurrent use, and any number of Stores (processes) may share one
// Redis and prefix: no state another instance needs is held in memory.
type Store struct {
	rdb    goredis.UniversalClient
	k      keys
	now    func() time.Time
	log    *slog.Logger
	closed atomic.Bool
	// stop ends the background goroutines; wg waits for them.
	stop context.CancelFunc
	wg   sync.WaitGroup
	// cluster: keys of different hash tags live on different nodes, so
	// an Accept takes two steps (see Accept); a single Redis takes one.
	cluster   bool
	acc       committer
	calls     batcher
	completes completer
	figs      figures
	// dests caches which destination a claimed delivery belongs to, so
	// Complete finds its keys without a lookup (see destOf). A cache only:
	// a miss asks Redis.
	destMu sync.Mutex
	dests  map[string]string
	// registered are the destinations this process has seen registered
	// in …:dests, so an Accept does not register them again.
	registered sync.Map // string → struct{}
}

// destKnown reports whether this process registered dest already.
func (s *Store) destKnown(dest string) bool {
	_, ok := s.registered.Load(dest)
	return ok
}

// destsKnown remembers destinations an event script registered.
func (s *Store) destsKnown(dests []string) {
	for _, d := range dests {
		s.registered.Store(d, struct{}{})
	}
}

// Open connects to the Redis at rawURL: redis://[user:password@]host:port/db
// (rediss:// for TLS), or a cluster, named by several addr parameters
// (redis://host1:port?addr=host2:port&addr=host3:port) or by cluster=true.
// A Redis that is down does not fail Open: calls fail with
// store.ErrUnavailable until it is back. A bad URL or refused credentials
// do. Errors never contain the URL's password.
func Open(rawURL string, opts Options) (*Store, error) {
	if opts.Prefix == "" {
		opts.Prefix = "hookgate"
	}
	if err := checkName("prefix", opts.Prefix, false); err != nil {
		return nil, fmt.Errorf("store: redis: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	quietClient.Do(func() { goredis.SetLogger(clientLog{opts.Logger.With("component", "store")}) })
	rdb, where, err := newClient(rawURL, opts)
	if err != nil {
		return nil, err
	}
	_, cluster := rdb.(*goredis.ClusterClient)
	s := &Store{
		rdb:     rdb,
		cluster: cluster,
		k:       keys{prefix: opts.Prefix},
		now:     opts.Now,
		log:     opts.Logger.With("component", "store", "redis", where),
		dests:   map[string]string{},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		if isAuthError(err) {
			rdb.Close()
			return nil, fmt.Errorf("store: redis %s: %s", where, redact(err.Error(), rawURL))
		}
		s.log.Warn("redis unreachable; calls fail until it is back", "error", redact(err.Error(), rawURL))
	}
	bg, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.acc.start(s, bg)
	s.calls.start(s)
	s.completes.start(s)
	s.wg.Go(func() { s.recoverLoop(bg) })
	s.wg.Go(func() { s.figuresLoop(bg) })
	return s, nil
}

// quietClient routes go-redis's own log lines (dial failures, retried
// every second while Redis is down) to the first store's logger at debug
// level, instead of stderr: the store's errors already say it. go-redis has
// one logger per process, hence once.
var quietClient sync.Once

// clientLog adapts a slog.Logger to go-redis's logger.
type clientLog struct{ log *slog.Logger }

func (l clientLog) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis client: "+fmt.Sprintf(format, v...))
}

// newClient parses rawURL into a client and a printable address (no
// credentials).
func newClient(rawURL string, opts Options) (goredis.UniversalClient, string, error) {
	bad := func(err error) error {
		return fmt.Errorf("store: redis: invalid url: %s", redact(err.Error(), rawURL))
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", errors.New("store: redis: invalid url")
	}
	q := u.Query()
	cluster := q.Has("addr") || q.Get("cluster") == "true" || q.Get("cluster") == "1"
	q.Del("cluster")
	u.RawQuery = q.Encode()
	where := u.Host
	if extra := q["addr"]; len(extra) > 0 {
		where += "," + strings.Join(extra, ",")
	}
	dial, read, write := opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout
	if dial <= 0 {
		dial = 2 * time.Second
	}
	if read <= 0 {
		read = 3 * time.Second
	}
	if write <= 0 {
		write = 3 * time.Second
	}
	if cluster {
		co, err := goredis.ParseClusterURL(u.String())
		if err != nil {
			return nil, "", bad(err)
		}
		co.DialTimeout, co.ReadTimeout, co.WriteTimeout = dial, read, write
		co.MaxRetries = 1
		return goredis.NewClusterClient(co), where, nil
	}
	o, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, "", bad(err)
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = dial, read, write
	o.MaxRetries = 1
	return goredis.NewClient(o), where, nil
}

// redact removes rawURL's password from msg.
func redact(msg, rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "[redacted]"
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		msg = strings.ReplaceAll(msg, pw, "[redacted]")
		msg = strings.ReplaceAll(msg, url.QueryEscape(pw), "[redacted]")
	}
	return msg
}

// isAuthError reports an error that waiting will not fix.
func isAuthError(err error) bool {
	for _, p := range []string{"WRONGPASS", "NOAUTH", "NOPERM", "ERR invalid password", "ERR AUTH", "ERR DB index"} {
		if goredis.HasErrorPrefix(err, p) || strings.Contains(err.Error(), p) {
			return true
		}
	}
	return false
}

// Close stops the background work and closes the connections. Leases held
// stay in Redis and end by themselves. Calls after the first do nothing.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.acc.close()
	s.calls.close()
	s.completes.close()
	// The background work stops after the last Complete, so the figures'
	// last flush has them all.
	s.stop()
	s.wg.Wait()
	if err := s.rdb.Close(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// Ping writes a small key, so it fails when Redis cannot take writes
// (down, loading, read-only, out of memory).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.usable(ctx); err != nil {
		return s.wrap("ping", err)
	}
	err := s.rdb.Set(ctx, s.k.bucket(0)+":ping", s.now().UnixMicro(), time.Hour).Err()
	return s.wrap("ping", err)
}

// Errors that are the caller's, not the store's availability.
var (
	errInvalid = store.ErrInvalid
	errCorrupt = store.ErrCorrupt
	errClosed  = errors.New("closed")
)

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errInvalid, fmt.Sprintf(format, args...))
}

func corrupt(what string, err error) error { return store.Corrupt(what, err) }

// usable fails when ctx is done or the store closed.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.closed.Load() {
		return errClosed
	}
	return nil
}

// wrap prefixes err with the operation and marks every failure that is not
// the caller's (a bad argument, a missing record, a conflict, a cancelled
// context) or a corrupt record as store.ErrUnavailable: Redis is down,
// loading, read-only, full, or the store is closed.
func (s *Store) wrap(op string, err error) error { return store.Wrap(op, err) }

// scriptCall is one script invocation of a pipeline.
type scriptCall struct {
	sc   *goredis.Script
	keys []string
	args []any
	cmd  *goredis.Cmd
}

// call prepares a script invocation on the tag whose base is base; key is
// one of its keys (for routing).
func call(sc *goredis.Script, key string, args ...any) *scriptCall {
	return &scriptCall{sc: sc, keys: []string{key}, args: args}
}

// runScripts runs calls in one pipeline with EVALSHA; those Redis answers
// NOSCRIPT (a restarted or new server) run again with EVAL, which also
// caches them. Each call's cmd holds its result. It returns the first
// error of the pipeline, if any (a call's script error is on its cmd).
func (s *Store) runScripts(ctx context.Context, calls []*scriptCall) error {
	if len(calls) == 0 {
		return nil
	}
	pipe := s.rdb.Pipeline()
	for _, c := range calls {
		c.cmd = c.sc.EvalSha(ctx, pipe, c.keys, c.args...)
	}
	_, err := pipe.Exec(ctx)
	var again []*scriptCall
	for _, c := range calls {
		if goredis.HasErrorPrefix(c.cmd.Err(), "NOSCRIPT") {
			again = append(again, c)
		}
	}
	if len(again) > 0 {
		pipe := s.rdb.Pipeline()
		for _, c := range again {
			c.cmd = c.sc.Eval(ctx, pipe, c.keys, c.args...)
		}
		_, err = pipe.Exec(ctx)
	}
	if err != nil {
		return err
	}
	for _, c := range calls {
		if err := c.cmd.Err(); err != nil && !errors.Is(err, goredis.Nil) {
			return err
		}
	}
	return nil
}

// destinations returns every destination that has had a delivery stored,
// sorted (the registry: each event bucket's dests set).
func (s *Store) destinations(ctx context.Context) ([]string, error) {
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.StringSliceCmd, eventBuckets)
	for b := range eventBuckets {
		cmds[b] = pipe.SMembers(ctx, s.k.bucket(b)+":dests")
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	var out []string
	for _, c := range cmds {
		out = append(out, c.Val()...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// remember caches the destination of claimed deliveries.
func (s *Store) remember(ds []*store.Delivery) {
	s.destMu.Lock()
	defer s.destMu.Unlock()
	if len(s.dests) > 100_000 { // claims never completed (a shutdown): start over
		clear(s.dests)
	}
	for _, d := range ds {
		s.dests[d.ID] = d.Destination
	}
}

// forget drops a delivery from the cache.
func (s *Store) forget(id string) {
	s.destMu.Lock()
	delete(s.dests, id)
	s.destMu.Unlock()
}

// destOf returns the destination of delivery id: from the cache of claimed
// deliveries, or by asking every registered destination in one pipeline.
func (s *Store) destOf(ctx context.Context, id string) (string, error) {
	s.destMu.Lock()
	d, ok := s.dests[id]
	s.destMu.Unlock()
	if ok {
		return d, nil
	}
	dests, err := s.destinations(ctx)
	if err != nil {
		return "", err
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*goredis.IntCmd, len(dests))
	for i, dest := range dests {
		cmds[i] = pipe.Exists(ctx, s.k.dest(dest)+":dlv:"+id)
	}
	if len(dests) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return "", err
		}
	}
	for i, c := range cmds {
		if c.Val() == 1 {
			return dests[i], nil
		}
	}
	return "", store.ErrNotFound
}
