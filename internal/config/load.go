package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// Loader loads config files. Its zero value uses the default plugin registry,
// the process environment and the wall clock.
type Loader struct {
	// Registry holds the verify and sign plugins; nil means plugins.Default.
	Registry *plugins.Registry
	// LookupEnv reads environment variables for env(); nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Now stamps Config.LoadedAt; nil means time.Now.
	Now func() time.Time

	parser *hclparse.Parser
}

// Load reads, decodes and compiles the config file at path. On any error the
// Config is nil and the diagnostics say everything that is wrong.
func (l *Loader) Load(path string) (*Config, hcl.Diagnostics) {
	src, err := readConfig(path)
	if err != nil {
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read config file",
			Detail:   fmt.Sprintf("%s: %v", path, unwrapPathError(err)),
		}}
	}
	return l.LoadBytes(src, path)
}

// readConfig reads the file at path, or as much of it as shows that it is
// larger than MaxConfigSize.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxConfigSize+1))
}

// LoadBytes decodes and compiles src as if read from filename (used for
// diagnostics and to resolve relative paths).
func (l *Loader) LoadBytes(src []byte, filename string) (*Config, hcl.Diagnostics) {
	cfg, diags, _ := l.load(src, filename)
	return cfg, diags
}

// load is LoadBytes, also returning the compiler (nil when src did not
// parse), whose counters tests read.
func (l *Loader) load(src []byte, filename string) (*Config, hcl.Diagnostics, *compiler) {
	if len(src) > MaxConfigSize {
		start := hcl.Pos{Line: 1, Column: 1}
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Config file too large",
			Detail:   fmt.Sprintf("The file has %d bytes; a config may have at most %d (1 MiB).", len(src), MaxConfigSize),
			Subject:  &hcl.Range{Filename: filename, Start: start, End: start},
		}}, nil
	}
	if l.parser == nil {
		l.parser = hclparse.NewParser()
	}
	file, diags := l.parser.ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	c := &compiler{
		reg:     l.Registry,
		baseDir: filepath.Dir(filename),
		cfg: &Config{
			File:         filename,
			sourceByName: map[string]*Source{},
			sourceByPath: map[string]*Source{},
			destByName:   map[string]*Destination{},
			routeByName:  map[string]*Route{},
		},
		schemas: map[string]*rules.Schema{},
	}
	if c.reg == nil {
		c.reg = plugins.Default
	}
	lookup := l.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	c.ctx = &hcl.EvalContext{Functions: functions(c.baseDir, lookup, c.cfg.recordFile)}
	sum := sha256.Sum256(src)
	c.cfg.Hash = hex.EncodeToString(sum[:])
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	c.cfg.LoadedAt = now()

	diags = append(diags, c.compile(file.Body)...)
	sortDiagnostics(diags)
	if diags.HasErrors() {
		c.cfg.Close()
		return nil, diags, c
	}
	c.cfg.blocks = blockDigests(src, file.Body)
	return c.cfg, diags, c
}

// Files returns the files parsed so far, by name, for printing diagnostics
// with their source lines.
func (l *Loader) Files() map[string]*hcl.File {
	if l.parser == nil {
		return nil
	}
	return l.parser.Files()
}

// compiler holds the state of one load.
type compiler struct {
	reg     *plugins.Registry
	baseDir string
	ctx     *hcl.EvalContext
	cfg     *Config
	diags   hcl.Diagnostics

	schemas map[string]*rules.Schema
	// suggestWork counts the names compared for "Did you mean"
	// suggestions; see suggestBudget.
	suggestWork int
	// sorted caches namesOf.
	sorted map[string][]string
	// destSpec caches destinationSpec.
	destSpec *spec.Block
	// seen holds where each name of each block type was first declared.
	seen map[string]map[string]hcl.Range
}

// namesOf returns the sorted keys of m, the blocks of type what, computed
// once per load: every block of a type is compiled before anything refers
// to one, and a file with thousands of unknown references would otherwise
// sort the names once for each.
func namesOf[V any](c *compiler, what string, m map[string]V) []string {
	if l, ok := c.sorted[what]; ok {
		return l
	}
	if c.sorted == nil {
		c.sorted = map[string][]string{}
	}
	c.sorted[what] = slices.Sorted(maps.Keys(m))
	return c.sorted[what]
}

// declared returns where the names of blocks of type what were declared.
func (c *compiler) declared(what string) map[string]hcl.Range {
	if c.seen == nil {
		c.seen = map[string]map[string]hcl.Range{}
	}
	if c.seen[what] == nil {
		c.seen[what] = map[string]hcl.Range{}
	}
	return c.seen[what]
}

func (c *compiler) add(ds ...*hcl.Diagnostic) { c.diags = append(c.diags, ds...) }

