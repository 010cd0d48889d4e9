// Package rules owns what hookgate decides about one event without touching
// the outside world: schema checks (Schema.Validate, the 422 answer's
// fields), and expr-lang expressions compiled once at load time and run per
// event — a source's event_type, challenge and dedupe key, a route's filter
// and transform — and Schema.Sample, a payload made from a schema (the test
// event of a destination test).
//
// Compile type-checks an expression against an Env: SchemaEnv when the
// events' schemas are known, so a misspelt field, a wrong type or a string
// literal outside a field's enum is a CompileError with a line and column
// inside the expression, not a runtime surprise; DynamicEnv when they are
// not. A Program is immutable and safe for concurrent use; an Input carries
// one event and builds its variables once, however many programs run on it.
//
// The package is pure: no I/O, no HCL, no HTTP serving, no logging, no clock
// other than expr-lang's own now(). Mapping a CompileError into a config
// file's range, choosing which schemas apply where, and what to do with a
// verdict (answer 422, store, deliver) belong to the config loader and the
// gateway, not here.
package rules
