package routing

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/internal/config"
	"github.com/hookgate/hookgate/internal/rules"
	"github.com/hookgate/hookgate/plugins"
)

// Request is one webhook as a simulation takes it: `hookgate test` and
// `hookgate plan` ask what the gateway would answer and deliver, without
// storing or sending anything.
type Request struct {
	Header http.Header
	// Body is the body as sent (a form's fields when the source takes
	// forms).
	Body []byte
	// Verify checks the signature as ingest does; without it the check is
	// skipped (recorded events and test files carry no signature).
	Verify bool
	// Now is the time a signature's timestamp is judged at.
	Now time.Time
}

// Outcome is what the gateway would answer a request and deliver.
type Outcome struct {
	// Status is the sender's answer: 202 accepted (or the source's
	// respond status), 200 a handshake answered, 400 not JSON, 401 not
	// verified, 415 a media type the source does not take, 422 rejected.
	Status int
	// Accepted reports an event the gateway would store and route.
	Accepted bool
	// Error is the answer's error, for a 4xx.
	Error string
	// Fields are the schema problems of a 422.
	Fields []rules.Problem
	// Answer is a handshake's answer (200), or the respond block's body.
	Answer []byte
	// EventType is the event's type, when it was evaluated.
	EventType string
	// Event is the event as stored: a form's fields as JSON, else the
	// body.
	Event []byte
	// Result is the evaluation (nil unless the event got that far).
	Result *Result
}

// Deliveries returns the deliveries an accepted event gets.
func (o *Outcome) Deliveries() []Delivery {
	if !o.Accepted || o.Result == nil {
		return nil
	}
	return o.Result.Deliveries()
}

// Simulate runs ingest's decisions on req arriving at src, in ingest's
// order (media type, signature, the provider's and the source's
// handshakes, schema, routes), short of storing and delivering.
func Simulate(src *config.Source, req Request) Outcome {
	h := req.Header
	if h == nil {
		h = http.Header{}
	}
	body := req.Body
	mt := ""
	if ct := h.Get("Content-Type"); ct != "" {
		if m, _, err := mime.ParseMediaType(ct); err == nil {
			mt = m
		} else {
			mt = strings.ToLower(strings.TrimSpace(strings.Split(ct, ";")[0]))
		}
	}
	if mt != "" && !src.Accepts(mt) {
		return Outcome{Status: http.StatusUnsupportedMediaType,
			Error: fmt.Sprintf("Content-Type %q is not accepted here; send one of: %s", mt, strings.Join(src.ContentTypes, ", "))}
	}
	// Without a Content-Type, a body that is not JSON is a form when the
	// source declares it takes forms (a test file's or a recorded form).
	form := mt == config.ContentForm || (mt == "" && takesForms(src) && !json.Valid(body))
	verified := false
	if req.Verify && src.Verifier != nil {
		if err := src.Verifier.Verify(&plugins.Request{Method: http.MethodPost, Header: h, Body: body}, req.Now); err != nil {
			return Outcome{Status: http.StatusUnauthorized, Error: err.Error()}
		}
		verified = true
	}
	if c, ok := src.Verifier.(plugins.Challenger); ok && (verified || !req.Verify) {
		if answer, ok := c.Challenge(body); ok {
			return Outcome{Status: http.StatusOK, Answer: answer}
		}
	}
	if form {
		b, err := FormJSON(body)
		if err != nil {
			return Outcome{Status: http.StatusBadRequest, Error: "the body is not a form: " + err.Error()}
		}
		body = b
	}
	out := Outcome{Event: body}
	res, err := Evaluate(src, h, body)
	switch {
	case errors.Is(err, ErrNotJSON):
		out.Status, out.Error = http.StatusBadRequest, err.Error()
	case err != nil:
		out.Status, out.Error = http.StatusInternalServerError, "cannot evaluate the event: "+err.Error()
	case res.Challenge != nil:
		out.Status, out.Answer = http.StatusOK, res.Challenge
	case res.UnknownEvent:
		out.Status, out.Error, out.Fields = http.StatusUnprocessableEntity, res.UnknownEventError(src), res.Problems
	case len(res.Problems) > 0:
		out.Status, out.Error, out.Fields = http.StatusUnprocessableEntity, "the event does not match its schema", res.Problems
	default:
		out.Status, out.Accepted = http.StatusAccepted, true
		if r := src.Respond; r != nil {
			out.Status, out.Answer = r.Status, r.Body
		}
	}
	if res != nil {
		out.EventType, out.Result = res.EventType, res
	}
	return out
}

// takesForms reports whether src declares forms, or takes them without a
// content_types list because its provider posts them (twilio).
func takesForms(src *config.Source) bool {
	if src.ContentTypes == nil {
		fp, ok := src.Verifier.(plugins.FormPoster)
		return ok && fp.PostsForms()
	}
	return slices.Contains(src.ContentTypes, config.ContentForm)
}