func (c *compiler) errorf(subject hcl.Range, summary, format string, args ...any) {
	c.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject.Ptr()})
}

func (c *compiler) warnf(subject hcl.Range, summary, format string, args ...any) {
	c.add(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, args...), Subject: subject.Ptr()})
}

// decode decodes a block's body against b, reporting into c.
func (c *compiler) decode(body hcl.Body, b *spec.Block, def hcl.Range) (spec.Values, hcl.Blocks) {
	vals, blocks, ds := spec.DecodeBody(body, b, c.ctx, def)
	c.add(ds...)
	return vals, blocks
}

// single reports all but the first of blocks as duplicates and returns the
// first, or nil.
func (c *compiler) single(blocks hcl.Blocks, what string) *hcl.Block {
	if len(blocks) == 0 {
		return nil
	}
	for _, b := range blocks[1:] {
		c.errorf(b.DefRange, fmt.Sprintf("Duplicate %s block", what),
			"Only one %s block is allowed here. Previous definition was at %s.", what, rangeString(blocks[0].DefRange))
	}
	return blocks[0]
}

func (c *compiler) compile(body hcl.Body) hcl.Diagnostics {
	content, diags := body.Content(rootSchema)
	c.add(diags...)
	groups := byType(content.Blocks)
	c.gateway(c.single(groups["gateway"], "gateway"))
	c.storage(c.single(groups["storage"], "storage"))
	c.telemetry(c.single(groups["telemetry"], "telemetry"))

	for _, b := range groups["schema"] {
		c.schema(b)
	}
	for _, b := range groups["source"] {
		c.source(b)
	}
	for _, b := range groups["destination"] {
		c.destination(b)
	}
	used := map[string]bool{}
	for _, b := range groups["route"] {
		if r := c.route(b); r != nil {
			for _, d := range r.Destinations {
				used[d.Name] = true
			}
		}
	}
	c.checkKeys()
	for _, b := range groups["alert"] {
		c.alert(b, used)
	}
	if !c.diags.HasErrors() {
		for _, d := range c.cfg.Destinations {
			if !used[d.Name] {
				c.warnf(d.Range, "Unused destination", "No route sends to destination %q.", d.Name)
			}
		}
	}
	return c.diags
}

// byType groups blocks by their type.
func byType(blocks hcl.Blocks) map[string]hcl.Blocks {
	m := map[string]hcl.Blocks{}
	for _, b := range blocks {
		m[b.Type] = append(m[b.Type], b)
	}
	return m
}

// checkName reports a duplicate name among blocks of one type.
func (c *compiler) checkName(b *hcl.Block, what string, seen map[string]hcl.Range) bool {
	name := b.Labels[0]
	if prev, dup := seen[name]; dup {
		c.errorf(b.LabelRanges[0], fmt.Sprintf("Duplicate %s %q", what, name),
			"Each %s needs its own name. Previous definition was at %s.", what, rangeString(prev))
		return false
	}
	if !c.validLabel(b, what) {
		return false
	}
	seen[name] = b.DefRange
	return true
}

// validLabel reports a block name that is not a valid name.
func (c *compiler) validLabel(b *hcl.Block, what string) bool {
	if !validName(b.Labels[0]) {
		c.errorf(b.LabelRanges[0], fmt.Sprintf("Invalid %s name", what),
			"%q is not a valid name: use letters, digits, underscores, dots and dashes, starting with a letter.", b.Labels[0])
		return false
	}
	return true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		if i == 0 && !letter {
			return false
		}
		if !letter && !(r >= '0' && r <= '9') && r != '_' && r != '-' && r != '.' {
			return false
		}
	}
	return true
}

func (c *compiler) gateway(b *hcl.Block) {
	var body hcl.Body = hcl.EmptyBody()
	def := hcl.Range{Filename: c.cfg.File, Start: hcl.InitialPos, End: hcl.InitialPos}
	if b != nil {
		body, def = b.Body, b.DefRange
		r := b.DefRange
		c.cfg.gatewayRange = &r
	}
	v, _ := c.decode(body, gatewayBlock, def)
	g := Gateway{
		Listen:          v.String("listen"),
		AdminListen:     v.String("admin_listen"),
		AdminToken:      v.Secret("admin_token"),
		MaxBody:         v.Size("max_body"),
		Workers:         v.Int("workers"),
		MaxInFlight:     v.Int("max_in_flight"),
		ShutdownTimeout: v.Duration("shutdown_timeout"),
	}
	if _, ok := v["listen"]; ok {
		c.checkAddr(g.Listen, "listen", v.Range("listen"))
	}
	if _, ok := v["admin_listen"]; ok && c.checkAddr(g.AdminListen, "admin_listen", v.Range("admin_listen")) {
		if g.AdminToken.Empty() && !loopback(g.AdminListen) {
			c.errorf(v.Range("admin_listen"), "Admin API exposed without a token",
				"admin_listen %q is reachable from other machines, but admin_token is empty. Set admin_token = env(\"HOOKGATE_ADMIN_TOKEN\"), or listen on 127.0.0.1.", g.AdminListen)
		}
	}
	if _, ok := v["listen"]; ok && g.Listen == g.AdminListen && !strings.HasSuffix(g.Listen, ":0") {
		c.errorf(v.Range("admin_listen"), "Invalid admin_listen", "The admin server needs its own address; %q is also the ingest listen address.", g.AdminListen)
	}
	if _, ok := v["max_body"]; ok && g.MaxBody <= 0 {
		c.errorf(v.Range("max_body"), "Invalid max_body", "max_body must be more than zero bytes.")
	}
	if _, ok := v["workers"]; ok && g.Workers < 1 {
		c.errorf(v.Range("workers"), "Invalid workers", "workers must be at least 1.")
	}
	if _, ok := v["max_in_flight"]; ok && g.MaxInFlight < 1 {
		c.errorf(v.Range("max_in_flight"), "Invalid max_in_flight", "max_in_flight must be at least 1.")
	}
	c.cfg.Gateway = g
}

