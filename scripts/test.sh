#!/usr/bin/env bash
# hookgate's whole test suite, as CI runs it. Installs what the tests need
# when it is missing, then runs formatting and vet checks, the race-enabled
# tests, a short fuzz run and the config checks on every shipped config.
#
#   ./scripts/test.sh            everything
#   FUZZTIME=1m ./scripts/test.sh   a longer run of each fuzz target
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

apt_install() {
  # apt_install PACKAGE...: install Debian packages, as root or with sudo.
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

step "tools"
if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then export PATH="/usr/local/go/bin:$PATH"; else
    echo "Go 1.26 is required: https://go.dev/dl/ (or apt-get install golang-go if new enough)" >&2; exit 1
  fi
fi
go version
# The race detector needs cgo and a C compiler.
command -v gcc >/dev/null 2>&1 || apt_install gcc libc6-dev
export CGO_ENABLED=1
# Real servers the tests start on loopback: redis-server (Redis store, cluster
# tests, redis_stream destinations), nats-server and rabbitmq-server (nats and
# rabbitmq destinations; Kafka is tested against franz-go's in-process kfake),
# Chromium (dashboard browser test), Jaeger all-in-one (tracing e2e).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"
export PATH="$(go env GOPATH)/bin:$PATH"
if ! command -v all-in-one >/dev/null 2>&1; then
  echo "installing Jaeger all-in-one v1.45.0"
  go install github.com/jaegertracing/jaeger/cmd/all-in-one@v1.45.0
fi
redis-server --version
nats-server --version
chromium --version 2>/dev/null || true
command -v all-in-one

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi
echo ok

step "go vet"
go vet ./...

step "go test -race"
go test -race -count=1 ./...

# fuzz TARGET PACKAGE TIME: go test -fuzz takes one package and one target
# per run. -fuzzminimizetime 0: the engine otherwise spends up to a minute
# minimizing each new-coverage input before it reports, which on FuzzLoad's
# kilobyte-sized configs took the whole short run (0 execs/s); a failing
# input is still written to testdata/fuzz, unminimized.
fuzz() {
  step "fuzz $1 ($3)"
  go test -run '^$' -fuzz "^$1\$" -fuzztime "$3" -fuzzminimizetime "${FUZZMINIMIZETIME:-0}" "$2"
}
fuzz FuzzLoad ./internal/config/ "${FUZZTIME:-15s}"
fuzz FuzzIngest ./internal/ingest/ "${FUZZTIME:-10s}"
for target in FuzzHMAC FuzzStandardWebhooks FuzzToken FuzzBasicAuth; do
  fuzz "$target" ./plugins/verify/ "${FUZZTIME:-5s}"
done

step "shipped configs validate and are formatted"
go build -o "${TMPDIR:-/tmp}/hookgate-ci" .
hg="${TMPDIR:-/tmp}/hookgate-ci"
configs=(config.hcl $(find examples -name '*.hcl' 2>/dev/null | sort))
for f in "${configs[@]}"; do "$hg" validate -config "$f"; done
# The deployment configs read their secrets with env() and no default: give
# them the example values (deploy/deploy_test.go checks each against the
# environment its own deployment provides).
deploy_configs=($(find deploy -name '*.hcl' | sort))
deploy_env=($(grep -v '^#' deploy/hookgate.env.example | grep =) REDIS_URL=redis://127.0.0.1:6379/0)
for f in "${deploy_configs[@]}"; do env "${deploy_env[@]}" "$hg" validate -config "$f"; done
"$hg" fmt -check "${configs[@]}" "${deploy_configs[@]}"

step "examples' tests (hookgate test)"
# Each example's tests.hctest holds its README's table as test blocks.
hctests=($(find examples -name '*.hctest' | sort))
[ ${#hctests[@]} -gt 0 ] || { echo "no examples/*/tests.hctest found" >&2; exit 1; }
for f in "${hctests[@]}"; do "$hg" test -config "$(dirname "$f")/config.hcl" "$f"; done

step "all checks passed"
