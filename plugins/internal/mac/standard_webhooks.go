package mac

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate/gateway/config/spec"
	"github.com/hookgate/hookgate/plugins"
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
// one key.
type StandardWebhooks struct {
	key []byte
}

// NewStandardWebhooks builds a StandardWebhooks from the Secret attribute
// attr. A bad secret is a *spec.AttrError naming attr.
func NewStandardWebhooks(v spec.Values, attr string) (*StandardWebhooks, error) {
	s, err := Secret(v, attr)
	if err != nil {
		return nil, err
	}
	key, err := DecodeSecret(s.Reveal())
	if err != nil {
		return nil, spec.Errorf(attr, "%v", err)
	}
	return &StandardWebhooks{key: key}, nil
}

// Sign sets webhook-id, webhook-timestamp and webhook-signature on h.
func (s *StandardWebhooks) Sign(h http.Header, id string, ts time.Time, body []byte) {
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, Signature(s.key, id, ts.Unix(), body))
}

// Verify checks the headers on h against body: the timestamp must lie
// within tolerance of now, either way, and one v1 entry of the signature
// list must match; other versions are ignored. The svix-* headers are read
// when no webhook-* header is present.
func (s *StandardWebhooks) Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
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
			return plugins.Refuse("missing %s header", n)
		}
	}
	id, ts, sigs := vals[0], vals[1], vals[2]
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts[0] == '+' || ts[0] == '-' {
		return plugins.Refuse("%s header is not a Unix time in seconds", names[1])
	}
	// time.Time.Sub saturates, so an absurd timestamp is simply out of range.
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return plugins.Refuse("timestamp outside the tolerance")
	}
	want := sum(s.key, id, ts, body)
	found := false
	for _, entry := range strings.Fields(sigs) {
		version, b64, _ := strings.Cut(entry, ",")
		if version != "v1" {
			continue
		}
		found = true
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return plugins.Refuse("no v1 signature in %s header", names[2])
	}
	return plugins.Refuse("signature does not match")
}