func (c *compiler) checkAddr(addr, attr string, rng hcl.Range) bool {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = net.LookupPort("tcp", port)
	}
	if err != nil {
		c.errorf(rng, fmt.Sprintf("Invalid %s", attr), "%q is not a host:port address, such as \"127.0.0.1:8080\" or \":8080\".", addr)
		return false
	}
	_ = host
	return true
}

// loopback reports whether addr only listens on the loopback interface.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *compiler) storage(b *hcl.Block) {
	c.cfg.Storage = Storage{Kind: "embedded", Path: c.abs("data/hookgate.db"), Retention: 72 * time.Hour}
	if b == nil {
		return
	}
	switch b.Labels[0] {
	case "embedded":
		v, _ := c.decode(b.Body, embeddedStorageBlock, b.DefRange)
		c.cfg.Storage = Storage{Kind: "embedded", Path: c.abs(v.String("path")), Retention: v.Duration("retention")}
		c.checkRetention(v)
		if v.String("path") == "" {
			c.errorf(v.Range("path"), "Invalid path", "The embedded store needs a file path.")
		}
	case "redis":
		v, _ := c.decode(b.Body, redisStorageBlock, b.DefRange)
		c.cfg.Storage = Storage{Kind: "redis", URL: v.Secret("url"), Prefix: v.String("prefix"), Retention: v.Duration("retention")}
		c.checkRetention(v)
		if _, ok := v["url"]; ok {
			u, err := url.Parse(v.Secret("url").Reveal())
			if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") || (u.Host == "" && u.Scheme != "unix") {
				// The URL may carry a password: never echo it.
				c.errorf(v.Range("url"), "Invalid url", "The Redis url must look like redis://host:port/db (or rediss:// for TLS).")
			}
		}
	default:
		c.errorf(b.LabelRanges[0], "Unknown storage kind",
			"There is no storage kind %q; use \"embedded\" or \"redis\".%s", b.Labels[0], c.didYouMean(b.Labels[0], []string{"embedded", "redis"}))
	}
}

// checkRetention refuses a zero retention, which would have the cleanup
// delete records as soon as they finish (negative ones do not parse).
func (c *compiler) checkRetention(v spec.Values) {
	if v.IsSet("retention") && v.Duration("retention") <= 0 {
		c.errorf(v.Range("retention"), "Invalid retention", "retention must be longer than zero, such as \"72h\": finished records are kept that long for inspection and replay.")
	}
}

func (c *compiler) abs(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.baseDir, p)
}

func (c *compiler) telemetry(b *hcl.Block) {
	var body hcl.Body = hcl.EmptyBody()
	def := hcl.Range{Filename: c.cfg.File}
	if b != nil {
		body, def = b.Body, b.DefRange
	}
	v, _ := c.decode(body, telemetryBlock, def)
	c.cfg.Telemetry = Telemetry{ServiceName: v.String("service_name"), OTLPEndpoint: v.String("otlp_endpoint"), SampleRatio: v.Number("sample_ratio")}
	if r := c.cfg.Telemetry.SampleRatio; r < 0 || r > 1 {
		c.errorf(v.Range("sample_ratio"), "Invalid sample_ratio", "sample_ratio must be between 0 and 1; %v is not.", r)
	}
	if e := c.cfg.Telemetry.OTLPEndpoint; e != "" {
		if _, err := ParseOTLPEndpoint(e); err != nil {
			c.errorf(v.Range("otlp_endpoint"), "Invalid otlp_endpoint", "%s: %s.", shownEndpoint(e), err)
		}
	}
}

