# The config `hookgate bench` measures the gateway with (README, Benchmarks).
#
# One source, no schemas, one route that passes the body through untouched to
# bench's own sink on 127.0.0.1:9000: bench reads the bench_run, bench_seq and
# bench_sent_ns fields it stamps on each event back from the delivered body to
# count deliveries and time them end to end. A transform that drops those
# fields still lets bench count, but not time, the deliveries.
#
#   go run . run -config examples/bench/config.hcl
#   go run . bench -config examples/bench/config.hcl -source bench examples/bench/event.json

gateway {
  listen       = "127.0.0.1:8080"
  admin_listen = "127.0.0.1:8081"
}

storage "embedded" {
  path = "data/bench.db"
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
