# hookgate's showcase config: the four seed platforms together.
#
# Runs as is on a fresh machine: every secret comes from the environment with
# a development default, and every destination is the local test receiver
# (`hookgate sink` on 127.0.0.1:9000). Set the *_SECRET variables in
# production. Reference: docs/config.md.

gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = "127.0.0.1:8081"
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
  max_body     = "1MiB"
  workers      = 64
}

storage "embedded" {
  path = "data/hookgate.db"
}

telemetry {
  service_name = "hookgate"
  sample_ratio = 1.0
}

# ---------------------------------------------------------------- Ylytic ----
# Ylytic POSTs creator and campaign insights. It documents no signature, so
# the source asks for a shared token header, agreed with Ylytic out of band.

schema "creator_insights" {
  field "type" {
    type = "string"
    enum = ["creator_insights"]
  }
  field "status" {
    type = "string"
    enum = ["success", "failed"]
  }
  field "status_reason" {
    type     = "string"
    optional = true
    enum     = ["Restricted/Invalid Profile", "Private Account", "Invalid Handle"]
  }
  field "identifier" { type = "string" }
  field "connector" {
    type = "string"
    enum = ["instagram", "youtube", "tiktok", "facebook"]
  }
}

schema "creator_insights_1p" {
  field "type" {
    type = "string"
    enum = ["creator_insights_1p"]
  }
  field "status" {
    type = "string"
    enum = ["success", "failed"]
  }
  field "status_reason" {
    type     = "string"
    optional = true
    enum     = ["Restricted/Invalid Profile", "Private Account", "Invalid Handle"]
  }
  field "identifier" { type = "string" }
  field "connector" {
    type = "string"
    enum = ["instagram", "youtube", "tiktok", "facebook"]
  }
  field "state" { type = "string" }
}

schema "campaign_insights" {
  field "type" {
    type = "string"
    enum = ["campaign_insights"]
  }
  field "campaign_id" { type = "string" }
  field "campaign_name" { type = "string" }
  field "brand_name" { type = "string" }
}

source "ylytic" {
  path       = "/in/ylytic"
  event_type = "type"
  schemas = {
    creator_insights    = "creator_insights"
    creator_insights_1p = "creator_insights_1p"
    campaign_insights   = "campaign_insights"
  }
  unknown_events = "reject"
  verify "token" {
    header = "X-Ylytic-Token"
    token  = env("YLYTIC_TOKEN", "dev-ylytic-token")
  }
}

# ------------------------------------------------------------- Influship ----
# Influship signs the body with HMAC-SHA256 (hex) in X-Influship-Signature and
# checks the endpoint with a webhook.verify challenge.

schema "creator_updated" {
  field "event" {
    type = "string"
    enum = ["creator.updated"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "creator_id" { type = "string" }
    field "updated_fields" { type = "array" }
    field "platform" { type = "string" }
    field "username" { type = "string" }
  }
}

schema "analysis_complete" {
  field "event" {
    type = "string"
    enum = ["analysis.complete"]
  }
  field "timestamp" { type = "timestamp" }
  field "data" {
    type = "object"
    field "analysis_id" { type = "string" }
    field "type" { type = "string" }
    field "creator_id" { type = "string" }
    field "status" { type = "string" }
    field "results_url" { type = "string" }
  }
}

schema "rate_limit_warning" {
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
  path       = "/in/influship"
  event_type = "event"
  schemas = {
    "creator.updated"    = "creator_updated"
    "analysis.complete"  = "analysis_complete"
    "rate_limit.warning" = "rate_limit_warning"
  }
  verify "hmac" {
    header    = "X-Influship-Signature"
    secret    = env("INFLUSHIP_SECRET", "dev-influship-secret")
    algorithm = "sha256"
    encoding  = "hex"
  }
  challenge {
    when    = "$headers['x-influship-event'] == 'webhook.verify'"
    respond = "{challenge: challenge}"
  }
  dedupe {
    key    = "event + ':' + timestamp + ':' + string($body.data)"
    window = "24h"
  }
}

# ------------------------------------------------------------ Ambassador ----
# Ambassador authenticates webhooks with the notification's "Webhook Token".
# Its payloads are open objects here: only the event name is checked.

schema "ambassador_event" {
  field "event" {
    type = "string"
    enum = [
      "contact.created", "contact.segment_added", "contact.status_updated", "contact.campaign_added",
      "commission.created", "commission.status_updated", "payout.created", "referral.created",
      "share.tracked", "click.tracked",
    ]
  }
  field "campaign_id" {
    type     = "string"
    optional = true
  }
  field "data" {
    type     = "object"
    optional = true
  }
}

source "ambassador" {
  path       = "/in/ambassador"
  event_type = "event"
  schemas = {
    "contact.created"           = "ambassador_event"
    "contact.segment_added"     = "ambassador_event"
    "contact.status_updated"    = "ambassador_event"
    "contact.campaign_added"    = "ambassador_event"
    "commission.created"        = "ambassador_event"
    "commission.status_updated" = "ambassador_event"
    "payout.created"            = "ambassador_event"
    "referral.created"          = "ambassador_event"
    "share.tracked"             = "ambassador_event"
    "click.tracked"             = "ambassador_event"
  }
  verify "token" {
    header = "X-Ambassador-Token"
    token  = env("AMBASSADOR_TOKEN", "dev-ambassador-token")
  }
}

# -------------------------------------------------------------- Symphony ----
# Symphony sends campaign state changes. It documents no signature either.

schema "symphony_campaign" {
  field "event" {
    type = "string"
    enum = ["campaign.created", "campaign.updated", "campaign.failed", "campaign.processing", "campaign.completed"]
  }
  field "provider" {
    type = "string"
    enum = ["facebook", "symphony"]
  }
  field "type" {
    type = "string"
    enum = ["boost_instagram", "record_streams", "link_clicks", "get_playlisted", "increase_video_views"]
  }
  field "id" { type = "string" }
  field "reason" {
    type     = "string"
    optional = true
  }
  field "metadata" {
    type     = "object"
    optional = true
  }
  field "status" {
    type = "string"
    enum = ["DRAFT", "PROCESSING", "SUCCESS", "FAILED", "TO_RETRY", "PAUSED", "FINISHED", "ACTIVE", "ANTICIPATED_PAUSE", "IN_REVIEW"]
  }
}

source "symphony" {
  path       = "/in/symphony"
  event_type = "event"
  schemas = {
    "campaign.created"    = "symphony_campaign"
    "campaign.updated"    = "symphony_campaign"
    "campaign.failed"     = "symphony_campaign"
    "campaign.processing" = "symphony_campaign"
    "campaign.completed"  = "symphony_campaign"
  }
  verify "token" {
    header = "X-Symphony-Token"
    token  = env("SYMPHONY_TOKEN", "dev-symphony-token")
  }
}

# ---------------------------------------------------------- Destinations ----

destination "tiktok_team" {
  url             = "http://127.0.0.1:9000/tiktok"
  timeout         = "5s"
  headers         = { "X-Team" = "tiktok" }
  max_concurrency = 16
  rate_limit      = "50/s"
  allow_private   = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("TIKTOK_SECRET", "whsec_ZGV2LXRpa3Rvay1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=")
  }
  retry {
    schedule = ["1m", "5m", "15m", "1h", "4h"]
    jitter   = "10%"
  }
}

