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

import "github.com/hookgate/hookgate/spec"

// secretAttr is the secret attribute of a plugin that also takes secrets:
// one of the two is required, which the constructor checks
// (mac.Secrets), so neither is Required in the spec.
func secretAttr(doc, example string) spec.Attr {
	return spec.Attr{Name: "secret", Kind: spec.Secret, Example: example,
		Doc: doc + " Required unless `secrets` is set."}
}

// secretsAttr is the secrets attribute that rotates a secret in.
var secretsAttr = spec.Attr{Name: "secrets", Kind: spec.SecretList, Instead: "secret",
	Example: `[env("NEW_SECRET"), env("OLD_SECRET")]`,
	Doc: "Instead of `secret`, while a secret is rotated: a request signed with any of them is accepted. " +
		"`hookgate send` signs with the first, so put the new one first."}

// toleranceAttr is the tolerance attribute of a scheme whose signed
// timestamp is read from header.
func toleranceAttr(header string) spec.Attr {
	return spec.Attr{Name: "tolerance", Kind: spec.Duration, Default: "5m", Example: `"5m"`,
		Doc: "How far " + header + " may lie from the gateway's clock, in the past or the future; older or newer requests are refused as replays."}
}
