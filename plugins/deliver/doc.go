// Package deliver holds hookgate's built-in destination kinds that are not
// HTTP: nats (JetStream), kafka, rabbitmq and redis_stream. A destination
// names one of them with a block instead of a url:
//
//	destination "events_bus" {
//	  nats {
//	    url     = "nats://127.0.0.1:4222"
//	    subject = "creator.events"
//	  }
//	}
//
// Each kind is one file that registers itself in init() as
// "destination.<name>" with a spec of its block and a constructor. The value
// built is a plugins.Destination and a plugins.Targeter; its constructor has
// no side effects, the first Deliver connects, and the connection is shared
// by the destination's attempts and re-established after the broker
// restarts. Close releases it.
//
// This package must not know the config file, the delivery loop or the
// store: a kind only sends the message it is handed and says whether the
// broker took it. Retries, the dead-letter set, replay, stats and spans are
// the delivery engine's, alike for every kind.
package deliver
