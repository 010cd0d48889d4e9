#!/usr/bin/env bash
# bench.sh: the README's benchmark figures, reproduced in one run.
#
#   ./scripts/bench.sh [-n N] [-c C] [-rounds R] [SUITE...]
#
# SUITE is any of embedded, redis, tracing, ordering, kinds (default: the
# first three). ordering runs the embedded and Redis configs with and
# without an ordering block over 1,000 keys, alternated. kinds runs one
# destination of each kind that is not HTTP (nats with JetStream,
# redis_stream, kafka on franz-go's kfake, rabbitmq) beside the HTTP one,
# bench reading the messages back from the broker (-consume). Each round
# runs the bare relay first (in bench's process, then in one of its own)
# and then every gateway configuration of the
# suite, alternated, so a machine that gets busier or quieter affects them
# alike. Every gateway run starts a fresh `hookgate run` on loopback with an
# empty store, drives it with `hookgate bench -n N -c C`, and reports its
# delivered/s, its ratio to the relay of the same round, and the CPU the
# gateway process (and Jaeger, for tracing) used per event, read from
# /proc/PID/stat. Needs Linux, redis-server for `redis` and Jaeger
# all-in-one for `tracing`, nats-server, rabbitmq-server and redis-server for
# `kinds` (scripts/test.sh installs them).
set -euo pipefail

n=20000
c=32
rounds=3
suites=()
while [[ $# -gt 0 ]]; do
	case "$1" in
	-n) n=$2; shift 2 ;;
	-c) c=$2; shift 2 ;;
	-rounds) rounds=$2; shift 2 ;;
	embedded | redis | tracing | ordering | kinds) suites+=("$1"); shift ;;
	*) echo "usage: $0 [-n N] [-c C] [-rounds R] [embedded|redis|tracing|ordering|kinds]..." >&2; exit 2 ;;
	esac
done
[[ ${#suites[@]} -gt 0 ]] || suites=(embedded redis tracing)

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
	# The RabbitMQ node runs in a session of its own: stop its whole group.
	[[ -n ${rabbit_pid:-} ]] && kill -- -"$rabbit_pid" 2>/dev/null || true
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "building hookgate…" >&2
(cd "$root" && go build -o "$work/hookgate" .)
hg="$work/hookgate"
relay_src="$root/../shared/bench/durable-relay"
[[ -d $relay_src ]] || { echo "the reference relay is missing: $relay_src (../shared/bench/durable-relay)" >&2; exit 1; }
(cd "$relay_src" && go build -o "$work/durable-relay" .)
event="$root/examples/bench/event.json"

# free_port prints a free loopback TCP port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# cpu_ticks PID prints the process's user+system CPU in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# wait_ready ADMIN waits until the gateway's /readyz answers 200.
wait_ready() {
	for _ in $(seq 100); do
		if curl -fs -o /dev/null "http://$1/readyz"; then return 0; fi
		sleep 0.1
	done
	echo "the gateway did not become ready on $1" >&2
	return 1
}

# field JSON NAME prints a number from bench's -json output.
field() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2], {}, d))' "$1" "$2"; }

relay_rate=0
# relay runs the in-process relay and remembers its delivered/s.
relay() {
	local out
	out=$("$hg" bench -relay -n "$n" -c "$c" -json "$event" 2>/dev/null)
	relay_rate=$(field "$out" 'round(delivered_per_s)')
	printf '%-26s %6s/s\n' "relay" "$relay_rate"
}

# relay_process runs the same relay in a process of its own, as the
# gateway runs (`hookgate bench -serve-relay`), and reports it against the
# in-process relay of the round.
relay_process() {
	local addr out rate pid
	addr=127.0.0.1:$(free_port)
	"$hg" bench -serve-relay "$addr" -c "$c" 2>/dev/null &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.05; done
	out=$("$hg" bench -url "http://$addr/" -n "$n" -c "$c" -json "$event" 2>/dev/null)
	kill "$pid" && wait "$pid" 2>/dev/null || true
	rate=$(field "$out" 'round(delivered_per_s)')
	printf '%-26s %6s/s %14s\n' "relay, own process" "$rate" "$(( rate * 100 / relay_rate ))% of relay"
}