destination "warehouse" {
  url           = "http://127.0.0.1:9000/warehouse"
  allow_private = true
  sign "hmac" {
    header = "X-Hookgate-Signature"
    secret = env("WAREHOUSE_SECRET", "dev-warehouse-secret")
    prefix = "sha256="
  }
}

destination "alerts" {
  url           = "http://127.0.0.1:9000/alerts"
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("ALERTS_SECRET", "whsec_ZGV2LWFsZXJ0cy1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=")
  }
}

destination "finance" {
  url           = "http://127.0.0.1:9000/finance"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("FINANCE_SECRET", "whsec_ZGV2LWZpbmFuY2Utc2VjcmV0LTMyLWJ5dGVzLWxvbmch")
  }
  retry {
    schedule = ["1m", "5m", "15m", "1h", "4h", "12h"]
  }
}

destination "oncall" {
  url           = "http://127.0.0.1:9000/oncall"
  timeout       = "5s"
  allow_private = true
  rate_limit    = "10/m"
}

# ---------------------------------------------------------------- Routes ----

route "tiktok_creators" {
  source       = "ylytic"
  events       = ["creator_insights"]
  filter       = "connector == 'tiktok' && status == 'success'"
  transform    = "{creator: identifier, platform: connector, kind: type}"
  destinations = ["tiktok_team"]
}

route "failed_insights" {
  source       = "ylytic"
  events       = ["creator_insights", "creator_insights_1p"]
  filter       = "status == 'failed'"
  transform    = "{alert: 'creator insights failed', creator: identifier, platform: connector, reason: status_reason}"
  destinations = ["alerts"]
}

route "ylytic_archive" {
  description  = "Every Ylytic event, as received."
  source       = "ylytic"
  destinations = ["warehouse"]
}

route "failed_analyses" {
  source       = "influship"
  events       = ["analysis.complete"]
  filter       = "data.status != 'completed'"
  destinations = ["alerts"]
}

route "influship_archive" {
  source       = "influship"
  destinations = ["warehouse"]
}

route "finance_commissions" {
  source       = "ambassador"
  events       = ["commission.created", "commission.status_updated", "payout.created"]
  filter       = "campaign_id in ['cmp_summer', 'cmp_launch'] || campaign_id == nil"
  destinations = ["finance"]
}

route "campaign_failed_oncall" {
  source       = "symphony"
  events       = ["campaign.failed"]
  transform    = "{text: 'Symphony campaign ' + id + ' (' + provider + '/' + type + ') failed: ' + (reason ?? status)}"
  destinations = ["oncall"]
}

route "symphony_archive" {
  source       = "symphony"
  destinations = ["warehouse"]
}
