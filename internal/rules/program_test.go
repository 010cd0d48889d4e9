package rules

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// mustCompile compiles src or fails the test.
func mustCompile(tb testing.TB, src string, env *Env, want Result) *Program {
	tb.Helper()
	p, err := Compile(src, env, want)
	if err != nil {
		tb.Fatalf("Compile(%q): %v", src, err)
	}
	return p
}

// metrics adds a number field to creator_insights, for numeric filters.
func metrics() *Schema {
	s := creatorInsights()
	s.Fields = append(s.Fields, &Field{Name: "limit", Type: TypeNumber, Optional: true})
	return s
}

const (
	ylyticEvent    = `{"type":"creator_insights","status":"success","identifier":"minimuffin8888","connector":"tiktok"}`
	instagramEvent = `{"type":"creator_insights","status":"success","identifier":"x","connector":"instagram","limit":950}`
)

func TestBool(t *testing.T) {
	ylytic := SchemaEnv(metrics())
	influship := SchemaEnv(creatorUpdated())
	orders := SchemaEnv(order())
	dynamic := DynamicEnv()
	verify := map[string]string{"x-influship-event": "webhook.verify"}

	tests := []struct {
		name    string
		env     *Env
		src     string
		body    string
		headers map[string]string
		want    bool
	}{
		{name: "spec filter matches", env: ylytic, src: specFilter, body: ylyticEvent, want: true},
		{name: "spec filter misses", env: ylytic, src: specFilter, body: instagramEvent, want: false},
		{name: "spec filter dynamic", env: dynamic, src: specFilter, body: ylyticEvent, want: true},
		{name: "float field, int literal", env: ylytic, src: "limit > 900", body: instagramEvent, want: true},
		{name: "float field equals int literal", env: ylytic, src: "limit == 950 && limit < 950.5", body: instagramEvent, want: true},
		{name: "optional absent is nil", env: ylytic, src: "status_reason == nil && limit == nil", body: ylyticEvent, want: true},
		{name: "optional absent default", env: ylytic, src: "(limit ?? 0) < 1", body: ylyticEvent, want: true},
		{name: "optional absent compared with a string", env: ylytic,
			src: "status_reason != 'Private Account' && !(status_reason == 'Invalid Handle')", body: ylyticEvent, want: true},
		{name: "field named like a builtin", env: SchemaEnv(&Schema{Fields: []*Field{{Name: "len", Type: TypeString}}}),
			src: "len == 'short'", body: `{"len":"short"}`, want: true},
		{name: "optional chaining", env: influship, src: "data?.platform == 'tiktok'", body: `{"event":"x"}`, want: false},
		{name: "challenge when", env: influship, src: specChallenge, body: `{"challenge":"c"}`, headers: verify, want: true},
		{name: "challenge when, no headers", env: influship, src: specChallenge, body: `{"challenge":"c"}`, want: false},
		{name: "challenge when dynamic", env: dynamic, src: specChallenge, body: `{}`, headers: verify, want: true},
		{name: "source and event", env: ylytic, src: "$event == 'creator_insights' && $source == 'ylytic'", body: ylyticEvent, want: true},
		{name: "now", env: ylytic, src: "now() > date('2020-01-01T00:00:00Z')", body: ylyticEvent, want: true},
		{name: "nested and array", env: influship, src: "data.platform == 'instagram' && 'followers' in data.updated_fields",
			body: `{"event":"creator.updated","timestamp":"2025-03-14T09:26:53Z","data":{"creator_id":"c","platform":"instagram","username":"u","updated_fields":["followers"]}}`,
			want: true},
		{name: "predicate over elements", env: orders, src: "any(items, .qty >= 2) && all(items, .sku != '')",
			body: `{"items":[{"sku":"a","qty":1},{"sku":"b","qty":2}]}`, want: true},
		{name: "dynamic missing field is nil", env: dynamic, src: "followers == nil", body: ylyticEvent, want: true},
		{name: "dynamic nil result is false", env: dynamic, src: "followers", body: ylyticEvent, want: false},
		{name: "body that is not an object", env: dynamic, src: "len($body) == 2 && $body[0] == 1", body: `[1, 2]`, want: true},
		{name: "payload field named like a variable", env: dynamic, src: "$source == 'ylytic'", body: `{"$source":"forged"}`, want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src, tt.env, BoolResult)
			in := &Input{Body: mustDecode(t, tt.body), Headers: tt.headers, Source: "ylytic", Event: "creator_insights"}
			got, err := p.Bool(in)
			if err != nil {
				t.Fatalf("Bool: %v", err)
			}
			if got != tt.want {
				t.Errorf("Bool = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		body string
		want string // a part of the error
	}{
		{name: "field of a missing object", src: "data.platform == 'tiktok'", body: `{}`,
			want: `rules: "data.platform == 'tiktok'": cannot fetch platform from <nil> at 1:`},
		{name: "not a boolean", src: "connector", body: ylyticEvent, want: "invalid operation: bool(string)"},
		{name: "ordering nil", src: "followers > 10", body: ylyticEvent, want: "invalid operation: <nil> > int"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src, DynamicEnv(), BoolResult)
			_, err := p.Bool(&Input{Body: mustDecode(t, tt.body)})
			if err == nil {
				t.Fatal("Bool: no error")
			}
			if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error = %q, want one line containing %q", err, tt.want)
			}
		})
	}
}