func (c *compiler) schema(b *hcl.Block) {
	if !c.checkName(b, "schema", c.declared("schema")) {
		return
	}
	_, blocks := c.decode(b.Body, schemaBlock, b.DefRange)
	s := &rules.Schema{Name: b.Labels[0], Fields: c.fields(blocks)}
	c.schemas[s.Name] = s
	c.cfg.Schemas = append(c.cfg.Schemas, s)
}

func (c *compiler) fields(blocks hcl.Blocks) []*rules.Field {
	var out []*rules.Field
	seen := map[string]hcl.Range{}
	for _, fb := range blocks {
		if fb.Type != "field" {
			continue
		}
		name := fb.Labels[0]
		if prev, dup := seen[name]; dup {
			c.errorf(fb.LabelRanges[0], fmt.Sprintf("Duplicate field %q", name), "Previous definition was at %s.", rangeString(prev))
			continue
		}
		seen[name] = fb.DefRange
		v, nested := c.decode(fb.Body, fieldBlockWithNested, fb.DefRange)
		typ, _ := rules.ParseType(v.String("type"))
		f := &rules.Field{Name: name, Type: typ, Optional: v.Bool("optional"), Enum: v.ValueList("enum"), Description: v.String("description")}
		if len(nested) > 0 {
			if typ != rules.TypeObject && typ != rules.TypeArray && typ != "" {
				c.errorf(nested[0].DefRange, "Nested field in a non-object field",
					"Field %q is of type %s; only object and array fields may declare nested fields.", name, typ)
			}
			f.Fields = c.fields(nested)
		}
		if len(f.Enum) > 0 {
			c.checkEnum(f, v.Range("enum"))
		}
		out = append(out, f)
	}
	return out
}

// fieldBlockWithNested is fieldBlock allowing nested field blocks.
var fieldBlockWithNested = func() *spec.Block {
	b := *fieldBlock
	b.Blocks = []*spec.Block{fieldBlock}
	return &b
}()

func (c *compiler) checkEnum(f *rules.Field, rng hcl.Range) {
	for _, e := range f.Enum {
		switch e.(type) {
		case string:
			if f.Type != rules.TypeString && f.Type != rules.TypeAny && f.Type != rules.TypeTimestamp {
				c.errorf(rng, "Invalid enum", "Field %q is of type %s, but its enum holds the string %q.", f.Name, f.Type, e)
				return
			}
		case float64:
			if f.Type != rules.TypeNumber && f.Type != rules.TypeInteger && f.Type != rules.TypeAny {
				c.errorf(rng, "Invalid enum", "Field %q is of type %s, but its enum holds the number %v.", f.Name, f.Type, e)
				return
			}
			if f.Type == rules.TypeInteger && e.(float64) != math.Trunc(e.(float64)) {
				c.errorf(rng, "Invalid enum", "Field %q is an integer, but its enum holds %v.", f.Name, e)
				return
			}
		}
	}
}