durable_rate=0
durable_us=0
# durable runs the reference: ../shared/bench/durable-relay (an fsync'd
# append-only log with group commit before the 202, then 64 forwarders) in
# a process of its own, driven like the gateway, with its CPU per delivered
# event read from /proc. The gateway rows are stated against it.
durable() {
	local addr out pid t0 t1 events
	addr=127.0.0.1:$(free_port)
	"$work/durable-relay" -addr "$addr" -upstream "http://127.0.0.1:9000/bench" -log "$work/durable-relay.log" -c 64 2>/dev/null &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 100); do curl -s -o /dev/null "http://$addr/" && break; sleep 0.05; done
	t0=$(cpu_ticks "$pid")
	out=$("$hg" bench -url "http://$addr/" -n "$n" -c "$c" -json "$event" 2>/dev/null)
	t1=$(cpu_ticks "$pid")
	kill "$pid" && wait "$pid" 2>/dev/null || true
	rm -f "$work/durable-relay.log"
	durable_rate=$(field "$out" 'round(delivered_per_s)')
	events=$(field "$out" 'accepted')
	durable_us=$(( (t1 - t0) * 1000000 / hz / events ))
	printf '%-26s %6s/s %14s  ingest p99 %6.2f ms  relay   %4s µs/event\n' "durable relay (reference)" "$durable_rate" \
		"$(( durable_rate * 100 / relay_rate ))% of relay" "$(field "$out" 'ingest_latency_ms["p99"]')" "$durable_us"
}

