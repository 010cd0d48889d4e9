# Six providers, one gateway: Stripe, GitHub, Shopify, Slack, Twilio and Meta,
# each checked by its verify preset (docs/providers.md), routed to the local
# sink.
#
#   go run . run  -config examples/providers/config.hcl
#   go run . sink -listen 127.0.0.1:9000
#   go run . send -config examples/providers/config.hcl -source stripe examples/providers/events/stripe_payment_intent_succeeded.json
#
# Every address, URL and secret is env("NAME", "local default"): the file runs
# as is against `hookgate sink`, and production (or a test) sets the variables.
# The defaults are development values; copy each provider's real secret from
# the setting docs/providers.md names.

gateway {
  listen       = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
  admin_listen = env("HOOKGATE_ADMIN_LISTEN", "127.0.0.1:8081")
  admin_token  = env("HOOKGATE_ADMIN_TOKEN", "")
}

storage "embedded" {
  path = env("HOOKGATE_DB", "data/providers.db")
}

source "stripe" {
  description = "Stripe events (Stripe-Signature)"
  path        = "/in/stripe"
  event_type  = "type"
  verify "stripe" {
    secret = env("STRIPE_WEBHOOK_SECRET", "whsec_dev_stripe_secret")
  }
}

source "github" {
  description = "GitHub repository webhooks (X-Hub-Signature-256)"
  path        = "/in/github"
  verify "github" {
    secret = env("GITHUB_WEBHOOK_SECRET", "dev-github-secret")
  }
}

source "shopify" {
  description = "Shopify store webhooks (X-Shopify-Hmac-Sha256)"
  path        = "/in/shopify"
  verify "shopify" {
    secret = env("SHOPIFY_SECRET", "dev-shopify-secret")
  }
}

source "slack" {
  description = "Slack Events API (X-Slack-Signature); url_verification is answered"
  path        = "/in/slack"
  event_type  = "type"
  verify "slack" {
    secret = env("SLACK_SIGNING_SECRET", "dev-slack-signing-secret")
  }
}

source "twilio" {
  description = "Twilio SMS webhooks: signed forms, answered with TwiML"
  path        = "/in/twilio"
  verify "twilio" {
    secret = env("TWILIO_AUTH_TOKEN", "dev-twilio-auth-token")
    url    = env("TWILIO_URL_PUBLIC", "http://127.0.0.1:8080/in/twilio") # the public URL Twilio posts to, exactly
  }
  respond {
    content_type = "application/xml"
    body         = "<Response/>"
  }
}

source "meta" {
  description = "Meta (Facebook Page) webhooks: GET handshake, then signed POSTs"
  path        = "/in/meta"
  verify "meta" {
    secret       = env("META_APP_SECRET", "dev-meta-app-secret")
    verify_token = env("META_VERIFY_TOKEN", "dev-meta-verify-token")
  }
}

destination "payments" {
  description   = "The billing service: Stripe payments and Shopify orders"
  url           = env("PAYMENTS_URL", "http://127.0.0.1:9000/payments")
  allow_private = true # the local sink; production URLs leave this false
  sign "standard_webhooks" {
    secret = env("PAYMENTS_SECRET", "whsec_ZGV2LXBheW1lbnRzLXNlY3JldC0zMi1ieXRlcy1sb25nIQ==")
  }
}

destination "deploys" {
  description   = "The deploy service: pushes to main"
  url           = env("DEPLOYS_URL", "http://127.0.0.1:9000/deploys")
  allow_private = true
  sign "hmac" {
    header = "X-Hookgate-Signature"
    secret = env("DEPLOYS_SECRET", "dev-deploys-secret")
    prefix = "sha256="
  }
}

destination "chat" {
  description   = "The chat bot: Slack mentions and inbound SMS"
  url           = env("CHAT_URL", "http://127.0.0.1:9000/chat")
  allow_private = true
}

destination "social" {
  description   = "The social inbox: Meta Page changes, as received"
  url           = env("SOCIAL_URL", "http://127.0.0.1:9000/social")
  allow_private = true
}

route "stripe_payments" {
  description  = "Succeeded payments, reshaped for billing"
  source       = "stripe"
  events       = ["payment_intent.succeeded"]
  transform    = "{payment: data.object.id, amount: data.object.amount, currency: data.object.currency, customer: data.object.customer}"
  destinations = ["payments"]
}

route "shopify_orders" {
  description  = "New Shopify orders, reshaped for billing"
  source       = "shopify"
  transform    = "{order: name, total: total_price, currency: currency, email: email}"
  destinations = ["payments"]
}

route "github_main" {
  description  = "Pushes to main start a deploy"
  source       = "github"
  filter       = "ref == 'refs/heads/main'"
  transform    = "{repository: repository.full_name, commit: after, pusher: pusher.name}"
  destinations = ["deploys"]
}

route "slack_mentions" {
  description  = "Mentions of the app in Slack"
  source       = "slack"
  events       = ["event_callback"]
  filter       = "event.type == 'app_mention'"
  transform    = "{channel: event.channel, user: event.user, text: event.text}"
  destinations = ["chat"]
}

route "twilio_sms" {
  description  = "Inbound SMS"
  source       = "twilio"
  transform    = "{from: From, to: To, text: Body}"
  destinations = ["chat"]
}

route "meta_page" {
  description  = "Every Meta Page change, as received"
  source       = "meta"
  destinations = ["social"]
}
