source "ylytic" {
  path       = "/in/ylytic"
  event_type = "type"
  verify "none" {}
}

destination "events_bus" {
  nats {
    url     = "nats://hook:nats-pass@127.0.0.1:4222"
    subject = "creator.events"
  }
  headers = { "X-Team" = "warehouse" }
  sign "standard_webhooks" {
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  }
}

destination "warehouse_topic" {
  kafka {
    brokers = ["127.0.0.1:9092"]
    topic   = "creator-events"
    key     = "identifier"
  }
}

destination "crm_queue" {
  rabbitmq {
    url         = "amqp://guest:amqp-pass@127.0.0.1:5672/"
    exchange    = "creator"
    routing_key = "events"
  }
}

destination "audit_stream" {
  redis_stream {
    url    = "redis://:redis-pass@127.0.0.1:6379/0"
    stream = "hookgate:audit"
    maxlen = 1000
  }
}

route "everything" {
  source       = "ylytic"
  destinations = ["events_bus", "warehouse_topic", "crm_queue", "audit_stream"]
  ordering {
    key = "identifier"
  }
}
