package verify_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	_ "github.com/hookgate/hookgate/plugins/verify"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// A source that verifies GitHub-style signatures also signs test requests
// the same way, which is what `hookgate send` relies on.
func Example_hmac() {
	p, _ := plugins.Default.Lookup(plugins.KindVerify, "hmac")
	v, err := p.New(spec.Values{
		"header":    {V: "X-Hub-Signature-256"},
		"secret":    {V: secret.New("It's a Secret to Everybody")},
		"algorithm": {V: "sha256"},
		"encoding":  {V: "hex"},
		"prefix":    {V: "sha256="},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	body := []byte("Hello, World!")
	h := http.Header{}
	v.(plugins.RequestSigner).SignRequest(h, body, "", time.Now())
	fmt.Println("X-Hub-Signature-256:", h.Get("X-Hub-Signature-256"))

	verifier := v.(plugins.Verifier)
	fmt.Println("as sent:", verifier.Verify(&plugins.Request{Method: "POST", Header: h, Body: body}, time.Now()))
	fmt.Println("tampered:", verifier.Verify(&plugins.Request{Method: "POST", Header: h, Body: []byte("Hello, World?")}, time.Now()))
	// Output:
	// X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17
	// as sent: <nil>
	// tampered: unauthorized: signature does not match
}
