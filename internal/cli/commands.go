package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
)

// command is one entry of the command table, at any level: a top-level
// command (run, dlq), or a subcommand (dlq replay). The table is the one
// place that knows the commands: Main dispatches through it, the
// top-level help lists it, and every flag set takes its Usage line and
// its example from it.
type command struct {
	name    string
	summary string // one line, for the list of its parent's commands
	// usage is the synopsis after "hookgate <path> " of the command's
	// flag set (a leaf, or a parent that runs on flags alone).
	usage string
	// example is one command line that uses it, printed by -h.
	example string
	// run runs the command on the arguments after its name. A parent
	// with run runs it when no subcommand is named (`hookgate events
	// -since 1h`); flagsFor says what it then does, for the error that
	// names an unknown subcommand.
	run      func(ctx context.Context, env *Env, args []string) int
	flagsFor string
	// overview, when set, is a parent's hand-written help; without it the
	// help is generated from the children.
	overview string
	children []*command
}

// root is the command table; its children are the top-level commands.
// It is built in init, since its run funcs read it (through newFlags).
var root *command

func init() {
	admin := "[-admin URL] [-token T]"
	root = &command{name: "hookgate", children: []*command{
		{name: "run", summary: "run the gateway", run: runCmd,
			usage:   "[-config F] [-watch] [-log-format text|json] [-log-level info|debug|warn|error]",
			example: "hookgate run -config config.hcl -watch"},
		{name: "validate", summary: "check a config file and print every problem", run: validateCmd,
			usage:   "[-config F]",
			example: "hookgate validate -config config.hcl"},
		{name: "fmt", summary: "format config files canonically", run: fmtCmd,
			usage:   "[-check] FILE...",
			example: "hookgate fmt -check config.hcl"},
		{name: "route", summary: "dry run: show where an event would go and the exact requests", run: routeCmd,
			usage:   "[-config F] -source NAME [-H 'K: V']... [-id ID] [-timestamp UNIX] EVENT.json",
			example: "hookgate route -source ylytic -H 'X-Ylytic-Token: dev-ylytic-token' examples/ylytic/events/creator_insights_tiktok.json"},
		{name: "plan", summary: "compare what a new config does with recorded events to what the current one does", run: planCmd,
			usage:   "-config NEW [-against CUR] (-events FILE | -since D) [-source S] [-json] " + admin,
			example: "hookgate plan -config config.new.hcl -since 24h"},
		{name: "test", summary: "run the config's *.hctest test blocks: what each event gets, pass or fail with a diff", run: testCmd,
			usage:   "[-config F] [-json] [FILE.hctest…]",
			example: "hookgate test -config examples/ylytic/config.hcl"},
		{name: "version", summary: "print hookgate's version", run: versionCmd,
			usage:   "[-json]",
			example: "hookgate version -json"},
		{name: "send", summary: "sign an event the way a source verifies and POST it to the gateway", run: sendCmd,
			usage:   "[-config F] -source NAME [-url U] [-H 'K: V']... [-timeout D] EVENT.json | -get -source NAME",
			example: "hookgate send -source ylytic examples/ylytic/events/creator_insights_tiktok.json"},
		{name: "sink", summary: "a local receiver that prints, checks and fails deliveries", run: sinkCmd,
			usage:   "[-listen ADDR] [-secret S] [-scheme standard_webhooks|hmac] [-header H] [-prefix P] [-fail N%] [-status CODE] [-quiet]",
			example: "hookgate sink -listen 127.0.0.1:9000 -fail 20%"},
		{name: "bench", summary: "load-test the gateway (or a bare relay) end to end", run: benchCmd,
			usage:   "[-config F] -source NAME [-url U] [-sink ADDR] [-consume URL] [-n N] [-c C] [-rate R] [-duration D] [-expect K] [-relay] [-json] EVENT.json | -serve-relay ADDR [-sink ADDR]",
			example: "hookgate bench -source ylytic -sink 127.0.0.1:9000 -n 10000 -c 64 examples/ylytic/events/creator_insights_tiktok.json"},

		{name: "deliveries", summary: "list deliveries, show one with its attempts, or discard one (admin API)",
			run: listDeliveriesCmd, flagsFor: "list",
			usage:   "[-status S] [-destination D] [-route R] [-source S] [-event-type E] [-since T] [-until T] [-limit N] [-cursor C] [-json] " + admin,
			example: "hookgate deliveries -status retrying -destination crm",
			children: []*command{
				{name: "show", summary: "one delivery with every attempt and the body sent", run: showDelivery,
					usage:   "ID [-json] " + admin,
					example: "hookgate deliveries show dlv_01J…"},
				{name: "discard", summary: "give up on a dead delivery that blocks its ordering key", run: discardDelivery,
					usage:   "ID " + admin,
					example: "hookgate deliveries discard dlv_01J…"},
			}},
		{name: "dlq", summary: "list, replay or export dead-lettered deliveries (admin API)",
			example: "hookgate dlq replay -destination crm",
			children: []*command{
				{name: "list", summary: "the dead deliveries, one page as a table", run: listDeadCmd,
					usage:   "[-destination D] [-route R] [-source S] [-event-type E] [-since T] [-until T] [-limit N] [-cursor C] [-json] " + admin,
					example: "hookgate dlq list -destination crm"},
				{name: "replay", summary: "make every matching dead delivery pending again", run: dlqReplay,
					usage:   "[-destination D] [-route R] [-filter EXPR] " + admin,
					example: "hookgate dlq replay -destination crm -filter '$status == 503'"},
				{name: "export", summary: "the dead deliveries with their payloads, as NDJSON", run: dlqExport,
					usage:   "[-o FILE] [-destination D] [-route R] " + admin,
					example: "hookgate dlq export -o dead.ndjson"},
			}},
		{name: "events", summary: "search, show or export accepted events (admin API)",
			run: listEvents, flagsFor: "search", overview: eventsUsage,
			usage:   "[-filter EXPR] [-since D] [-until D] [-source S] [-limit N] [-cursor C] [-json] " + admin,
			example: "hookgate events -since 1h -filter \"connector == 'tiktok' && status == 'failed'\"",
			children: []*command{
				{name: "show", summary: "one event, its headers and deliveries", run: showEvent,
					usage:   "ID [-json] " + admin,
					example: "hookgate events show evt_01J…"},
				{name: "export", summary: "NDJSON of events as received (for plan)", run: exportEvents,
					usage:   "[-since D] [-source S] [-filter EXPR] [-o FILE] " + admin,
					example: "hookgate events export -since 24h -o events.ndjson"},
				{name: "replay", summary: "route matching events again through the running config", run: replayEventsCmd,
					usage:   "(-filter EXPR | -since D) [-until D] [-source S] [-route R] [-dry-run] [-json] " + admin,
					example: "hookgate events replay -since 1h -route tiktok_team -dry-run"},
			}},
		{name: "stats", summary: "per destination: deliveries by state, success rate, latency, retries (admin API)", run: statsCmd,
			usage:   "[-since 1h|RFC3339] [-json] " + admin,
			example: "hookgate stats -since 24h"},
		{name: "backup", summary: "save a consistent snapshot of the running gateway's embedded store to a file (admin API)", run: backupCmd,
			usage:   "-o FILE [-force] " + admin,
			example: "hookgate backup -o hookgate-backup.db"},

		{name: "destinations", summary: "send a test event to a destination and show the attempt, or list its blocked ordering keys (admin API)",
			example: "hookgate destinations test crm",
			children: []*command{
				{name: "test", summary: "send a test event now and show the first attempt", run: testDestination,
					usage:   "NAME [-route R] [-event-type E] [-body FILE] [-json] " + admin,
					example: "hookgate destinations test crm -route refunds"},
				{name: "list", summary: "every destination's state: paused, breaker, concurrency", run: listDestinations,
					usage:   "[-json] " + admin,
					example: "hookgate destinations list"},
				{name: "pause", summary: "hold every delivery to a destination (ingest still accepts)", run: pauseCmd("pause"),
					usage:   "NAME [-json] " + admin,
					example: "hookgate destinations pause crm"},
				{name: "resume", summary: "deliver to a paused destination again", run: pauseCmd("resume"),
					usage:   "NAME [-json] " + admin,
					example: "hookgate destinations resume crm"},
				{name: "blocked", summary: "the ordering keys a dead delivery blocks", run: blockedKeys,
					usage:   "NAME [-json] " + admin,
					example: "hookgate destinations blocked crm"},
			}},
	}}
}

