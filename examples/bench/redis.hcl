# config.hcl on Redis instead of the embedded store: the same source, route
# and sink, so `hookgate bench` compares the two stores on one load.
#
#   redis-server --save "" --appendonly yes --appendfsync everysec   # or REDIS_URL
#   go run . run -config examples/bench/redis.hcl
#   go run . bench -config examples/bench/redis.hcl -source bench examples/bench/event.json
#
# Several gateways share the work when they share the Redis and the prefix;
# give each its own listen and admin_listen.

gateway {
  listen       = env("BENCH_LISTEN", "127.0.0.1:8080")
  admin_listen = env("BENCH_ADMIN_LISTEN", "127.0.0.1:8081")
}

storage "redis" {
  url    = env("REDIS_URL", "redis://127.0.0.1:6379/0")
  prefix = "bench"
}

source "bench" {
  path = "/in/bench"
  verify "hmac" {
    header = "X-Signature"
    secret = env("BENCH_SECRET", "bench-secret")
  }
}

destination "sink" {
  url           = "http://127.0.0.1:9000/bench"
  allow_private = true # bench's sink on loopback
}

route "bench" {
  source       = "bench"
  destinations = ["sink"]
}
