package mac

import (
	"crypto/hmac"
	"crypto/sha256"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// Secrets returns the secrets of a plugin that takes either one secret in
// the Secret attribute single or several in the SecretList attribute list
// (`secrets = [new, old]` while a secret is rotated), in order: the first
// signs, any of them verifies. It also returns the attribute they came from,
// for errors about one of them. A plugin whose spec has no attribute list
// takes single alone.
//
// Both set, neither set, or an empty secret is a *spec.AttrError; when
// neither is set it names single, reported at the block.
func Secrets(v spec.Values, single, list string) ([]secret.Secret, string, error) {
	_, hasList := v[list]
	switch {
	case hasList && v.IsSet(single) && v.IsSet(list):
		return nil, list, spec.Errorf(list, "set either %s or %s, not both; while rotating, put the new secret first in %s and the old one after it", single, list, list)
	case hasList && v.IsSet(list):
		l := v.SecretList(list)
		if len(l) == 0 {
			return nil, list, spec.Errorf(list, "must hold at least one secret")
		}
		for i, s := range l {
			if s.Empty() {
				return nil, list, spec.Errorf(list, "the secret at index %d (counting from 0) must not be empty; set it with env(\"NAME\")", i)
			}
		}
		return l, list, nil
	case hasList && !v.IsSet(single):
		return nil, single, spec.Errorf(single, "is required: set %s, or %s = [new, old] while rotating", single, list)
	}
	s, err := Secret(v, single)
	if err != nil {
		return nil, single, err
	}
	return []secret.Secret{s}, single, nil
}

// RawKeys returns the bytes of each secret, the HMAC keys of schemes that use
// the secret as it is written (GitHub, Shopify, Slack, Stripe).
func RawKeys(secrets []secret.Secret) [][]byte {
	keys := make([][]byte, len(secrets))
	for i, s := range secrets {
		keys[i] = []byte(s.Reveal())
	}
	return keys
}

// Sum256 is the HMAC-SHA256 under key of the parts written one after the
// other.
func Sum256(key []byte, parts ...[]byte) []byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

// Match returns the index of the first key under which sum gives one of the
// candidate MACs, comparing in constant time, or -1 when none does. Every key
// is tried against every candidate: a signature made with an old secret
// during rotation matches as surely as one made with the new.
func Match(keys [][]byte, candidates [][]byte, sum func(key []byte) []byte) int {
	for i, k := range keys {
		want := sum(k)
		for _, c := range candidates {
			if hmac.Equal(c, want) {
				return i
			}
		}
	}
	return -1
}

// Tolerance returns the Duration attribute attr, refusing zero: a zero
// tolerance would refuse every request.
func Tolerance(v spec.Values, attr string) (time.Duration, error) {
	tol := v.Duration(attr)
	if tol <= 0 {
		return 0, spec.Errorf(attr, "must be more than 0s; a zero tolerance refuses every request. The usual value is \"5m\"")
	}
	return tol, nil
}

// CheckTimestamp checks ts, a Unix time in seconds read from what (a header
// name, or a field of one), against now: it must lie within tolerance either
// way, so a replayed request (stale) and one from a clock far ahead (future)
// are both refused.
func CheckTimestamp(what, ts string, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts[0] == '+' || ts[0] == '-' {
		return plugins.Refuse("%s is not a Unix time in seconds", what)
	}
	// time.Time.Sub saturates, so an absurd timestamp is simply out of range.
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return plugins.Refuse("timestamp outside the tolerance")
	}
	return nil
}
