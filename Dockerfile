# syntax=docker/dockerfile:1
#
# hookgate's container image: a static binary on distroless, as a non-root
# user. See docs/deploying.md.
#
#   docker build -t hookgate \
#     --build-arg VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg COMMIT="$(git rev-parse HEAD)" .
#   docker run --rm -p 8080:8080 -p 8081:8081 --env-file hookgate.env \
#     -v hookgate-data:/var/lib/hookgate hookgate
#
# The build's RUN line below is the one deploy/deploy_test.go extracts and
# runs (same command, flags and environment), so `go test ./...` builds what
# this image ships: keep it one line.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# .git is not in the build context (.dockerignore): the version and commit
# come from these arguments; empty, `hookgate version` says "dev".
ARG VERSION=""
ARG COMMIT=""
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X github.com/hookgate/hookgate/internal/buildinfo.Version=${VERSION} -X github.com/hookgate/hookgate/internal/buildinfo.Commit=${COMMIT}" -o /out/hookgate .
# The store's folder, owned by the image's non-root user (65532, "nonroot"),
# so that a fresh volume mounted there is writable.
RUN mkdir -p /out/var/lib/hookgate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hookgate /usr/local/bin/hookgate
COPY --from=build --chown=65532:65532 /out/var/lib/hookgate /var/lib/hookgate
COPY deploy/config.hcl /etc/hookgate/config.hcl
# 65532 is distroless's "nonroot"; numeric, so that Kubernetes's runAsNonRoot can check it.
USER 65532:65532
VOLUME ["/var/lib/hookgate"]
# 8080: ingest (gateway.listen); 8081: admin API, /metrics, /healthz, /readyz
# (gateway.admin_listen, behind HOOKGATE_ADMIN_TOKEN).
EXPOSE 8080 8081
# SIGTERM drains: ingest stops, requests in flight get shutdown_timeout, the
# delivery attempts in flight record their outcomes. Give `docker stop` more
# than that: `docker stop -t 45`.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/hookgate", "run", "-config", "/etc/hookgate/config.hcl"]