func (c *compiler) source(b *hcl.Block) {
	if !c.checkName(b, "source", c.declared("source")) {
		return
	}
	v, blocks := c.decode(b.Body, sourceBlock, b.DefRange)
	s := &Source{Name: b.Labels[0], Path: v.String("path"), Range: b.DefRange, AcceptUnknown: true}
	c.cfg.sourceByName[s.Name] = s
	c.cfg.Sources = append(c.cfg.Sources, s)

	if _, ok := v["path"]; ok {
		switch {
		case !strings.HasPrefix(s.Path, "/"):
			c.errorf(v.Range("path"), "Invalid path", "A source path starts with a slash, such as \"/in/%s\".", s.Name)
		case strings.HasPrefix(s.Path, "/api/") || strings.ContainsAny(s.Path, "?# "):
			c.errorf(v.Range("path"), "Invalid path", "%q cannot be a source path: no query, fragment or spaces.", s.Path)
		default:
			if prev := c.cfg.sourceByPath[s.Path]; prev != nil {
				c.errorf(v.Range("path"), "Duplicate source path",
					"Sources %q and %q both listen on %s; each source needs its own path. Previous definition was at %s.", prev.Name, s.Name, s.Path, rangeString(prev.Range))
			} else {
				c.cfg.sourceByPath[s.Path] = s
			}
		}
	}

	if e := v.Expr("event_type"); v.IsSet("event_type") {
		s.EventType = c.program(e, "event_type", rules.DynamicEnv(), rules.StringResult)
	}
	if m := v.StringMap("schemas"); len(m) > 0 {
		if !v.IsSet("event_type") {
			c.errorf(v.Range("schemas"), "Schemas without event_type",
				"Source %q maps event types to schemas, but has no event_type expression to tell an event's type, such as event_type = \"type\".", s.Name)
		}
		s.Schemas = map[string]*rules.Schema{}
		items := mapItemRanges(b.Body, "schemas")
		for event, name := range m {
			rng := v.Range("schemas")
			if r, ok := items[event]; ok {
				rng = r.Value
			}
			sch, ok := c.schemas[name]
			if !ok {
				c.errorf(rng, "Unknown schema", "There is no schema named %q.%s", name, c.didYouMean(name, namesOf(c, "schema", c.schemas)))
				continue
			}
			s.Schemas[event] = sch
		}
		s.AcceptUnknown = v.String("unknown_events") == "accept"
	} else if v.IsSet("unknown_events") {
		c.warnf(v.Range("unknown_events"), "unknown_events without schemas", "Source %q has no schemas, so every event is accepted; unknown_events has no effect.", s.Name)
	}

	groups := byType(blocks)
	if vb := c.single(groups["verify"], "verify"); vb != nil {
		s.VerifyPlugin = vb.Labels[0]
		if p := c.plugin(plugins.KindVerify, vb); p != nil {
			if ver, ok := p.(plugins.Verifier); ok {
				s.Verifier = ver
			} else {
				c.errorf(vb.LabelRanges[0], "Invalid verify plugin", "Plugin verify.%s does not verify requests.", vb.Labels[0])
			}
		}
	} else {
		s.VerifyPlugin = "none"
		if p, ok := c.reg.Lookup(plugins.KindVerify, "none"); ok {
			if ver, err := p.New(spec.Values{}); err == nil {
				s.Verifier, _ = ver.(plugins.Verifier)
			}
		}
		c.warnf(b.DefRange, "Source accepts unsigned webhooks",
			"Source %q has no verify block, so anyone who knows its path can send it events. Add verify \"hmac\" {...} (or token, basic_auth, standard_webhooks), or write verify \"none\" {} to say this is intended.", s.Name)
	}
	if cb := c.single(groups["challenge"], "challenge"); cb != nil {
		cv, _ := c.decode(cb.Body, challengeBlock, cb.DefRange)
		ch := &Challenge{}
		if cv.IsSet("when") {
			ch.When = c.program(cv.Expr("when"), "when", rules.DynamicEnv(), rules.BoolResult)
		}
		if cv.IsSet("respond") {
			ch.Respond = c.program(cv.Expr("respond"), "respond", rules.DynamicEnv(), rules.AnyResult)
		}
		s.Challenge = ch
	}
	if rb := c.single(groups["respond"], "respond"); rb != nil {
		rv, _ := c.decode(rb.Body, respondBlock, rb.DefRange)
		r := &Respond{Status: rv.Int("status"), Body: []byte(rv.String("body")), ContentType: rv.String("content_type")}
		if r.Status < 200 || r.Status > 299 {
			c.errorf(rv.Range("status"), "Invalid status",
				"The answer to a stored event is a 2xx status (200 to 299): the event is stored, and a sender must not be told otherwise.")
		}
		if !validHeaderValue(r.ContentType) {
			c.errorf(rv.Range("content_type"), "Invalid content_type", "content_type must be a header value: no line breaks or control characters.")
		}
		s.Respond = r
	}
	if v.IsSet("content_types") {
		s.ContentTypes = []string{}
		for _, t := range v.StringList("content_types") {
			switch t {
			case ContentJSON, ContentForm:
				if !slices.Contains(s.ContentTypes, t) {
					s.ContentTypes = append(s.ContentTypes, t)
				}
			default:
				c.errorf(v.Range("content_types"), "Unknown content type",
					"%q cannot be accepted: a source takes %q and %q.", t, ContentJSON, ContentForm)
			}
		}
		if len(s.ContentTypes) == 0 {
			c.errorf(v.Range("content_types"), "Invalid content_types", "content_types lists no type: every request would be refused.")
		}
	} else if fp, ok := s.Verifier.(plugins.FormPoster); ok && fp.PostsForms() {
		s.ContentTypes = []string{ContentJSON, ContentForm}
	}
	if db := c.single(groups["dedupe"], "dedupe"); db != nil {
		dv, _ := c.decode(db.Body, dedupeBlock, db.DefRange)
		d := &Dedupe{Window: dv.Duration("window")}
		if dv.IsSet("key") {
			d.Key = c.program(dv.Expr("key"), "key", rules.DynamicEnv(), rules.StringResult)
		}
		if d.Window <= 0 && dv.IsSet("window") {
			c.errorf(dv.Range("window"), "Invalid window", "The dedupe window must be longer than zero.")
		}
		s.Dedupe = d
	}
}

