#!/usr/bin/env bash
# The webhook delivery benchmark (webhooks issue criterion 10; BENCHMARKS.md has the results).
#
#   bash bench/webhooks.sh                          # the measurement: 3 runs of everything
#   RUNS=1 DELIVERIES=5000 SECONDS_STEADY=10 bash bench/webhooks.sh   # a quick smoke run
#
# Each run starts crates/hirewire-bench's `webhook-bench` (a Hirewire server and a receiver in
# one process on 127.0.0.1, over a fresh SQLite file or PostgreSQL schema) for:
#   throughput with 1 and with 10 subscriptions (deliveries/s from the first commit to the
#   receiver's last 2xx), and
#   latency at a steady EVENT_RATE events/s for SECONDS_STEADY s (commit → receipt p50/p99,
#   resident memory every 10 s).
# Then, once per backend, the same steady load for MEMORY_SECONDS (5 minutes) to show that
# memory stays flat. Medians over the runs are printed at the end; raw lines go to
# bench/results/webhooks-<UTC time>/.
#
# Settings (environment): RUNS=3 DELIVERIES=30000 EVENT_RATE=500 SECONDS_STEADY=60 MEMORY_SECONDS=300
#   BACKENDS="sqlite postgres" PG_URL=postgres://postgres@127.0.0.1:5432/test SKIP_BUILD=0
set -euo pipefail

RUNS=${RUNS:-3}
DELIVERIES=${DELIVERIES:-30000}
EVENT_RATE=${EVENT_RATE:-500}
SECONDS_STEADY=${SECONDS_STEADY:-60}
MEMORY_SECONDS=${MEMORY_SECONDS:-300}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
SKIP_BUILD=${SKIP_BUILD:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/webhook-bench
RESULTS=$ROOT/bench/results/webhooks-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"
LINES=$RESULTS/lines.txt

log() { printf '[webhook-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [[ $SKIP_BUILD != 1 ]]; then
  log "building webhook-bench (release)"
  (cd "$ROOT" && cargo build --release -q -p hirewire-bench --bin webhook-bench)
fi

for ((run = 1; run <= RUNS; run++)); do
  for backend in $BACKENDS; do
    for subs in 1 10; do
      log "run $run: $backend, throughput, $subs subscription(s), $DELIVERIES deliveries"
      "$BIN" --backend "$backend" --pg-url "$PG_URL" --mode throughput \
        --subscriptions "$subs" --deliveries "$DELIVERIES" | tee -a "$LINES"
    done
    log "run $run: $backend, latency at $EVENT_RATE events/s for $SECONDS_STEADY s"
    "$BIN" --backend "$backend" --pg-url "$PG_URL" --mode latency --subscriptions 1 \
      --rate "$EVENT_RATE" --seconds "$SECONDS_STEADY" | tee -a "$LINES"
  done
done

MEMORY_LINES=$RESULTS/memory.txt
if [[ $MEMORY_SECONDS != 0 ]]; then
  for backend in $BACKENDS; do
    log "memory: $backend, $EVENT_RATE events/s for $MEMORY_SECONDS s (RSS every 10 s)"
    "$BIN" --backend "$backend" --pg-url "$PG_URL" --mode latency --subscriptions 1 \
      --rate "$EVENT_RATE" --seconds "$MEMORY_SECONDS" | tee -a "$MEMORY_LINES"
  done
fi

# Medians per scenario.
python3 - "$LINES" <<'PY'
import statistics, sys
rows = [dict(kv.split("=", 1) for kv in line.split() if "=" in kv) for line in open(sys.argv[1]) if line.startswith("mode=")]
groups = {}
for r in rows:
    key = (r["mode"], r["backend"], r["subscriptions"])
    groups.setdefault(key, []).append(r)
print("\nmedians over runs")
for (mode, backend, subs), rs in sorted(groups.items()):
    if mode == "throughput":
        v = statistics.median(float(r["deliveries_per_s"]) for r in rs)
        print(f"  throughput {backend:8} subscriptions={subs:>2}: {v:,.0f} deliveries/s  (runs: {', '.join(r['deliveries_per_s'] for r in rs)})")
    else:
        p50 = statistics.median(float(r["p50_ms"]) for r in rs)
        p99 = statistics.median(float(r["p99_ms"]) for r in rs)
        print(f"  latency    {backend:8} at {rs[0]['rate']}/s: p50 {p50:.1f} ms, p99 {p99:.1f} ms  (p99 runs: {', '.join(r['p99_ms'] for r in rs)}; rss kB: {rs[-1]['rss_kb']})")
PY
log "raw lines in $LINES"
