#!/usr/bin/env bash
# The bulk import benchmark (candidates issue, criterion 8; BENCHMARKS.md has the results).
#
#   bash bench/import.sh                         # 3 runs of 100,000 candidates on each backend
#   RUNS=1 ROWS=10000 bash bench/import.sh       # a quick smoke run
#
# Each run starts a release `hirewire serve` over a fresh SQLite file or PostgreSQL schema,
# POSTs a generated JSON Lines file of ROWS candidates to /api/v1/imports, and polls the
# operation until it succeeds. It prints the seconds from the first byte sent to the
# operation's end, rows per second, and the server's peak resident memory (VmHWM) during the
# run. The file is generated once per ROWS (bench/gen_candidates.py, seeded) and reused.
#
# Settings (environment): RUNS=3 ROWS=100000 BACKENDS="sqlite postgres"
#   PG_URL=postgres://postgres@127.0.0.1:5432/test SKIP_BUILD=0
set -euo pipefail

RUNS=${RUNS:-3}
ROWS=${ROWS:-100000}
BACKENDS=${BACKENDS:-sqlite postgres}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
SKIP_BUILD=${SKIP_BUILD:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/hirewire
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hirewire-import-bench.XXXXXX")
DATA=$TARGET_DIR/bench-data/candidates-$ROWS.jsonl
KEY="hw_live_importbench$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true)"
SERVER_PID=""
SCHEMA=""

log() { printf '[import-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cleanup() {
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [[ -n $SCHEMA ]] && psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ $SKIP_BUILD != 1 ]]; then
  log "building hirewire (release)"
  (cd "$ROOT" && cargo build --release -q -p hirewire)
fi
if [[ ! -s $DATA ]]; then
  log "generating $ROWS candidates into $DATA"
  mkdir -p "$(dirname "$DATA")"
  python3 "$ROOT/bench/gen_candidates.py" "$ROWS" >"$DATA"
fi
log "$(wc -c <"$DATA") bytes, $ROWS rows"

# Starts the server on a free port over $1; sets SERVER_PID and BASE.
start_server() {
  local url=$1 logf=$WORK/server.log addr="" i
  HIREWIRE_BOOTSTRAP_KEY=$KEY HIREWIRE_RATE_LIMITS__DEFAULT=1000000 RUST_LOG=warn \
    "$BIN" serve --bind 127.0.0.1:0 --database-url "$url" >"$logf" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 300; i++)); do
    addr=$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$logf" | head -n1 | sed 's|listening on ||' || true)
    if [[ -n $addr ]] && curl -fsS -o /dev/null "$addr/healthz/ready"; then
      BASE=$addr
      return 0
    fi
    sleep 0.1
  done
  cat "$logf" >&2
  return 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

LINES=$WORK/lines.txt
for ((run = 1; run <= RUNS; run++)); do
  for backend in $BACKENDS; do
    if [[ $backend == sqlite ]]; then
      url="sqlite://$WORK/bench-$run.db"
    else
      SCHEMA="import_bench_$$_$run"
      psql "$PG_URL" -qc "CREATE SCHEMA $SCHEMA" >/dev/null
      url="$PG_URL?options=-c%20search_path%3D$SCHEMA"
    fi
    start_server "$url"
    start=$(date +%s.%N)
    ref=$(curl -fsS "$BASE/api/v1/imports" -H "Authorization: Bearer $KEY" \
      -H 'Content-Type: application/x-ndjson' --data-binary @"$DATA" |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["reference_id"])')
    uploaded=$(date +%s.%N)
    while :; do
      status=$(curl -fsS "$BASE/api/v1/operations/$ref" -H "Authorization: Bearer $KEY" |
        python3 -c 'import json,sys; v=json.load(sys.stdin); r=v.get("result") or {}; print(v["status"], r.get("created"), r.get("failed"))')
      [[ $status == pending* ]] || break
      sleep 0.2
    done
    end=$(date +%s.%N)
    peak_kb=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
    stop_server
    if [[ -n $SCHEMA ]]; then
      psql "$PG_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" >/dev/null
      SCHEMA=""
    fi
    line=$(python3 -c "
s, u, e = $start, $uploaded, $end
print(f'backend=$backend run=$run rows=$ROWS seconds={e - s:.1f} upload_seconds={u - s:.1f} rows_per_s={$ROWS / (e - s):.0f} peak_rss_mb={$peak_kb / 1024:.1f} outcome=\"$status\"')")
    echo "$line" | tee -a "$LINES"
  done
done

echo "medians over $RUNS run(s):"
for backend in $BACKENDS; do
  python3 - "$LINES" "$backend" <<'EOF'
import re, statistics, sys
path, backend = sys.argv[1], sys.argv[2]
rows = [dict(re.findall(r'(\w+)=("[^"]*"|\S+)', l)) for l in open(path) if f"backend={backend} " in l]
med = lambda k: statistics.median(float(r[k]) for r in rows)
print(f"  {backend}: {med('seconds'):.1f} s, {med('rows_per_s'):.0f} rows/s, peak RSS {med('peak_rss_mb'):.1f} MB")
EOF
done
