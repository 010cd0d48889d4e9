package sign

import (
	"time"

	"github.com/hookgate/hookgate/plugins/internal/mac"
	"github.com/hookgate/hookgate/spec"
)

// The attributes of a signer's secret being rotated out.
const (
	attrPreviousSecret = "previous_secret"
	attrPreviousUntil  = "previous_until"
)

// previousAttrs are the attributes every signer takes to rotate its secret
// out: the old secret and the time until which it signs too. how says what
// receivers see meanwhile.
func previousAttrs(how string) []spec.Attr {
	return []spec.Attr{
		{Name: attrPreviousSecret, Kind: spec.Secret,
			Doc: "The secret being replaced by secret, while receivers move to the new one: until previous_until each delivery also carries a signature made with it (" +
				how + "), so a receiver still holding it keeps accepting deliveries. Requires previous_until.",
			Example: `env("PARTNER_OLD_SECRET")`},
		{Name: attrPreviousUntil, Kind: spec.String,
			Doc: "When deliveries stop carrying the previous_secret signature: an RFC 3339 time, judged against each attempt's own timestamp. " +
				"Requires previous_secret; remove both once it has passed.",
			Example: `"2030-07-01T00:00:00Z"`},
	}
}

// previous is a signer's secret being rotated out: until until, messages
// also carry a signature made with key.
type previous struct {
	key   []byte
	until time.Time
}

// newPrevious reads previous_secret and previous_until from v; key turns
// the secret into its HMAC key (its message never holds the secret). It
// returns nil when neither is set, and a *spec.AttrError when one is set
// without the other, the secret is empty or the time does not parse.
func newPrevious(v spec.Values, key func(string) ([]byte, error)) (*previous, error) {
	hasSecret, hasUntil := v.IsSet(attrPreviousSecret), v.IsSet(attrPreviousUntil)
	switch {
	case !hasSecret && !hasUntil:
		return nil, nil
	case !hasUntil:
		return nil, spec.Errorf(attrPreviousSecret, "needs previous_until, the RFC 3339 time until which deliveries also carry its signature, such as \"2030-07-01T00:00:00Z\"")
	case !hasSecret:
		return nil, spec.Errorf(attrPreviousUntil, "needs previous_secret, the secret being rotated out; without one there is nothing to sign with until then: remove previous_until")
	}
	s, err := mac.Secret(v, attrPreviousSecret)
	if err != nil {
		return nil, err
	}
	k, err := key(s.Reveal())
	if err != nil {
		return nil, spec.Errorf(attrPreviousSecret, "%v", err)
	}
	raw := v.String(attrPreviousUntil)
	until, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return nil, spec.Errorf(attrPreviousUntil, "%q is not an RFC 3339 time; write a date, a time and a zone, such as \"2030-07-01T00:00:00Z\"", raw)
	}
	return &previous{key: k, until: until}, nil
}

// active reports whether a message signed at t also carries the previous
// signature: p is set and t is before its end. It is false on a nil p.
func (p *previous) active(t time.Time) bool { return p != nil && t.Before(p.until) }

// rawKey is the HMAC key of a secret used as it is written.
func rawKey(s string) ([]byte, error) { return []byte(s), nil }
