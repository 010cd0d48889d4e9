# Symphony: Ads API campaign state changes.
#
# You subscribe with POST {{PARTNER_API}}/webhook {"url": ..., "events": [...]},
# and Symphony POSTs {event, provider, type, id, reason, metadata, status} for
# campaign.created, .updated, .failed, .processing and .completed. Its document
# describes no signature, no secret and no custom header, so this source asks
# for a shared token in X-Symphony-Token: agree on it with Symphony when you
# register the URL. If they cannot send a header, make the path the secret
# instead (path = "/in/symphony/${env("SYMPHONY_PATH_TOKEN")}" with
# verify "none" {}), knowing a URL leaks more easily than a header.
#
#   go run . run  -config examples/symphony/config.hcl
#   go run . sink -listen 127.0.0.1:9000
#   go run . send -config examples/symphony/config.hcl -source symphony examples/symphony/events/campaign_failed.json
#
# Every address, URL and secret is env("NAME", "local default"): the file runs
# as is against `hookgate sink`, and production (or a test) sets the variables.

gateway {
  listen       = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
  admin_listen = env("HOOKGATE_ADMIN_LISTEN", "127.0.0.1:8081")
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
}

storage "embedded" {
  path = env("HOOKGATE_DB", "data/symphony.db")
}

# The five events share one payload: the campaign whose state changed.
schema "symphony_campaign" {
  description = "A Symphony campaign changed state."
  field "event" {
    type = "string"
    enum = ["campaign.created", "campaign.updated", "campaign.failed", "campaign.processing", "campaign.completed"]
  }
  field "provider" {
    type        = "string"
    enum        = ["facebook", "symphony"]
    description = "Who runs the campaign."
  }
  field "type" {
    type        = "string"
    enum        = ["boost_instagram", "record_streams", "link_clicks", "get_playlisted", "increase_video_views"]
    description = "facebook: boost_instagram, record_streams or link_clicks; symphony: get_playlisted or increase_video_views."
  }
  field "id" {
    type        = "string"
    description = "The campaign's identifier."
  }
  field "reason" {
    type        = "string"
    optional    = true
    description = "Why, when a state can change for more than one reason (end_date_changed)."
  }
  field "metadata" {
    type        = "object"
    optional    = true
    description = "Details of the change; sent with campaign.updated."
  }
  field "status" {
    type = "string"
    enum = ["DRAFT", "PROCESSING", "SUCCESS", "FAILED", "TO_RETRY", "PAUSED", "FINISHED", "ACTIVE", "ANTICIPATED_PAUSE", "IN_REVIEW"]
  }
}

source "symphony" {
  description = "Symphony Ads API campaign webhooks"
  path        = "/in/symphony"
  event_type  = "event"
  schemas = {
    "campaign.created"    = "symphony_campaign"
    "campaign.updated"    = "symphony_campaign"
    "campaign.failed"     = "symphony_campaign"
    "campaign.processing" = "symphony_campaign"
    "campaign.completed"  = "symphony_campaign"
  }
  unknown_events = "reject"
  # Symphony documents no signature: a shared token, agreed out of band.
  verify "token" {
    header = "X-Symphony-Token"
    token  = env("SYMPHONY_TOKEN", "dev-symphony-token")
  }
}

destination "oncall" {
  description   = "The on-call chat channel's incoming webhook (Slack-style {text})"
  url           = env("ONCALL_URL", "http://127.0.0.1:9000/oncall")
  timeout       = "5s"
  allow_private = true # the local sink; production URLs leave this false
  rate_limit    = "10/m"
}

destination "campaigns" {
  description   = "The marketing team's campaign tracker"
  url           = env("CAMPAIGNS_URL", "http://127.0.0.1:9000/campaigns")
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("CAMPAIGNS_SECRET", "whsec_ZGV2LWNhbXBhaWducy1zZWNyZXQtMzItYnl0ZXMtbG9uZw==")
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

route "campaign_failed_oncall" {
  description  = "A failed campaign pages on-call, as a chat message"
  source       = "symphony"
  events       = ["campaign.failed"]
  transform    = "{text: 'Symphony campaign ' + id + ' (' + provider + '/' + type + ') failed: ' + (reason ?? status)}"
  destinations = ["oncall"]
}

route "campaign_tracker" {
  description  = "Every state change, flattened for the campaign tracker"
  source       = "symphony"
  transform    = "{campaign: id, provider: provider, type: type, event: $event, status: status, reason: reason}"
  destinations = ["campaigns"]
}

route "symphony_archive" {
  description  = "Every Symphony event, as received."
  source       = "symphony"
  destinations = ["warehouse"]
}
