package mac

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/plugins"
	"github.com/hookgate/hookgate/spec"
)

// The Standard Webhooks headers (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// svixPrefix names the headers Svix sends, the origin of the standard; they
// are read when no webhook-* header is present.
const svixPrefix = "svix-"

// SecretPrefix marks a Standard Webhooks secret whose key is the base64
// that follows it.
const SecretPrefix = "whsec_"

// DecodeSecret returns the key of a Standard Webhooks secret: the base64
// after "whsec_", or the raw bytes of any other secret. The error never
// contains the secret.
func DecodeSecret(s string) ([]byte, error) {
	b64, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return []byte(s), nil
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("the part after \"whsec_\" is not valid base64; copy the whole secret, or drop the prefix to use the value as a raw key")
	}
	if len(key) == 0 {
		return nil, errors.New("the part after \"whsec_\" is empty")
	}
	return key, nil
}

// Signature returns the Standard Webhooks signature "v1,<base64>" of body
// sent as message id at Unix time ts.
func Signature(key []byte, id string, ts int64, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(sum(key, id, strconv.FormatInt(ts, 10), body))
}

// sum is the HMAC-SHA256 of the signed content id.timestamp.body, with the
// timestamp as written in the header.
func sum(key []byte, id, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// StandardWebhooks signs and checks messages the Standard Webhooks way with
// one key or several (rotation): the first signs, any verifies.
type StandardWebhooks struct {
	keys [][]byte
}

// NewStandardWebhooks builds a StandardWebhooks from the Secret attribute
// attr, or from the SecretList attribute attr+"s" when the spec has it
// (secret, secrets). A bad secret is a *spec.AttrError naming the attribute.
func NewStandardWebhooks(v spec.Values, attr string) (*StandardWebhooks, error) {
	secrets, from, err := Secrets(v, attr, attr+"s")
	if err != nil {
		return nil, err
	}
	sw := &StandardWebhooks{}
	for i, s := range secrets {
		key, err := DecodeSecret(s.Reveal())
		if err != nil {
			if len(secrets) > 1 || from != attr {
				return nil, spec.Errorf(from, "the secret at index %d (counting from 0): %v", i, err)
			}
			return nil, spec.Errorf(from, "%v", err)
		}
		sw.keys = append(sw.keys, key)
	}
	return sw, nil
}

// Sign sets webhook-id, webhook-timestamp and webhook-signature on h.
func (s *StandardWebhooks) Sign(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Signature(s.keys[0], id, ts.Unix(), body))
}

// SignAlso appends to the webhook-signature list on h, after a space, the
// signature made with key: the signature of a previous secret while it is
// rotated out, as the Standard Webhooks list allows. Call it after Sign.
func (s *StandardWebhooks) SignAlso(h http.Header, id string, ts time.Time, body []byte, key []byte) {
	h.Set(HeaderSignature, h.Get(HeaderSignature)+" "+Signature(key, id, ts.Unix(), body))
}

// With returns a copy of s that also accepts signatures made with key.
func (s *StandardWebhooks) With(key []byte) *StandardWebhooks {
	return &StandardWebhooks{keys: append(slices.Clip(s.keys), key)}
}

// Verify checks the headers on h against body: the timestamp must lie
// within tolerance of now, either way, and one v1 entry of the signature
// list must match; other versions are ignored. The svix-* headers are read
// when no webhook-* header is present.
func (s *StandardWebhooks) Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	_, err := s.Match(h, body, now, tolerance)
	return err
}

// Match is Verify that also returns the index of the key that matched.
func (s *StandardWebhooks) Match(h http.Header, body []byte, now time.Time, tolerance time.Duration) (int, error) {
	names := [3]string{HeaderID, HeaderTimestamp, HeaderSignature}
	if h.Get(HeaderID) == "" && h.Get(HeaderTimestamp) == "" && h.Get(HeaderSignature) == "" &&
		h.Get(svixPrefix+"id") != "" {
		for i, n := range names {
			names[i] = svixPrefix + strings.TrimPrefix(n, "webhook-")
		}
	}
	var vals [3]string
	for i, n := range names {
		if vals[i] = strings.TrimSpace(h.Get(n)); vals[i] == "" {
			return -1, plugins.Refuse("missing %s header", n)
		}
	}
	id, ts, sigs := vals[0], vals[1], vals[2]
	if err := CheckTimestamp(names[1]+" header", ts, now, tolerance); err != nil {
		return -1, err
	}
	var candidates [][]byte
	found := false
	for _, entry := range strings.Fields(sigs) {
		version, b64, _ := strings.Cut(entry, ",")
		if version != "v1" {
			continue
		}
		found = true
		if got, err := base64.StdEncoding.DecodeString(b64); err == nil {
			candidates = append(candidates, got)
		}
	}
	if !found {
		return -1, plugins.Refuse("no v1 signature in %s header", names[2])
	}
	i := Match(s.keys, candidates, func(key []byte) []byte { return sum(key, id, ts, body) })
	if i < 0 {
		return -1, plugins.Refuse("signature does not match")
	}
	return i, nil
}
