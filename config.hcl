# hookgate's showcase config: the four seed platforms together.
#
# Runs as is on a fresh machine: every secret comes from the environment with
# a development default, and every destination is the local test receiver
# (`hookgate sink` on 127.0.0.1:9000). Set the *_SECRET and *_TOKEN variables
# in production. Each platform also has a folder of its own under examples/
# (config, sample events, README with what each sample does); this file holds
# the same schemas, sources, destinations and routes, and
# examples/examples_test.go checks that it routes every sample as they do.
# Reference: docs/config.md; guide: docs/README.md.

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

# ---------------------------------------------------------- Ylytic ----
# Ylytic POSTs creator and campaign insights. It documents no signature, so
# the source asks for a shared token header, agreed with Ylytic out of band.
# See examples/ylytic.

schema "creator_insights" {
  description = "Third-party creator insights are ready (or could not be made)."
  field "type" {
    type = "string"
    enum = ["creator_insights"]
  }
  field "status" {
    type        = "string"
    enum        = ["success", "failed"]
    description = "Processing status of the request."
  }
  field "status_reason" {
    type        = "string"
    optional    = true
    enum        = ["Restricted/Invalid Profile", "Private Account", "Invalid Handle"]
    description = "Why it failed; only when status is failed."
  }
  field "identifier" {
    type        = "string"
    description = "The creator's handle or unique identifier."
  }
  field "connector" {
    type        = "string"
    enum        = ["instagram", "youtube", "tiktok", "facebook"]
    description = "The platform the insights were fetched from."
  }
}

schema "creator_insights_1p" {
  description = "First-party creator insights (the creator connected their account)."
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
  field "state" {
    type        = "string"
    description = "The unique session state the connection was started with."
  }
}

schema "campaign_insights" {
  description = "Campaign insights are ready."
  field "type" {
    type = "string"
    enum = ["campaign_insights"]
  }
  field "campaign_id" { type = "string" }
  field "campaign_name" { type = "string" }
  field "brand_name" { type = "string" }
}

source "ylytic" {
  description = "Ylytic creator and campaign insights"
  path        = "/in/ylytic"
  event_type  = "type"
  schemas = {
    creator_insights    = "creator_insights"
    creator_insights_1p = "creator_insights_1p"
    campaign_insights   = "campaign_insights"
  }
  unknown_events = "reject"
  # Ylytic documents no signature: a shared token, agreed out of band.
  verify "token" {
    header = "X-Ylytic-Token"
    token  = env("YLYTIC_TOKEN", "dev-ylytic-token")
  }
}

# ------------------------------------------------------- Influship ----
# Influship signs the body with HMAC-SHA256 (hex) in X-Influship-Signature and
# checks the endpoint with a webhook.verify challenge. See examples/influship.

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

# ------------------------------------------------------ Ambassador ----
# Ambassador authenticates webhooks with the notification's "Webhook Token".
# Its document does not give payload fields: the envelope is assumed and data
# is an open object. See examples/ambassador/README.md for what is assumed.

# One envelope for the ten events: Ambassador's document names them but does
# not give their fields, so only what routing needs is checked and data is
# an open object (any fields pass).
schema "ambassador_event" {
  description = "An Ambassador notification."
  field "event" {
    type = "string"
    enum = [
      "contact.created", "contact.segment_added", "contact.status_updated", "contact.campaign_added",
      "commission.created", "commission.status_updated", "payout.created", "referral.created",
      "share.tracked", "click.tracked",
    ]
  }
  field "campaign_uid" {
    type        = "string"
    optional    = true
    description = "The campaign the event belongs to; absent for events outside a campaign, such as payouts."
  }
  field "data" {
    type        = "object"
    description = "The contact, commission, payout, referral, share or click."
  }
}

source "ambassador" {
  description = "Ambassador notifications (Settings > Notifications > Webhook)"
  path        = "/in/ambassador"
  event_type  = "event"
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
  unknown_events = "reject"
  # The notification's Webhook Token, shown once the notification is saved.
  verify "token" {
    header = "X-Ambassador-Token"
    token  = env("AMBASSADOR_TOKEN", "dev-ambassador-token")
  }
}

# -------------------------------------------------------- Symphony ----
# Symphony sends campaign state changes. It documents no signature either, so
# the source asks for a shared token header. See examples/symphony.

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

# ---------------------------------------------------- Destinations ----

destination "tiktok_team" {
  description     = "The TikTok team's creator service"
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

destination "alerts" {
  description   = "The alerting service (failed analyses and insights)"
  url           = "http://127.0.0.1:9000/alerts"
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("ALERTS_SECRET", "whsec_ZGV2LWFsZXJ0cy1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=")
  }
}

destination "warehouse" {
  description   = "The data warehouse's raw event loader"
  url           = "http://127.0.0.1:9000/warehouse"
  allow_private = true
  sign "hmac" {
    header = "X-Hookgate-Signature"
    secret = env("WAREHOUSE_SECRET", "dev-warehouse-secret")
    prefix = "sha256="
  }
}

destination "crm" {
  description   = "The CRM's creator sync"
  url           = "http://127.0.0.1:9000/crm"
  timeout       = "5s"
  allow_private = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("CRM_SECRET", "whsec_ZGV2LWNybS1zZWNyZXQtMzItYnl0ZXMtbG9uZy4uLg==")
  }
}

destination "finance" {
  description   = "Finance's commission and payout ledger"
  url           = "http://127.0.0.1:9000/finance"
  allow_private = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("FINANCE_SECRET", "whsec_ZGV2LWZpbmFuY2Utc2VjcmV0LTMyLWJ5dGVzLWxvbmch")
  }
  # Money: keep trying for a day before dead-lettering.
  retry {
    schedule = ["1m", "5m", "15m", "1h", "4h", "12h"]
  }
}

destination "oncall" {
  description   = "The on-call chat channel's incoming webhook (Slack-style {text})"
  url           = "http://127.0.0.1:9000/oncall"
  timeout       = "5s"
  allow_private = true # the local sink; production URLs leave this false
  rate_limit    = "10/m"
}

destination "campaigns" {
  description   = "The marketing team's campaign tracker"
  url           = "http://127.0.0.1:9000/campaigns"
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("CAMPAIGNS_SECRET", "whsec_ZGV2LWNhbXBhaWducy1zZWNyZXQtMzItYnl0ZXMtbG9uZw==")
  }
}

# ---------------------------------------------------------- Routes ----

route "tiktok_creators" {
  description  = "Successful TikTok creator insights, reshaped for the TikTok team"
  source       = "ylytic"
  events       = ["creator_insights"]
  filter       = "connector == 'tiktok' && status == 'success'"
  transform    = "{creator: identifier, platform: connector, kind: type}"
  destinations = ["tiktok_team"]
}

route "failed_insights" {
  description  = "Creator insights Ylytic could not make, with the reason"
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

route "finance_commissions" {
  description  = "Commissions of the paid campaigns, and every payout, to finance"
  source       = "ambassador"
  events       = ["commission.created", "commission.status_updated", "payout.created"]
  filter       = "$event == 'payout.created' || campaign_uid in ['cmp_summer_2025', 'cmp_creator_launch']"
  destinations = ["finance"]
}

route "contacts_to_crm" {
  description  = "New contacts and status changes, for the CRM"
  source       = "ambassador"
  events       = ["contact.created", "contact.status_updated"]
  transform    = "{event: $event, contact: data}"
  destinations = ["crm"]
}

route "ambassador_archive" {
  description  = "Every Ambassador event, as received."
  source       = "ambassador"
  destinations = ["warehouse"]
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