// plugin decodes and builds the plugin a verify or sign block names.
func (c *compiler) plugin(kind plugins.Kind, b *hcl.Block) any {
	name := b.Labels[0]
	p, ok := c.reg.Lookup(kind, name)
	if !ok {
		c.errorf(b.LabelRanges[0], fmt.Sprintf("Unknown %s plugin", kind),
			"There is no %s plugin named %q.%s The %s plugins are: %s.", kind, name, c.didYouMean(name, c.reg.Names(kind)), kind, strings.Join(c.reg.Names(kind), ", "))
		return nil
	}
	before := len(c.diags)
	v, _ := c.decode(b.Body, p.Block(), b.DefRange)
	if hcl.Diagnostics(c.diags[before:]).HasErrors() {
		return nil
	}
	inst, err := p.New(v)
	if err != nil {
		subject := b.DefRange
		msg := err.Error()
		var ae *spec.AttrError
		if errors.As(err, &ae) {
			if _, known := v[ae.Attr]; known {
				subject = v.Range(ae.Attr)
			}
			msg = ae.Msg
		}
		c.errorf(subject, fmt.Sprintf("Invalid %s %q", kind, name), "%s", capitalize(msg))
		return nil
	}
	return inst
}

// fromSecretSource reports whether expr reads env() or file(), where
// secrets come from.
func fromSecretSource(expr hcl.Expression) bool {
	e, ok := expr.(hclsyntax.Expression)
	if !ok {
		return false
	}
	found := false
	_ = hclsyntax.VisitAll(e, func(n hclsyntax.Node) hcl.Diagnostics {
		if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && (call.Name == "env" || call.Name == "file") {
			found = true
		}
		return nil
	})
	return found
}

func (c *compiler) destination(b *hcl.Block) {
	if !c.checkName(b, "destination", c.declared("destination")) {
		return
	}
	v, blocks := c.decode(b.Body, c.destinationSpec(), b.DefRange)
	d := &Destination{
		Name:           b.Labels[0],
		URL:            v.String("url"),
		URLSecret:      fromSecretSource(v["url"].Expr),
		Timeout:        v.Duration("timeout"),
		Headers:        http.Header{},
		MaxConcurrency: v.Int("max_concurrency"),
		AllowPrivate:   v.Bool("allow_private"),
		Range:          b.DefRange,
	}
	c.cfg.destByName[d.Name] = d
	c.cfg.Destinations = append(c.cfg.Destinations, d)
	if v.IsSet("url") {
		u, err := url.Parse(d.URL)
		switch {
		case err != nil || u.Host == "":
			shown := strconv.Quote(d.URL)
			if d.URLSecret {
				shown = "The value given" // it may be a credential
			}
			c.errorf(v.Range("url"), "Invalid url", "%s is not an absolute URL, such as \"https://example.com/hooks\".", shown)
		case u.Scheme != "http" && u.Scheme != "https":
			c.errorf(v.Range("url"), "Invalid url", "Destinations are reached over http or https, not %q.", u.Scheme)
		case u.User != nil:
			c.errorf(v.Range("url"), "Invalid url", "Put credentials in headers or a sign block, not in the URL, where they would show in logs.")
		}
	}
	if v.IsSet("timeout") && d.Timeout <= 0 {
		c.errorf(v.Range("timeout"), "Invalid timeout", "A delivery timeout must be longer than zero.")
	}
	if v.IsSet("max_concurrency") && d.MaxConcurrency < 1 {
		c.errorf(v.Range("max_concurrency"), "Invalid max_concurrency", "max_concurrency must be at least 1.")
	}
	headers := v.StringMap("headers")
	items := mapItemRanges(b.Body, "headers")
	for _, k := range slices.Sorted(maps.Keys(headers)) {
		keyRng, valRng := v.Range("headers"), v.Range("headers")
		if it, ok := items[k]; ok {
			keyRng, valRng = it.Key, it.Value
		}
		if !validHeaderName(k) {
			c.errorf(keyRng, "Invalid header name", "%q is not a valid HTTP header name: use letters, digits and - (no spaces, colons or line breaks).", k)
			continue
		}
		// A value with a line break would never be sent: the HTTP client
		// refuses it, so every attempt would fail. The value may be a
		// credential, so it is not shown.
		if !validHeaderValue(headers[k]) {
			c.errorf(valRng, "Invalid header value", "The value of header %q holds a line break or another control character, which an HTTP header cannot carry.", k)
			continue
		}
		d.Headers.Set(k, headers[k])
	}
	if r := v.Rate("rate_limit"); r.Count > 0 {
		d.RatePerSecond = r.PerSecond()
		d.RateBurst = int(math.Max(1, math.Ceil(d.RatePerSecond)))
		if d.RateBurst > r.Count {
			d.RateBurst = r.Count
		}
	}

	d.Retry = Retry{Jitter: 0.1}
	for _, s := range DefaultRetrySchedule {
		dur, _ := spec.ParseDuration(s)
		d.Retry.Schedule = append(d.Retry.Schedule, dur)
	}
	groups := byType(blocks)
	c.destinationKind(d, b, v, groups)
	c.health(d, v, groups["breaker"])
	if sb := c.single(groups["sign"], "sign"); sb != nil {
		d.SignPlugin = sb.Labels[0]
		if p := c.plugin(plugins.KindSign, sb); p != nil {
			if s, ok := p.(plugins.Signer); ok {
				d.Signer = s
			} else {
				c.errorf(sb.LabelRanges[0], "Invalid sign plugin", "Plugin sign.%s does not sign deliveries.", sb.Labels[0])
			}
		}
	}
	if rb := c.single(groups["retry"], "retry"); rb != nil {
		rv, _ := c.decode(rb.Body, retryBlock, rb.DefRange)
		if rv.IsSet("schedule") {
			d.Retry.Schedule = rv.DurationList("schedule")
			ranges := listItemRanges(rb.Body, "schedule", len(d.Retry.Schedule))
			for i, s := range d.Retry.Schedule {
				switch {
				case s <= 0:
					c.errorf(ranges[i], "Invalid schedule", "Every retry delay must be longer than zero.")
				case s > MaxRetryDelay:
					c.errorf(ranges[i], "Invalid schedule", "A retry delay can be at most %s (7 days); %s is longer.", fmtDuration(MaxRetryDelay), fmtDuration(s))
				}
			}
		}
		d.Retry.Jitter = rv.Number("jitter")
	}
}

