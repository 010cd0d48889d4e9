package sign_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate/plugins"
	_ "github.com/hookgate/hookgate/plugins/sign"
	"github.com/hookgate/hookgate/secret"
	"github.com/hookgate/hookgate/spec"
)

// A destination with sign "standard_webhooks" adds three headers to each
// delivery; `hookgate sink -secret` checks them with the same plugin.
func Example_standardWebhooks() {
	p, _ := plugins.Default.Lookup(plugins.KindSign, "standard_webhooks")
	s, err := p.New(spec.Values{"secret": {V: secret.New("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")}})
	if err != nil {
		fmt.Println(err)
		return
	}
	sent := time.Unix(1614265330, 0)
	m := plugins.Message{ID: "msg_p5jXN8AQM9LWM0D4loKWxJek", Timestamp: sent, Body: []byte(`{"test": 2432232314}`)}
	h := http.Header{}
	s.(plugins.Signer).Sign(h, m)
	for _, k := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		fmt.Printf("%s: %s\n", k, h.Get(k))
	}

	checker := s.(plugins.Checker)
	fmt.Println("received at once:", checker.Check(h, m.Body, sent.Add(2*time.Second)))
	fmt.Println("replayed an hour later:", checker.Check(h, m.Body, sent.Add(time.Hour)))
	// Output:
	// webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek
	// webhook-timestamp: 1614265330
	// webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
	// received at once: <nil>
	// replayed an hour later: unauthorized: timestamp outside the tolerance
}
