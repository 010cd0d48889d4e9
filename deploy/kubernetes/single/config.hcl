# hookgate's config on Kubernetes, one pod with the embedded store
# (deploy/kubernetes/single). kustomize makes it the ConfigMap
# hookgate-config, mounted as the folder /etc/hookgate; `run -watch` reloads
# it when the kubelet swaps the file. See docs/deploying.md.
#
# Secrets come from the Secret "hookgate" as environment variables (see
# secret.example.yaml); env() without a default makes a missing one an
# error, not an empty secret.

gateway {
  listen       = "0.0.0.0:8080"
  admin_listen = "0.0.0.0:8081" # probes, /metrics (bearer token), the admin API
  admin_token  = env("HOOKGATE_ADMIN_TOKEN")
  # The pod's terminationGracePeriodSeconds is longer than this plus the
  # longest destination timeout (the attempts in flight finish after ingest).
  shutdown_timeout = "20s"
}

# On the PersistentVolumeClaim mounted at /var/lib/hookgate.
storage "embedded" {
  path = "/var/lib/hookgate/hookgate.db"
}

telemetry {
  service_name  = "hookgate"
  otlp_endpoint = env("HOOKGATE_OTLP_ENDPOINT", "") # e.g. otel-collector.observability:4317
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