// validHeaderValue reports whether s can be sent as a header value: no
// control characters but horizontal tab (RFC 9110, field-value).
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// fmtDuration writes d the way a user would: "168h" rather than "168h0m0s".
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r > 127 || !(r == '-' || r == '_' || r == '!' || r == '#' || r == '$' || r == '%' || r == '&' || r == '\'' ||
			r == '*' || r == '+' || r == '.' || r == '^' || r == '`' || r == '|' || r == '~' ||
			r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func (c *compiler) route(b *hcl.Block) *Route {
	if !c.checkName(b, "route", c.declared("route")) {
		return nil
	}
	before := len(c.diags)
	v, blocks := c.decode(b.Body, routeBlock, b.DefRange)
	r := &Route{Name: b.Labels[0], Enabled: v.Bool("enabled"), Range: b.DefRange}
	c.cfg.routeByName[r.Name] = r

	// Sources.
	var names []string
	var ranges []hcl.Range
	switch {
	case v.IsSet("source") && v.IsSet("sources"):
		c.errorf(v.Range("sources"), "Both source and sources", "Route %q sets both source and sources; use source for one, sources for several.", r.Name)
	case v.IsSet("source"):
		names, ranges = []string{v.String("source")}, []hcl.Range{v.Range("source")}
	case v.IsSet("sources"):
		names, ranges = v.StringList("sources"), listItemRanges(b.Body, "sources", len(v.StringList("sources")))
	default:
		c.errorf(b.DefRange, "Route without a source", "Route %q needs source = \"NAME\" or sources = [...] to say whose events it takes.", r.Name)
	}
	for i, n := range names {
		s := c.cfg.sourceByName[n]
		if s == nil {
			c.errorf(ranges[i], "Unknown source", "There is no source named %q.%s", n, c.didYouMean(n, namesOf(c, "source", c.cfg.sourceByName)))
			continue
		}
		r.Sources = append(r.Sources, s)
	}

	// Events.
	if v.IsSet("events") {
		r.Events = v.StringList("events")
		if r.Events == nil {
			r.Events = []string{}
		}
		eranges := listItemRanges(b.Body, "events", len(r.Events))
		var known []string
		declared := map[string]bool{}
		open := false
		for _, s := range r.Sources {
			if s.AcceptUnknown {
				open = true
			}
			for _, k := range slices.Sorted(maps.Keys(s.Schemas)) {
				if !declared[k] {
					declared[k] = true
					known = append(known, k)
				}
			}
		}
		for i, e := range r.Events {
			if !open && !declared[e] {
				c.errorf(eranges[i], "Unknown event type",
					"No source of route %q declares event type %q.%s", r.Name, e, c.didYouMean(e, known))
			}
		}
	}

	// Destinations.
	dnames := v.StringList("destinations")
	dranges := listItemRanges(b.Body, "destinations", len(dnames))
	if v.IsSet("destinations") && len(dnames) == 0 {
		c.errorf(v.Range("destinations"), "Route without destinations", "Route %q sends to no destination; name at least one.", r.Name)
	}
	for i, n := range dnames {
		d := c.cfg.destByName[n]
		if d == nil {
			c.errorf(dranges[i], "Unknown destination", "There is no destination named %q.%s", n, c.didYouMean(n, namesOf(c, "destination", c.cfg.destByName)))
			continue
		}
		r.Destinations = append(r.Destinations, d)
	}

	// Expressions, typed against the schemas of the route's events when
	// every (source, event) pair has one.
	env, typed := c.routeEnv(r)
	r.Typed = typed
	if v.IsSet("filter") {
		r.Filter = c.program(v.Expr("filter"), "filter", env, rules.BoolResult)
	}
	if v.IsSet("transform") {
		r.Transform = c.program(v.Expr("transform"), "transform", env, rules.AnyResult)
	}
	r.Ordering = c.ordering(blocks, env)
	if hcl.Diagnostics(c.diags[before:]).HasErrors() {
		return nil
	}
	c.cfg.Routes = append(c.cfg.Routes, r)
	if r.Enabled {
		for _, s := range r.Sources {
			s.Routes = append(s.Routes, r)
		}
	}
	return r
}

// routeEnv returns the expression environment of route r: typed against the
// schemas of its events when all are known, dynamic otherwise.
func (c *compiler) routeEnv(r *Route) (*rules.Env, bool) {
	if len(r.Sources) == 0 {
		return rules.DynamicEnv(), false
	}
	var schemas []*rules.Schema
	for _, s := range r.Sources {
		if len(s.Schemas) == 0 {
			return rules.DynamicEnv(), false
		}
		if r.Events == nil {
			if s.AcceptUnknown {
				return rules.DynamicEnv(), false
			}
			for _, e := range slices.Sorted(maps.Keys(s.Schemas)) {
				schemas = append(schemas, s.Schemas[e])
			}
			continue
		}
		for _, e := range r.Events {
			sch, ok := s.Schemas[e]
			if !ok {
				if s.AcceptUnknown {
					return rules.DynamicEnv(), false
				}
				continue // this source never yields e
			}
			schemas = append(schemas, sch)
		}
	}
	if len(schemas) == 0 {
		return rules.DynamicEnv(), false
	}
	return rules.SchemaEnv(schemas...), true
}

// program compiles an expression attribute, mapping expr-lang's errors into
// the attribute's range.
func (c *compiler) program(e spec.ExprSource, attr string, env *rules.Env, want rules.Result) *rules.Program {
	if strings.TrimSpace(e.Src) == "" {
		c.errorf(e.Range, fmt.Sprintf("Empty %s", attr), "The %s expression is empty; remove the attribute or write an expression.", attr)
		return nil
	}
	p, err := rules.Compile(e.Src, env, want)
	if err == nil {
		return p
	}
	ce, ok := err.(*rules.CompileError)
	if !ok {
		c.errorf(e.Range, fmt.Sprintf("Invalid %s", attr), "%s", capitalize(err.Error()))
		return nil
	}
	subject := e.Range
	detail := capitalize(ce.Msg)
	if e.Start.Line > 0 && ce.Line == 1 {
		// Column counts characters of the expression; Byte needs bytes.
		runes := []rune(e.Src)
		off := len(string(runes[:min(ce.Column-1, len(runes))]))
		start := hcl.Pos{Line: e.Start.Line, Column: e.Start.Column + ce.Column - 1, Byte: e.Start.Byte + off}
		end := hcl.Pos{Line: start.Line, Column: start.Column + 1, Byte: start.Byte + 1}
		subject = hcl.Range{Filename: e.Range.Filename, Start: start, End: end}
	} else {
		detail = fmt.Sprintf("%s (line %d, column %d of the expression)", detail, ce.Line, ce.Column)
	}
	c.add(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("Invalid %s", attr), Detail: detail, Subject: &subject, Context: e.Range.Ptr()})
	return nil
}