func TestString(t *testing.T) {
	dynamic := DynamicEnv()
	tests := []struct {
		name    string
		env     *Env
		src     string
		body    string
		headers map[string]string
		want    string
	}{
		{name: "event_type", env: SchemaEnv(creatorInsights()), src: "type", body: ylyticEvent, want: "creator_insights"},
		{name: "whole number", env: dynamic, src: "order_id", body: `{"order_id":1042}`, want: "1042"},
		{name: "large whole number", env: dynamic, src: "n", body: `{"n":1e21}`, want: "1000000000000000000000"},
		{name: "fraction", env: dynamic, src: "total", body: `{"total":19.99}`, want: "19.99"},
		{name: "int literal", env: dynamic, src: "7", body: `{}`, want: "7"},
		{name: "boolean", env: dynamic, src: "paid", body: `{"paid":true}`, want: "true"},
		{name: "nil", env: dynamic, src: "missing", body: `{}`, want: ""},
		{name: "dedupe from header", env: dynamic, src: "$headers['webhook-id'] ?? $body.id", body: `{"id":77}`,
			headers: map[string]string{"webhook-id": "msg_2b"}, want: "msg_2b"},
		{name: "dedupe from body", env: dynamic, src: "$headers['webhook-id'] ?? $body.id", body: `{"id":77}`, want: "77"},
		{name: "event", env: dynamic, src: "$event", body: `{}`, want: "creator_insights"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src, tt.env, StringResult)
			in := &Input{Body: mustDecode(t, tt.body), Headers: tt.headers, Event: "creator_insights"}
			got, err := p.String(in)
			if err != nil {
				t.Fatalf("String: %v", err)
			}
			if got != tt.want {
				t.Errorf("String = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestJSON(t *testing.T) {
	ylytic := SchemaEnv(metrics())
	tests := []struct {
		name string
		env  *Env
		src  string
		body string
		want string
	}{
		{name: "spec transform", env: ylytic, src: specTransform, body: ylyticEvent,
			want: `{"creator":"minimuffin8888","kind":"creator_insights","platform":"tiktok"}`},
		{name: "spec transform dynamic", env: DynamicEnv(), src: specTransform, body: ylyticEvent,
			want: `{"creator":"minimuffin8888","kind":"creator_insights","platform":"tiktok"}`},
		{name: "challenge respond, no HTML escaping", env: DynamicEnv(), src: "{challenge: challenge}", body: `{"challenge":"a<&>b"}`,
			want: `{"challenge":"a<&>b"}`},
		{name: "whole body, keys sorted", env: ylytic, src: "$body", body: instagramEvent,
			want: `{"connector":"instagram","identifier":"x","limit":950,"status":"success","type":"creator_insights"}`},
		{name: "numbers and absent fields", env: ylytic, src: "{n: limit, i: 1, f: 0.5, reason: status_reason}", body: instagramEvent,
			want: `{"f":0.5,"i":1,"n":950,"reason":null}`},
		{name: "array", env: ylytic, src: "[connector, $source]", body: ylyticEvent, want: `["tiktok","ylytic"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustCompile(t, tt.src, tt.env, AnyResult)
			got, err := p.JSON(&Input{Body: mustDecode(t, tt.body), Source: "ylytic"})
			if err != nil {
				t.Fatalf("JSON: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("JSON = %s, want %s", got, tt.want)
			}
		})
	}
}

// TestInputReuse runs programs one after another on one Input, as ingest
// does: event_type first, then $event is known.
func TestInputReuse(t *testing.T) {
	env := SchemaEnv(creatorInsights())
	eventType := mustCompile(t, "type", env, StringResult)
	filter := mustCompile(t, "$event == 'creator_insights' && "+specFilter, env, BoolResult)
	when := mustCompile(t, "$headers['x-team'] == 'tiktok'", env, BoolResult)

	body := mustReadEvent(t, "ylytic_creator_insights.json")
	before := fmt.Sprint(body)
	in := &Input{Body: body, Headers: map[string]string{"x-team": "tiktok"}, Source: "ylytic"}

	ok, err := filter.Bool(in)
	if err != nil || ok {
		t.Fatalf("filter before the event type = %v, %v; want false, nil", ok, err)
	}
	ev, err := eventType.String(in)
	if err != nil {
		t.Fatal(err)
	}
	in.Event = ev
	if ok, err := filter.Bool(in); err != nil || !ok {
		t.Errorf("filter after the event type = %v, %v; want true, nil", ok, err)
	}
	// $headers is converted only now, for the first program that reads it.
	if ok, err := when.Bool(in); err != nil || !ok {
		t.Errorf("when = %v, %v; want true, nil", ok, err)
	}
	if after := fmt.Sprint(body); after != before {
		t.Errorf("body changed:\n got %s\nwant %s", after, before)
	}
}

func TestHeaderMap(t *testing.T) {
	tests := []struct {
		name string
		in   http.Header
		want map[string]string
	}{
		{name: "nil", in: nil, want: map[string]string{}},
		{name: "canonical", in: http.Header{"X-Influship-Event": {"webhook.verify"}, "Webhook-Id": {"msg_1"}},
			want: map[string]string{"x-influship-event": "webhook.verify", "webhook-id": "msg_1"}},
		{name: "several values", in: http.Header{"Accept": {"a", "b"}}, want: map[string]string{"accept": "a, b"}},
		{name: "no values", in: http.Header{"X-Empty": {}}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HeaderMap(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("HeaderMap = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestConcurrent runs one Program from many goroutines, each with its own
// Inputs; run it with -race.
func TestConcurrent(t *testing.T) {
	env := SchemaEnv(creatorInsights())
	filter := mustCompile(t, specFilter, env, BoolResult)
	transform := mustCompile(t, specTransform, env, AnyResult)
	connectors := []string{"instagram", "youtube", "tiktok", "facebook"}

	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for g := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				connector := connectors[(g+i)%len(connectors)]
				body := map[string]any{"type": "creator_insights", "status": "success", "identifier": "u", "connector": connector}
				in := &Input{Body: body, Source: "ylytic"}
				ok, err := filter.Bool(in)
				if err != nil || ok != (connector == "tiktok") {
					errs <- fmt.Errorf("filter on %s = %v, %v", connector, ok, err)
					return
				}
				out, err := transform.JSON(in)
				want := `{"creator":"u","kind":"creator_insights","platform":"` + connector + `"}`
				if err != nil || string(out) != want {
					errs <- fmt.Errorf("transform on %s = %s, %v", connector, out, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
