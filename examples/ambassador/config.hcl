# Ambassador: referral and affiliate events (contacts, commissions, payouts,
# referrals, shares, clicks).
#
# Ambassador's webhook document lists ten events and a per-notification
# "Webhook Token" secret, but not the payload fields nor how the token is
# sent: it points at the Ambassador Developer Hub. What this file assumes is
# listed in README.md; in short, the token arrives in X-Ambassador-Token,
# the event name in "event", the campaign in "campaign_uid", and the rest in
# an open "data" object. Check one real delivery (`hookgate route` shows what
# the gateway makes of it) and adjust event_type, the schema and verify.
#
#   go run . run  -config examples/ambassador/config.hcl
#   go run . sink -listen 127.0.0.1:9000
#   go run . send -config examples/ambassador/config.hcl -source ambassador examples/ambassador/events/commission_created.json
#
# Every address, URL and secret is env("NAME", "local default"): the file runs
# as is against `hookgate sink`, and production (or a test) sets the variables.

gateway {
  listen       = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
  admin_listen = env("HOOKGATE_ADMIN_LISTEN", "127.0.0.1:8081")
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
}

storage "embedded" {
  path = env("HOOKGATE_DB", "data/ambassador.db")
}

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

destination "finance" {
  description   = "Finance's commission and payout ledger"
  url           = env("FINANCE_URL", "http://127.0.0.1:9000/finance")
  allow_private = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("FINANCE_SECRET", "whsec_ZGV2LWZpbmFuY2Utc2VjcmV0LTMyLWJ5dGVzLWxvbmch")
  }
  # Money: keep trying for a day before dead-lettering.
  retry {
    schedule = ["1m", "5m", "15m", "1h", "4h", "12h"]
  }
}

destination "crm" {
  description   = "The CRM's creator sync"
  url           = env("CRM_URL", "http://127.0.0.1:9000/crm")
  timeout       = "5s"
  allow_private = true
  sign "standard_webhooks" {
    secret = env("CRM_SECRET", "whsec_ZGV2LWNybS1zZWNyZXQtMzItYnl0ZXMtbG9uZy4uLg==")
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