// pauseCmd is `hookgate destinations pause|resume NAME`.
func pauseCmd(action string) func(ctx context.Context, env *Env, args []string) int {
	return func(ctx context.Context, env *Env, args []string) int {
		return pauseDestination(ctx, env, action, args)
	}
}

// lookup returns the command at path ("dlq replay"), or nil.
func lookup(path string) *command {
	c := root
	for name := range strings.FieldsSeq(path) {
		if c = c.child(name); c == nil {
			return nil
		}
	}
	return c
}

// child returns c's subcommand called name, or nil.
func (c *command) child(name string) *command {
	for _, sub := range c.children {
		if sub.name == name {
			return sub
		}
	}
	return nil
}

// dispatch runs c (at path, "dlq") on args, the arguments after its name:
// a leaf runs; a parent runs the subcommand args name, prints its help
// for -h, runs itself on flags when it can, and otherwise says what
// subcommands exist.
func (c *command) dispatch(ctx context.Context, env *Env, path string, args []string) int {
	if len(c.children) == 0 {
		return c.run(ctx, env, args)
	}
	if len(args) > 0 {
		if sub := c.child(args[0]); sub != nil {
			return sub.dispatch(ctx, env, path+" "+sub.name, args[1:])
		}
		if isHelp(args[0]) {
			c.help(ctx, env, path)
			return 0
		}
	}
	if c.run != nil && (len(args) == 0 || strings.HasPrefix(args[0], "-")) {
		return c.run(ctx, env, args)
	}
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, c.synopsis(path))
		return 2
	}
	names := make([]string, len(c.children))
	for i, sub := range c.children {
		names[i] = sub.name
	}
	want := orList(names)
	if c.run != nil {
		want += ", or " + c.flagsFor + " flags"
	}
	fmt.Fprintf(env.Stderr, "hookgate %s: unknown subcommand %q (want %s)\n\n%s\n", path, args[0], want, c.synopsis(path))
	return 2
}

