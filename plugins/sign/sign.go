// Package sign holds hookgate's built-in signers, the plugins of a
// destination's sign block: standard_webhooks and hmac.
//
// Each is one file that registers itself in init() as "sign.<name>" and
// builds a value that is both a plugins.Signer and a plugins.Checker, so
// `hookgate sink -secret` checks deliveries exactly the way they are signed.
// The signature math lives in plugins/internal/mac, shared with the
// verifiers in plugins/verify so the two cannot drift apart.
//
// This package must not know the config file, the delivery loop or the
// store; a signer only adds headers to a message it is handed.
package sign
