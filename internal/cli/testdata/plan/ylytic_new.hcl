# examples/ylytic/config.hcl, changed for plan_test.go: a route added
# (instagram_creators, to a new destination), one removed
# (failed_insights), a transform changed (tiktok_creators adds status) and
# a schema tightened (campaign_insights takes two brands).

gateway {
  listen       = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
  admin_listen = env("HOOKGATE_ADMIN_LISTEN", "127.0.0.1:8081")
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
}

storage "embedded" {
  path = env("HOOKGATE_DB", "data/ylytic.db")
}

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
  field "brand_name" {
    type = "string"
    enum = ["Adidas", "Puma"]
  }
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

destination "tiktok_team" {
  description     = "The TikTok team's creator service"
  url             = env("TIKTOK_TEAM_URL", "http://127.0.0.1:9000/tiktok")
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
  url           = env("ALERTS_URL", "http://127.0.0.1:9000/alerts")
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("ALERTS_SECRET", "whsec_ZGV2LWFsZXJ0cy1zZWNyZXQtMzItYnl0ZXMtbG9uZyE=")
  }
}

destination "instagram_team" {
  url           = "http://127.0.0.1:9000/instagram"
  allow_private = true
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

route "tiktok_creators" {
  description  = "Successful TikTok creator insights, reshaped for the TikTok team"
  source       = "ylytic"
  events       = ["creator_insights"]
  filter       = "connector == 'tiktok' && status == 'success'"
  transform    = "{creator: identifier, platform: connector, kind: type, status: status}"
  destinations = ["tiktok_team"]
}

route "instagram_creators" {
  description  = "Successful Instagram creator insights, for the Instagram team"
  source       = "ylytic"
  events       = ["creator_insights"]
  filter       = "connector == 'instagram' && status == 'success'"
  transform    = "{creator: identifier}"
  destinations = ["instagram_team"]
}

route "ylytic_archive" {
  description  = "Every Ylytic event, as received."
  source       = "ylytic"
  destinations = ["warehouse"]
}
