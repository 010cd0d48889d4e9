// Package verify holds hookgate's built-in verifiers, the plugins of a
// source's verify block: hmac, standard_webhooks, token, basic_auth and none.
//
// Each is one file that registers itself in init() as "verify.<name>" and
// builds a value that is both a plugins.Verifier and a plugins.RequestSigner,
// so `hookgate send` signs test events exactly the way a source checks them.
// The signature math lives in plugins/internal/mac, shared with the signers
// in plugins/sign so the two cannot drift apart.
//
// This package must not know the config file, the gateway or the store.
// Refusals say what is wrong in words safe to show the sender: never a secret
// nor an expected signature.
package verify
