# hookgate's config for a container (Dockerfile: /etc/hookgate/config.hcl) or
# a systemd service (deploy/systemd: the same path). See docs/deploying.md.
#
# Both servers listen on every interface: a container publishes its ports,
# and a host's firewall decides who reaches them. The admin server is then
# reachable from other machines, so admin_token is required (env() without
# a default: the gateway does not start without it). Every secret comes from
# the environment: hookgate.env.example lists the variables (docker run
# --env-file, systemd's EnvironmentFile).
#
# The source, destination and route below are a starting point: replace them
# with yours (docs/config.md, and examples/ for real platforms).

gateway {
  listen       = "0.0.0.0:8080"
  admin_listen = "0.0.0.0:8081"
  admin_token  = env("HOOKGATE_ADMIN_TOKEN")
  # SIGTERM waits this long for ingest requests in flight, then for the
  # delivery attempts in flight (each within its destination's timeout):
  # docker stop -t, systemd's TimeoutStopSec and Kubernetes's
  # terminationGracePeriodSeconds give it more than both together.
  shutdown_timeout = "20s"
}

# The store's file, on the image's VOLUME and inside systemd's
# StateDirectory=hookgate.
storage "embedded" {
  path = "/var/lib/hookgate/hookgate.db"
}

telemetry {
  service_name  = "hookgate"
  otlp_endpoint = env("HOOKGATE_OTLP_ENDPOINT", "") # empty: no trace export
  sample_ratio  = 0.1
}

source "app" {
  description = "An application signing with Standard Webhooks"
  path        = "/in/app"
  verify "standard_webhooks" {
    secret = env("APP_WEBHOOK_SECRET")
  }
  dedupe {
    key    = "$headers['webhook-id']"
    window = "24h"
  }
}

destination "app_consumer" {
  description = "The service that consumes the application's events"
  url         = env("APP_CONSUMER_URL")
  timeout     = "10s"
  sign "standard_webhooks" {
    secret = env("APP_CONSUMER_SECRET")
  }
}

route "app_all" {
  description  = "Every event of the application, as received."
  source       = "app"
  destinations = ["app_consumer"]
}
