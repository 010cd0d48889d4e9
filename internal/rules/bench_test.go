package rules

import (
	"testing"
)

// typicalHeaders are what a Ylytic delivery carries, as HeaderMap returns
// them.
var typicalHeaders = map[string]string{
	"content-type":    "application/json",
	"user-agent":      "Ylytic-Webhooks/1.0",
	"x-signature":     "5d41402abc4b2a76b9719d911017c592b1e0f7e6a6b3c8d1e2f3a4b5c6d7e8f9",
	"accept-encoding": "gzip",
	"content-length":  "118",
	"x-request-id":    "7c9e6679-7425-40de-944b-e07fc1f90ae7",
}

// benchRun runs p on a fresh Input per iteration, built from an
// already-decoded body, as ingest does for every event.
func benchRun(b *testing.B, p *Program, run func(*Program, *Input) error) {
	b.Helper()
	body := mustReadEvent(b, "ylytic_creator_insights.json")
	b.ReportAllocs()
	for b.Loop() {
		in := &Input{Body: body, Headers: typicalHeaders, Source: "ylytic", Event: "creator_insights"}
		if err := run(p, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFilter(b *testing.B) {
	p := mustCompile(b, specFilter, SchemaEnv(creatorInsights()), BoolResult)
	benchRun(b, p, func(p *Program, in *Input) error {
		ok, err := p.Bool(in)
		if err == nil && !ok {
			b.Fatal("filter did not match")
		}
		return err
	})
}

func BenchmarkFilterHeaders(b *testing.B) {
	p := mustCompile(b, "$headers['content-type'] == 'application/json' && "+specFilter, SchemaEnv(creatorInsights()), BoolResult)
	benchRun(b, p, func(p *Program, in *Input) error {
		_, err := p.Bool(in)
		return err
	})
}

func BenchmarkTransform(b *testing.B) {
	p := mustCompile(b, specTransform, SchemaEnv(creatorInsights()), AnyResult)
	benchRun(b, p, func(p *Program, in *Input) error {
		_, err := p.JSON(in)
		return err
	})
}

func BenchmarkValidate(b *testing.B) {
	s := creatorInsights()
	body := mustReadEvent(b, "ylytic_creator_insights.json")
	b.ReportAllocs()
	for b.Loop() {
		if p := s.Validate(body); p != nil {
			b.Fatal(p)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	env := SchemaEnv(creatorInsights())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(specFilter, env, BoolResult); err != nil {
			b.Fatal(err)
		}
	}
}