# gateway NAME CONFIG [EXTRA_PID EXTRA_NAME [BENCH_ARGS...]]: one gateway
# run with CONFIG; EXTRA_PID (Redis, Jaeger) has its CPU per event reported
# too; BENCH_ARGS replace -n N -c C.
gateway() {
	local name=$1 cfg=$2 extra=${3:-} extra_name=${4:-}
	shift 2; shift $(( $# < 2 ? $# : 2 ))
	local args=("$@")
	[[ ${#args[@]} -gt 0 ]] || args=(-n "$n" -c "$c")
	local consume=()
	[[ -n ${BENCH_CONSUME:-} ]] && consume=(-consume "$BENCH_CONSUME")
	local dir="$work/run-${name//[^a-z0-9.]/-}"
	rm -rf "$dir" && mkdir -p "$dir"
	# The store's path is relative to the config's folder: a copy in an
	# empty folder gives each run an empty store.
	cp "$cfg" "$dir/config.hcl"
	cfg="$dir/config.hcl"
	local listen admin
	listen=127.0.0.1:$(free_port)
	admin=127.0.0.1:$(free_port)
	(cd "$dir" && BENCH_LISTEN=$listen BENCH_ADMIN_LISTEN=$admin exec "$hg" run -config "$cfg" >"$dir/log" 2>&1) &
	local pid=$!
	pids+=("$pid")
	wait_ready "$admin" || { cat "$dir/log" >&2; return 1; }
	local t0 e0=0 out t1 e1=0
	t0=$(cpu_ticks "$pid")
	[[ -n $extra ]] && e0=$(cpu_ticks "$extra")
	[[ $extra_name == redis-server ]] && redis-cli -p "$redis_port" config resetstat >/dev/null
	out=$(cd "$dir" && BENCH_LISTEN=$listen "$hg" bench -config "$cfg" -source bench -url "http://$listen/in/bench" \
		"${args[@]}" "${consume[@]}" -json "$event" 2>/dev/null)
	t1=$(cpu_ticks "$pid")
	[[ -n $extra ]] && e1=$(cpu_ticks "$extra")
	kill "$pid" && wait "$pid" 2>/dev/null || true
	local rate p99 e2e events us eus=0 more="" ratio cpu
	rate=$(field "$out" 'round(delivered_per_s)')
	ratio="$(( rate * 100 / durable_rate ))% of durable"
	[[ $# -gt 0 ]] && ratio="paced"
	p99=$(field "$out" 'ingest_latency_ms["p99"]')
	e2e=$(field "$out" 'end_to_end_latency_ms["p99"]')
	events=$(field "$out" 'accepted')
	us=$(( (t1 - t0) * 1000000 / hz / events ))
	[[ -n $extra ]] && eus=$(( (e1 - e0) * 1000000 / hz / events )) && more=" $extra_name $eus µs/event"
	if [[ $extra_name == redis-server ]]; then
		# Redis commands per event, scripts' own calls included (INFO
		# commandstats: EVALSHA and what each script calls).
		local cmds
		cmds=$(redis-cli -p "$redis_port" info commandstats | awk -F'[:=,]' '/^cmdstat_/ && $1 !~ /config|info/ {n += $3} END {print n}')
		more="$more, $(python3 -c "print(round($cmds / $events, 1))") Redis commands/event"
	fi
	# CPU per event against the durable relay's: the gateway's own, plus
	# Redis's for the Redis row (Jaeger's is the collector's, not counted).
	cpu=$us
	[[ $extra_name == redis-server ]] && cpu=$(( us + eus ))
	printf '%-26s %6s/s %18s  ingest p99 %6.2f ms  e2e p99 %6.2f ms  gateway %4s µs/event%s  (%s.%02d× durable CPU)\n' \
		"$name" "$rate" "$ratio" "$p99" "$e2e" "$us" "$more" $(( cpu / durable_us )) $(( cpu * 100 / durable_us % 100 ))
}

# The configs: examples/bench with listen addresses from the environment.
cp "$root/examples/bench/redis.hcl" "$work/redis.hcl"
sed -e 's|listen       = "127.0.0.1:8080"|listen       = env("BENCH_LISTEN", "127.0.0.1:8080")|' \
	-e 's|admin_listen = "127.0.0.1:8081"|admin_listen = env("BENCH_ADMIN_LISTEN", "127.0.0.1:8081")|' \
	"$root/examples/bench/config.hcl" >"$work/embedded.hcl"
# ordered CONFIG OUT: CONFIG whose route orders its deliveries over 1,000
# keys (bench numbers its events: bench_seq).
ordered() {
	sed -e 's|^  destinations = \["sink"\]$|  destinations = ["sink"]\n  ordering {\n    key = "string(int(bench_seq) % 1000)"\n  }|' "$1" >"$2"
	grep -q 'ordering {' "$2" || { echo "could not add an ordering block to $1" >&2; exit 1; }
}
ordered "$work/embedded.hcl" "$work/embedded-ordered.hcl"
ordered "$work/redis.hcl" "$work/redis-ordered.hcl"

# kind_config KIND BLOCK: the embedded config with its destination "sink"
# replaced by a destination of KIND whose kind block is BLOCK.
kind_config() {
	python3 - "$work/embedded.hcl" "$1" "$2" >"$work/kind-$1.hcl" <<'PY'
import re, sys
src, kind, block = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
dest = 'destination "sink" {\n  %s {\n%s\n  }\n}' % (kind, block)
print(re.sub(r'(?ms)^destination "sink" \{.*?^\}', lambda m: dest, src))
PY
}

jaeger_pid=""
redis_pid=""
redis_port=""
otlp=""
for s in "${suites[@]}"; do
	case "$s" in
	redis | ordering)
		[[ -n $redis_pid ]] && continue
		port=$(free_port)
		redis_port=$port
		redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
			--dir "$work" --logfile "$work/redis.log" &
		redis_pid=$!
		pids+=("$redis_pid")
		export REDIS_URL=redis://127.0.0.1:$port/0
		for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
		;;
	tracing)
		otlp=127.0.0.1:$(free_port)
		jadmin=127.0.0.1:$(free_port)
		all_in_one=$(command -v all-in-one || echo "$(go env GOPATH)/bin/all-in-one")
		SPAN_STORAGE_TYPE=memory "$all_in_one" --collector.otlp.enabled=true --collector.otlp.grpc.host-port="$otlp" \
			--collector.otlp.http.host-port=127.0.0.1:$(free_port) --collector.grpc-server.host-port=127.0.0.1:$(free_port) \
			--collector.http-server.host-port=127.0.0.1:$(free_port) --query.http-server.host-port=127.0.0.1:$(free_port) \
			--query.grpc-server.host-port=127.0.0.1:$(free_port) --admin.http.host-port="$jadmin" \
			--http-server.host-port=127.0.0.1:$(free_port) --processor.jaeger-compact.server-host-port=127.0.0.1:$(free_port) \
			--processor.jaeger-binary.server-host-port=127.0.0.1:$(free_port) \
			--processor.zipkin-compact.server-host-port=127.0.0.1:$(free_port) \
			--memory.max-traces=10000 >"$work/jaeger.log" 2>&1 &
		jaeger_pid=$!
		pids+=("$jaeger_pid")
		for _ in $(seq 200); do curl -fs -o /dev/null "http://$jadmin/" && break; sleep 0.1; done
		for r in 0.1 1.0; do
			cp "$work/embedded.hcl" "$work/trace-$r.hcl"
			printf '\ntelemetry {\n  otlp_endpoint = "%s"\n  sample_ratio  = %s\n}\n' "$otlp" "$r" >>"$work/trace-$r.hcl"
		done
		;;
	kinds)
		# nats-server with JetStream on a store of its own.
		nats_port=$(free_port)
		nats-server -a 127.0.0.1 -p "$nats_port" -js -sd "$work/jetstream" >"$work/nats.log" 2>&1 &
		pids+=("$!")
		# A Redis for the stream (append-only, fsync every second as the
		# redis suite's).
		kredis_port=$(free_port)
		redis-server --port "$kredis_port" --bind 127.0.0.1 --save '' --appendonly yes --appendfsync everysec \
			--dir "$work" --appendfilename kinds.aof --logfile "$work/kinds-redis.log" &
		pids+=("$!")
		# Kafka: franz-go's kfake (no Kafka broker is packaged for Debian).
		(cd "$root" && go build -o "$work/kfake" ./scripts/kfake)
		kafka_port=$(free_port)
		"$work/kfake" -port "$kafka_port" -topic creator-events >"$work/kfake.log" 2>&1 &
		pids+=("$!")
		# A private RabbitMQ node: its own epmd, cookie, home and database.
		epmd_port=$(free_port)
		epmd -port "$epmd_port" -address 127.0.0.1 &
		pids+=("$!")
		amqp_port=$(free_port)
		mkdir -p "$work/rabbit/home" && echo "HOOKGATEBENCH$RANDOM$RANDOM" >"$work/rabbit/home/.erlang.cookie" && chmod 400 "$work/rabbit/home/.erlang.cookie"
		echo '[].' >"$work/rabbit/enabled_plugins"
		rabbit=/usr/lib/rabbitmq/bin/rabbitmq-server
		[[ -x $rabbit ]] || rabbit=rabbitmq-server
		HOME="$work/rabbit/home" ERL_EPMD_PORT=$epmd_port ERL_EPMD_ADDRESS=127.0.0.1 RABBITMQ_NODENAME=hookgatebench$amqp_port@localhost \
			RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$amqp_port RABBITMQ_DIST_PORT=$(free_port) \
			RABBITMQ_MNESIA_BASE="$work/rabbit/mnesia" RABBITMQ_LOG_BASE="$work/rabbit/log" RABBITMQ_LOGS="$work/rabbit/log/rabbit.log" \
			RABBITMQ_ENABLED_PLUGINS_FILE="$work/rabbit/enabled_plugins" RABBITMQ_PLUGINS_EXPAND_DIR="$work/rabbit/expand" \
			RABBITMQ_PID_FILE="$work/rabbit/pid" RABBITMQ_CONFIG_FILE="$work/rabbit/rabbitmq" \
			RABBITMQ_ADVANCED_CONFIG_FILE="$work/rabbit/advanced.config" RABBITMQ_CONF_ENV_FILE="$work/rabbit/env.conf" \
			setsid "$rabbit" >"$work/rabbit.log" 2>&1 &
		rabbit_pid=$!
		pids+=("$rabbit_pid")
		for p in "$nats_port" "$kredis_port" "$kafka_port"; do
			for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$p") 2>/dev/null && break; sleep 0.1; done
		done
		for _ in $(seq 1200); do (echo >/dev/tcp/127.0.0.1/"$amqp_port") 2>/dev/null && break; sleep 0.1; done
		kind_config nats "    url = \"nats://127.0.0.1:$nats_port\"
    subject = \"creator.events\""
		kind_config redis_stream "    url = \"redis://127.0.0.1:$kredis_port/0\"
    stream = \"hookgate:bench\"
    maxlen = 100000"
		kind_config kafka "    brokers = [\"127.0.0.1:$kafka_port\"]
    topic = \"creator-events\""
		kind_config rabbitmq "    url = \"amqp://guest:guest@127.0.0.1:$amqp_port/\"
    exchange = \"creator\"
    routing_key = \"events\""
		;;
	esac
done

echo "n=$n c=$c rounds=$rounds suites=${suites[*]} ($(nproc) cores)"
for round in $(seq "$rounds"); do
	echo "-- round $round"
	relay
	relay_process
	durable
	for s in "${suites[@]}"; do
		case "$s" in
		embedded)
			gateway "embedded" "$work/embedded.hcl"
			gateway "embedded at 1,000/s" "$work/embedded.hcl" "" "" -n 10000 -rate 1000
			;;
		redis)
			gateway "redis (one instance)" "$work/redis.hcl" "$redis_pid" redis-server
			gateway "redis at 1,000/s" "$work/redis.hcl" "$redis_pid" redis-server -n 10000 -rate 1000
			;;
		tracing)
			gateway "tracing off" "$work/embedded.hcl"
			gateway "tracing sample_ratio 0.1" "$work/trace-0.1.hcl" "$jaeger_pid" jaeger
			gateway "tracing sample_ratio 1.0" "$work/trace-1.0.hcl" "$jaeger_pid" jaeger
			;;
		ordering)
			gateway "embedded" "$work/embedded.hcl"
			gateway "embedded ordered 1k keys" "$work/embedded-ordered.hcl"
			gateway "redis (one instance)" "$work/redis.hcl" "$redis_pid" redis-server
			gateway "redis ordered 1k keys" "$work/redis-ordered.hcl" "$redis_pid" redis-server
			;;
		kinds)
			gateway "http (embedded)" "$work/embedded.hcl"
			BENCH_CONSUME="nats://127.0.0.1:$nats_port?subject=creator.events&stream=EVENTS" gateway "nats (JetStream)" "$work/kind-nats.hcl"
			BENCH_CONSUME="redis://127.0.0.1:$kredis_port/0?stream=hookgate:bench" gateway "redis_stream" "$work/kind-redis_stream.hcl"
			BENCH_CONSUME="kafka://127.0.0.1:$kafka_port?topic=creator-events" gateway "kafka (kfake)" "$work/kind-kafka.hcl"
			BENCH_CONSUME="amqp://guest:guest@127.0.0.1:$amqp_port/?exchange=creator&routing_key=events&queue=crm" gateway "rabbitmq" "$work/kind-rabbitmq.hcl"
			;;
		esac
	done
done