// itemRange is where one item of an object constructor stands.
type itemRange struct{ Key, Value hcl.Range }

// mapItemRanges returns the ranges of each key and value of an object
// constructor attribute, by key, for pointing at one item among several.
func mapItemRanges(body hcl.Body, attr string) map[string]itemRange {
	out := map[string]itemRange{}
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return out
	}
	a, ok := sb.Attributes[attr]
	if !ok {
		return out
	}
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return out
	}
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || k.IsNull() || !k.IsKnown() {
			continue
		}
		if s, err := ctyString(k); err == nil {
			out[s] = itemRange{Key: item.KeyExpr.Range(), Value: item.ValueExpr.Range()}
		}
	}
	return out
}

// listItemRanges returns the range of each element of a list attribute, or
// the attribute's range for each when they cannot be told apart.
func listItemRanges(body hcl.Body, attr string, n int) []hcl.Range {
	out := make([]hcl.Range, n)
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return out
	}
	a, ok := sb.Attributes[attr]
	if !ok {
		return out
	}
	for i := range out {
		out[i] = a.Expr.Range()
	}
	if tup, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tup.Exprs) == n {
		for i, e := range tup.Exprs {
			out[i] = e.Range()
		}
	}
	return out
}

func rangeString(r hcl.Range) string {
	return fmt.Sprintf("%s:%d,%d", r.Filename, r.Start.Line, r.Start.Column)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") {
		s += "."
	}
	return s
}
