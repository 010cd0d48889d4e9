# Influship: creator updates, analysis results and rate-limit warnings.
#
# Influship signs every webhook with a hex HMAC-SHA256 of the body in
# X-Influship-Signature, names the event in X-Influship-Event (and in the
# body's "event"), and checks a new endpoint with a webhook.verify request
# that must be answered {"challenge": <the body's challenge>}. It wants a
# 2xx within 5 seconds: hookgate answers as soon as the event is on disk and
# delivers afterwards, so a slow team never makes Influship retry.
#
#   go run . run  -config examples/influship/config.hcl
#   go run . sink -listen 127.0.0.1:9000
#   go run . send -config examples/influship/config.hcl -source influship \
#     -H 'X-Influship-Event: analysis.complete' examples/influship/events/analysis_failed.json
#
# Every address, URL and secret is env("NAME", "local default"): the file runs
# as is against `hookgate sink`, and production (or a test) sets the variables.

gateway {
  listen       = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
  admin_listen = env("HOOKGATE_ADMIN_LISTEN", "127.0.0.1:8081")
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
}

storage "embedded" {
  path = env("HOOKGATE_DB", "data/influship.db")
}

schema "creator_updated" {
  description = "A creator's profile data was refreshed."
  field "event" {
    type = "string"
    enum = ["creator.updated"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "creator_id" {
      type        = "string"
      description = "Influship's creator UUID."
    }
    field "updated_fields" {
      type        = "array"
      description = "Names of the profile fields that changed, such as follower_count."
    }
    field "platform" { type = "string" }
    field "username" { type = "string" }
  }
}

schema "analysis_complete" {
  description = "A brand safety or AI analysis finished."
  field "event" {
    type = "string"
    enum = ["analysis.complete"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "analysis_id" { type = "string" }
    field "type" {
      type        = "string"
      description = "The kind of analysis, such as brand_safety."
    }
    field "creator_id" { type = "string" }
    field "status" {
      type        = "string"
      description = "completed when the analysis succeeded; anything else is a failure."
    }
    field "results_url" {
      type        = "string"
      optional    = true
      description = "Where the API serves the results."
    }
  }
}

schema "rate_limit_warning" {
  description = "The account is approaching its API rate limit."
  field "event" {
    type = "string"
    enum = ["rate_limit.warning"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "current_usage" { type = "integer" }
    field "limit" { type = "integer" }
    field "reset_time" { type = "timestamp" }
  }
}

source "influship" {
  description = "Influship creator, analysis and account events"
  path        = "/in/influship"
  event_type  = "event"
  schemas = {
    "creator.updated"    = "creator_updated"
    "analysis.complete"  = "analysis_complete"
    "rate_limit.warning" = "rate_limit_warning"
  }
  unknown_events = "reject"
  verify "hmac" {
    header    = "X-Influship-Signature"
    secret    = env("INFLUSHIP_SECRET", "dev-influship-secret")
    algorithm = "sha256"
    encoding  = "hex"
  }
  # The endpoint check: answered 200 after the signature check; nothing is
  # stored or delivered.
  challenge {
    when    = "$headers['x-influship-event'] == 'webhook.verify'"
    respond = "{challenge: challenge}"
  }
  # Influship retries for hours and sends no event id; the event, its time
  # and its data identify a repeat.
  dedupe {
    key    = "event + ':' + timestamp + ':' + string($body.data)"
    window = "24h"
  }
}

destination "crm" {
  description   = "The CRM's creator sync"
  url           = env("CRM_URL", "http://127.0.0.1:9000/crm")
  timeout       = "5s"
  allow_private = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("CRM_SECRET", "whsec_ZGV2LWNybS1zZWNyZXQtMzItYnl0ZXMtbG9uZy4uLg==")
  }
}

destination "alerts" {
  description   = "The alerting service (failed analyses and insights)"
  url           = env("ALERTS_URL", "http://127.0.0.1:9000/alerts")
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("ALERTS_SECRET", "whsec_ZGV2LWFsZXJ0cy1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=")
  }
}

destination "warehouse" {
  description   = "The data warehouse's raw event loader"
  url           = env("WAREHOUSE_URL", "http://127.0.0.1:9000/warehouse")
  allow_private = true
  sign "hmac" {
    header = "X-Hookgate-Signature"
    secret = env("WAREHOUSE_SECRET", "dev-warehouse-secret")
    prefix = "sha256="
  }
}

route "creator_sync" {
  description  = "Refreshed creator profiles, for the CRM"
  source       = "influship"
  events       = ["creator.updated"]
  transform    = "{creator_id: data.creator_id, username: data.username, platform: data.platform, changed: data.updated_fields, at: timestamp}"
  destinations = ["crm"]
}

route "failed_analyses" {
  description  = "Analyses that did not complete, to the alerting service"
  source       = "influship"
  events       = ["analysis.complete"]
  filter       = "data.status != 'completed'"
  transform    = "{alert: 'influship analysis ' + data.status, analysis: data.analysis_id, kind: data.type, creator: data.creator_id}"
  destinations = ["alerts"]
}

route "rate_limit_alerts" {
  description  = "Usage at 90% of the limit or more"
  source       = "influship"
  events       = ["rate_limit.warning"]
  filter       = "data.current_usage >= data.limit * 0.9"
  transform    = "{alert: 'influship rate limit', used: data.current_usage, limit: data.limit, resets_at: data.reset_time}"
  destinations = ["alerts"]
}

route "influship_archive" {
  description  = "Every Influship event, as received."
  source       = "influship"
  destinations = ["warehouse"]
}