// synopsis is a parent's usage: its overview, or one line naming its
// subcommands.
func (c *command) synopsis(path string) string {
	if c.overview != "" {
		return c.overview
	}
	names := make([]string, len(c.children))
	for i, sub := range c.children {
		names[i] = sub.name
	}
	return fmt.Sprintf("Usage: hookgate %s %s [flags]", path, strings.Join(names, "|"))
}

// help prints a parent's -h: its usage, its subcommands, and its own
// flags and example (or its example alone when it does not run on flags).
func (c *command) help(ctx context.Context, env *Env, path string) {
	w := env.Stderr
	fmt.Fprintln(w, c.synopsis(path))
	if c.overview == "" {
		fmt.Fprintln(w, "\nSubcommands:")
		listCommands(w, c.children)
		fmt.Fprintf(w, "\nRun 'hookgate %s SUBCOMMAND -h' for a subcommand's flags and an example.\n", path)
	}
	if c.run != nil {
		fmt.Fprintln(w)
		c.run(ctx, env, []string{"-h"})
		return
	}
	printExample(w, c)
}

// listCommands prints one line per command: its name and summary, by name.
func listCommands(w io.Writer, cmds []*command) {
	sorted := slices.Clone(cmds)
	slices.SortFunc(sorted, func(a, b *command) int { return strings.Compare(a.name, b.name) })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
}

// printExample prints c's example, when it has one.
func printExample(w io.Writer, c *command) {
	if c != nil && c.example != "" {
		fmt.Fprintf(w, "\nExample:\n  %s\n", c.example)
	}
}

// orList joins names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	switch arg {
	case "-h", "-help", "--help", "help":
		return true
	}
	return false
}
