// Package standard registers every built-in plugin: importing it for its
// side effects (import _ ".../plugins/standard") fills plugins.Default with
// the verifiers of plugins/verify, the signers of plugins/sign and the
// destination kinds of plugins/deliver.
//
// It holds no code of its own; main and the tests that need the whole set
// import it, while a test that builds its own plugins.Registry need not.
package standard

import (
	_ "github.com/hookgate/hookgate/plugins/deliver" // destination.nats, destination.kafka, destination.rabbitmq, destination.redis_stream
	_ "github.com/hookgate/hookgate/plugins/sign"    // sign.standard_webhooks, sign.hmac
	_ "github.com/hookgate/hookgate/plugins/verify"  // verify.hmac, verify.standard_webhooks, verify.token, verify.basic_auth, verify.none
)
