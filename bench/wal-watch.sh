#!/usr/bin/env bash
# How large SQLite's WAL file grows under a POST load (the checkpoint thread's bound; see
# BENCHMARKS.md). Starts hirewire on a fresh SQLite file, loads POST /api/v1/jobs with wrk
# (-t1 -c64) and prints the WAL's and the database's sizes every 2 s.
#
#   bash bench/wal-watch.sh             # after a release build (bench/run.sh builds one)
#   DURATION=20s HW_BIN=path/to/hirewire HW_PORT=18080 bash bench/wal-watch.sh
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HW_BIN=${HW_BIN:-${CARGO_TARGET_DIR:-$ROOT/target}/release/hirewire}
HW_PORT=${HW_PORT:-18080}
DURATION=${DURATION:-30s}
[[ -x $HW_BIN ]] || { echo "no release binary at $HW_BIN: cargo build --release -p hirewire" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hirewire-wal.XXXXXX")
SERVER=""
trap '[[ -z $SERVER ]] || kill -TERM "$SERVER" 2>/dev/null || true; rm -rf "$TMP"' EXIT
url="sqlite://$TMP/wal.db"
size() { stat -c %s "$1" 2>/dev/null || echo 0; }

admin="hw_live_walwatch$(tr -dc 'a-zA-Z0-9' </dev/urandom | head -c 32 || true)"
env NO_COLOR=1 HIREWIRE_BOOTSTRAP_KEY="$admin" HIREWIRE_RATE_LIMITS__JOBS=1000000000 \
  HIREWIRE_RATE_LIMITS__DEFAULT=1000000000 \
  "$HW_BIN" serve --bind "127.0.0.1:$HW_PORT" --database-url "$url" >"$TMP/server.log" 2>&1 &
SERVER=$!
for ((i = 0; i < 100; i++)); do
  curl -fs "http://127.0.0.1:$HW_PORT/healthz/ready" >/dev/null && break
  sleep 0.1
done
key=$("$HW_BIN" keys create --tenant default --name wal --scopes jobs:write --database-url "$url" |
  sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
[[ $key == hw_live_* ]] || { cat "$TMP/server.log" >&2; echo "could not create a key" >&2; exit 1; }

HIREWIRE_BENCH_KEY=$key HIREWIRE_BENCH_BODY=$ROOT/bench/job.json \
  wrk -t1 -c64 -d"$DURATION" -s "$ROOT/bench/post_job.lua" "http://127.0.0.1:$HW_PORT/api/v1/jobs" >"$TMP/wrk.txt" &
WRK=$!
largest=0
while kill -0 "$WRK" 2>/dev/null; do
  wal=$(size "$TMP/wal.db-wal")
  ((wal > largest)) && largest=$wal
  printf '%(%H:%M:%S)T  WAL %10d bytes  database %11d bytes\n' -1 "$wal" "$(size "$TMP/wal.db")"
  sleep 2
done
wait "$WRK"
grep -E 'Requests/sec' "$TMP/wrk.txt"
# A WAL frame is a 4 KiB page and a 24-byte header, after a 32-byte file header.
echo "largest WAL file seen: $largest bytes ($(((largest - 32) / 4120)) frames)"
