package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
)

// Program is a compiled expression. It is immutable and safe for concurrent
// use.
type Program struct {
	src  string
	prog *vm.Program
	// headers says whether the expression reads $headers (or $env), so
	// that an Input converts its headers only for programs that need them.
	headers bool
}

// Source returns the expression's source, as given to Compile.
func (p *Program) Source() string { return p.src }

// Input is one event as expressions see it. Its variables (a map of the
// payload's top-level fields plus $body, $headers, $source and $event) are
// built on the first run and reused by every program run on it, so build
// one Input per event and run every program on it. An Input is used by one
// goroutine at a time. Source and Event may be set between runs (Event is
// often known only after event_type ran); Body and Headers must not change
// after the first run. Body is never modified.
type Input struct {
	Body    any               // the payload, as encoding/json decodes it
	Headers map[string]string // lower-case names, as HeaderMap returns
	Source  string
	Event   string
	// Extra are further `$` variables a caller defines, by name with its
	// `$` (the dead-letter filter's $status, $error…); read on the first
	// run only.
	Extra map[string]any

	vars       map[string]any
	source     string // Source as vars holds it
	event      string // Event as vars holds it
	hasHeaders bool   // vars holds $headers
}

// noHeaders is $headers when an Input has none; expressions cannot modify
// it.
var noHeaders = map[string]any{}

// variables returns the expression variables, built once.
func (in *Input) variables(headers bool) map[string]any {
	if in.vars == nil {
		body, _ := in.Body.(map[string]any)
		// Room for the four `$` variables, $headers included, so that
		// adding it later does not grow the map. (Up to 8 entries, a map
		// is one allocation.)
		vars := make(map[string]any, len(body)+4)
		for k, v := range body {
			vars[k] = v
		}
		for k, v := range in.Extra {
			vars[k] = v
		}
		vars[varBody] = in.Body
		vars[varSource] = in.Source
		vars[varEvent] = in.Event
		in.vars, in.source, in.event = vars, in.Source, in.Event
	}
	if in.Source != in.source {
		in.vars[varSource], in.source = in.Source, in.Source
	}
	if in.Event != in.event {
		in.vars[varEvent], in.event = in.Event, in.Event
	}
	if headers && !in.hasHeaders {
		// A map[string]any, not the map[string]string itself: a missing
		// header must read as nil, so that `$headers['x'] ?? y` works.
		h := noHeaders
		if len(in.Headers) > 0 {
			h = make(map[string]any, len(in.Headers))
			for k, v := range in.Headers {
				h[k] = v
			}
		}
		in.vars[varHeaders], in.hasHeaders = h, true
	}
	return in.vars
}

// HeaderMap turns request headers into the $headers map: names lower-case,
// several values joined with ", ".
func HeaderMap(h http.Header) map[string]string {
	m := make(map[string]string, len(h))
	for name, values := range h {
		if len(values) == 0 {
			continue
		}
		name = strings.ToLower(name)
		v := strings.Join(values, ", ")
		if prev, ok := m[name]; ok {
			// Only a header map built by hand holds one name in two cases.
			v = prev + ", " + v
		}
		m[name] = v
	}
	return m
}

// vms recycles expr-lang virtual machines: a VM is not safe for concurrent
// use but is reusable, and reusing its stack saves allocations per run.
var vms = sync.Pool{New: func() any { return new(vm.VM) }}

// Eval runs the program on in and returns its result. A payload field the
// event lacks is nil; reading a field of a missing object is an error
// (write data?.platform when data is optional).
func (p *Program) Eval(in *Input) (any, error) {
	vars := in.variables(p.headers)
	machine := vms.Get().(*vm.VM)
	out, err := machine.Run(p.prog, vars)
	vms.Put(machine)
	if err != nil {
		return nil, p.runError(err)
	}
	return out, nil
}

// runError makes an expr-lang run-time error one line: the expression, the
// message and the position in the expression.
func (p *Program) runError(err error) error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return fmt.Errorf("rules: %q: %w", p.src, err)
	}
	msg, _, _ := strings.Cut(fe.Message, "\n")
	line, col := position(p.src, fe.From)
	return fmt.Errorf("rules: %q: %s at %d:%d", p.src, msg, line, col)
}

// Bool runs the program for a verdict (a filter, a challenge's when). A nil
// result is false; any other non-boolean result is an error.
func (p *Program) Bool(in *Input) (bool, error) {
	out, err := p.Eval(in)
	if err != nil {
		return false, err
	}
	switch v := out.(type) {
	case bool:
		return v, nil
	case nil:
		return false, nil
	}
	return false, fmt.Errorf("rules: %q produced %s, not a boolean", p.src, articleOf(out))
}

// String runs the program for a string (an event type, a dedupe key). A
// string result is returned as is, nil is "", a number is written without an
// exponent when whole (950, not 9.5e+02), anything else as fmt prints it.
func (p *Program) String(in *Input) (string, error) {
	out, err := p.Eval(in)
	if err != nil {
		return "", err
	}
	switch v := out.(type) {
	case string:
		return v, nil
	case nil:
		return "", nil
	case bool:
		return strconv.FormatBool(v), nil
	case int:
		return strconv.Itoa(v), nil
	case float64:
		return formatNumber(v), nil
	}
	return fmt.Sprint(out), nil
}

// JSON runs the program and encodes its result as compact JSON: a
// transform's output body. Object keys are sorted; <, > and & are written as
// they are, not escaped for HTML.
func (p *Program) JSON(in *Input) ([]byte, error) {
	out, err := p.Eval(in)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("rules: %q: encode result: %w", p.src, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
