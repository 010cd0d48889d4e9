// Package deploy holds no code: it is the folder of hookgate's deployment
// files (a config for a container or a host, the systemd unit, the
// Kubernetes manifests) and of the tests that check them against the code:
// the ports and probe paths the admin and ingest servers really serve, the
// signals `hookgate run` handles, the shutdown timeout the config sets, the
// store's path on the volume, and the Dockerfile's own build command.
//
// It must not be imported; the repository's Dockerfile and docs/deploying.md
// describe what is here.
package deploy
