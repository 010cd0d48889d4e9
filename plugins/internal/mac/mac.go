// Package mac holds the signature math that the verify and sign plugins
// share, so that what hookgate checks and what it signs cannot drift apart:
// an HMAC of the raw body carried in one header (verify "hmac", sign "hmac"),
// the Standard Webhooks scheme (verify and sign "standard_webhooks"), and the
// checks on the attributes they have in common (secrets, header names).
//
// Its refusals wrap plugins.ErrUnauthorized and never carry a secret or an
// expected signature. It must not register plugins nor know the config file
// beyond the attribute names it is handed.
package mac

import (
	"cmp"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net/http"
	"slices"
	"strings"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// Algorithms are the hash functions an HMAC can use, by the names a user
// writes in the algorithm attribute.
var Algorithms = []string{"sha1", "sha256", "sha512"}

// Encodings are the ways a MAC can be written in a header, by the names a
// user writes in the encoding attribute.
var Encodings = []string{"hex", "base64"}

// Hash returns the hash function named alg, one of Algorithms.
func Hash(alg string) (func() hash.Hash, bool) {
	switch alg {
	case "sha1":
		return sha1.New, true
	case "sha256":
		return sha256.New, true
	case "sha512":
		return sha512.New, true
	}
	return nil, false
}

// Encode writes b in the encoding named enc: "base64" is standard padded
// base64, anything else lower-case hex.
func Encode(enc string, b []byte) string {
	if enc == "base64" {
		return base64.StdEncoding.EncodeToString(b)
	}
	return hex.EncodeToString(b)
}

// Decode reads s written in the encoding named enc, the inverse of Encode.
// Hex is read in either case.
func Decode(enc, s string) ([]byte, error) {
	if enc == "base64" {
		return base64.StdEncoding.DecodeString(s)
	}
	return hex.DecodeString(s)
}

// BodyMAC is an HMAC of the exact body bytes, encoded and carried in one
// header, possibly after a fixed prefix such as "sha256=" (GitHub). It holds
// one key or several (rotation): the first signs, any verifies.
type BodyMAC struct {
	header  string
	keys    [][]byte
	newHash func() hash.Hash
	enc     string
	prefix  string
	// list accepts a header holding several signatures separated by
	// commas, each written as it would be alone (a signer rotating its
	// secret out sends "<new>,<old>"); a provider's fixed scheme holds one.
	list bool
}

// ListSeparator separates the signatures of a BodyMAC header that holds
// several, while a signer rotates its secret out: "sha256=<new>,sha256=<old>".
const ListSeparator = ","

// Header is the name of the header that carries the signature.
func (m *BodyMAC) Header() string { return m.header }

// NewBodyMAC builds a BodyMAC from the attributes header, secret (or
// secrets, when the spec has it), algorithm, encoding and prefix. A bad
// attribute is a *spec.AttrError naming it.
func NewBodyMAC(v spec.Values) (*BodyMAC, error) {
	header, err := HeaderName(v, "header")
	if err != nil {
		return nil, err
	}
	secrets, _, err := Secrets(v, "secret", "secrets")
	if err != nil {
		return nil, err
	}
	alg := v.String("algorithm")
	newHash, ok := Hash(alg)
	if !ok {
		return nil, spec.Errorf("algorithm", "%q is not one of %s", alg, strings.Join(Algorithms, ", "))
	}
	enc := v.String("encoding")
	if !slices.Contains(Encodings, enc) {
		return nil, spec.Errorf("encoding", "%q is not one of %s", enc, strings.Join(Encodings, ", "))
	}
	prefix, err := HeaderValue(v, "prefix")
	if err != nil {
		return nil, err
	}
	m := NewFixedBodyMAC(header, prefix, enc, newHash, RawKeys(secrets))
	m.list = !strings.Contains(prefix, ListSeparator)
	return m, nil
}

// NewFixedBodyMAC builds the BodyMAC of a provider's fixed scheme: the
// header, the prefix (possibly empty), the encoding (one of Encodings), the
// hash function and the keys, the first of which signs. keys must not be
// empty.
func NewFixedBodyMAC(header, prefix, enc string, newHash func() hash.Hash, keys [][]byte) *BodyMAC {
	return &BodyMAC{header: header, keys: keys, newHash: newHash, enc: enc, prefix: prefix}
}

func (m *BodyMAC) sum(key, body []byte) []byte {
	h := hmac.New(m.newHash, key)
	h.Write(body)
	return h.Sum(nil)
}

// Sign sets the MAC header for body on h, made with the first key.
func (m *BodyMAC) Sign(h http.Header, body []byte) {
	h.Set(m.header, m.prefix+Encode(m.enc, m.sum(m.keys[0], body)))
}

// SignAlso appends to the MAC header on h, after a comma, the signature of
// body made with key: the signature of a previous secret while it is rotated
// out. Call it after Sign.
func (m *BodyMAC) SignAlso(h http.Header, body []byte, key []byte) {
	h.Set(m.header, h.Get(m.header)+ListSeparator+m.prefix+Encode(m.enc, m.sum(key, body)))
}

// With returns a copy of m that also accepts signatures made with key.
func (m *BodyMAC) With(key []byte) *BodyMAC {
	c := *m
	c.keys = append(slices.Clip(m.keys), key)
	return &c
}

// Verify checks the MAC header on h against body, in constant time. The
// prefix is matched without regard to case. When m accepts a list, any of
// the comma-separated signatures in the header may match.
func (m *BodyMAC) Verify(h http.Header, body []byte) error {
	_, err := m.Match(h, body)
	return err
}

// Match is Verify that also returns the index of the key that matched.
func (m *BodyMAC) Match(h http.Header, body []byte) (int, error) {
	v := strings.TrimSpace(h.Get(m.header))
	if v == "" {
		return -1, plugins.Refuse("missing %s header", m.header)
	}
	entries := []string{v}
	if m.list {
		entries = strings.Split(v, ListSeparator)
	}
	var candidates [][]byte
	var refusal error
	for _, e := range entries {
		rest, ok := CutPrefixFold(strings.TrimSpace(e), m.prefix)
		if !ok {
			refusal = cmp.Or(refusal, plugins.Refuse("%s header does not start with %q", m.header, m.prefix))
			continue
		}
		got, err := Decode(m.enc, rest)
		if err != nil {
			refusal = cmp.Or(refusal, plugins.Refuse("%s header is not %s", m.header, m.enc))
			continue
		}
		candidates = append(candidates, got)
	}
	if len(candidates) == 0 {
		return -1, refusal
	}
	i := Match(m.keys, candidates, func(key []byte) []byte { return m.sum(key, body) })
	if i < 0 {
		return -1, plugins.Refuse("signature does not match")
	}
	return i, nil
}

// CutPrefixFold is strings.CutPrefix without regard to case: scheme
// prefixes such as "Bearer " or "sha256=" are written either way by senders.
func CutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

// Secret returns the Secret attribute attr, refusing an empty one: an unset
// environment variable read with a default of "" must not turn into a
// verifier that accepts an empty key.
func Secret(v spec.Values, attr string) (secret.Secret, error) {
	s := v.Secret(attr)
	if s.Empty() {
		return s, spec.Errorf(attr, "must not be empty; set it with env(\"NAME\")")
	}
	return s, nil
}

// HeaderName returns the String attribute attr, refusing anything that is not
// an HTTP header name (an RFC 9110 token).
func HeaderName(v spec.Values, attr string) (string, error) {
	name := v.String(attr)
	if name == "" {
		return "", spec.Errorf(attr, "must not be empty; write a header name such as \"X-Signature\"")
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return "", spec.Errorf(attr, "%q is not a valid HTTP header name; use letters, digits and dashes, such as \"X-Signature\"", name)
		}
	}
	return name, nil
}

// HeaderValue returns the String attribute attr, refusing what cannot appear
// in an HTTP header value.
func HeaderValue(v spec.Values, attr string) (string, error) {
	s := v.String(attr)
	if !ValidHeaderValue(s) {
		return "", spec.Errorf(attr, "%q cannot appear in an HTTP header; remove line breaks and other control characters", s)
	}
	return s, nil
}

// isTokenChar reports whether c may appear in an RFC 9110 token.
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// ValidHeaderValue reports whether s has no control characters (other than
// tab), so it can be sent in a header unchanged.
func ValidHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
