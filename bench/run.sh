#!/usr/bin/env bash
# Hirewire's benchmark (issue criterion 13; BENCHMARKS.md says what it measures and the targets).
#
#   bash bench/run.sh                      # the measurement: 30 s per scenario, 3 runs
#   DURATION=3s RUNS=1 bash bench/run.sh   # a quick smoke run (its numbers are not results)
#
# For each run, on 127.0.0.1 only, with wrk on the same machine (-t1 -c64 --latency):
#   hirewire on SQLite (a fresh temporary file) and on PostgreSQL (a fresh schema):
#     start to ready, idle RSS, then GET /api/v1/jobs/{id} and POST /api/v1/jobs with an API
#     key, rate limits on (set huge) and audit on (the default);
#   ceiling-probe (crates/hirewire-bench): GET /bare, GET /sqlite/{id} (sqlx) and
#   GET /sqlite-inline/{id} (rusqlite on the calling thread, as Hirewire reads by id).
# Then a summary of medians over the runs. Raw outputs go to bench/results/<UTC time>/.
#
# Settings (environment):
#   DURATION=30s  RUNS=3  CONNECTIONS=64
#   PG_URL=postgres://postgres@127.0.0.1:5432/test   (must be on 127.0.0.1 or localhost)
#   BACKENDS="sqlite postgres"   HW_PORT=18080   PROBE_PORT=18090   SKIP_BUILD=0
set -euo pipefail

DURATION=${DURATION:-30s}
RUNS=${RUNS:-3}
CONNECTIONS=${CONNECTIONS:-64}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
BACKENDS=${BACKENDS:-sqlite postgres}
HW_PORT=${HW_PORT:-18080}
PROBE_PORT=${PROBE_PORT:-18090}
SKIP_BUILD=${SKIP_BUILD:-0}
# Requests per minute per key; u32 in the config. Huge, but the limiter still runs.
HUGE_LIMIT=1000000000
PROBE_ID=500 # a row the ceiling probe seeds (1–1000)

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
HW_BIN=$TARGET_DIR/release/hirewire
PROBE_BIN=$TARGET_DIR/release/ceiling-probe
BODY=$ROOT/bench/job.json # what each POST sends (bench/post_job.lua)
RESULTS=$ROOT/bench/results/$(date -u +%Y%m%dT%H%M%SZ)
METRICS=$RESULTS/metrics.tsv # run, scenario, req/s, p99 ms, non-2xx, socket errors
STARTS=$RESULTS/starts.tsv   # run, server, start-to-ready ms, idle RSS kB
WAL_SIZES=$RESULTS/wal.tsv   # run, server, bytes of SQLite's WAL file after the loads

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

# --- guard rails -------------------------------------------------------------------------

[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, got '$RUNS'"
[[ $DURATION =~ ^[0-9]+[smh]?$ ]] || die "DURATION must look like 30s, got '$DURATION'"
for b in $BACKENDS; do
  [[ $b == sqlite || $b == postgres ]] || die "BACKENDS may hold sqlite and postgres, got '$b'"
done
if [[ " $BACKENDS " == *" postgres "* ]]; then
  pg_host=${PG_URL#*://}
  pg_host=${pg_host#*@}
  pg_host=${pg_host%%[:/?]*}
  [[ $pg_host == 127.0.0.1 || $pg_host == localhost ]] || die "PG_URL must point at 127.0.0.1 or localhost (got host '$pg_host')"
  command -v psql >/dev/null || die "psql is needed for the PostgreSQL backend (or set BACKENDS=sqlite)"
  psql "$PG_URL" -qAtc 'SELECT 1' >/dev/null || die "cannot reach PostgreSQL at $PG_URL"
fi

# --- tools and binaries ------------------------------------------------------------------

if ! command -v wrk >/dev/null; then
  log "installing wrk with apt-get"
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y -qq wrk >/dev/null 2>&1 ||
    { "${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq wrk >/dev/null; }
  command -v wrk >/dev/null || die "wrk is still missing after apt-get install"
fi

if [[ $SKIP_BUILD != 1 ]]; then
  log "building release binaries"
  (cd "$ROOT" && cargo build --release -p hirewire -p hirewire-bench)
fi
[[ -x $HW_BIN && -x $PROBE_BIN ]] || die "missing $HW_BIN or $PROBE_BIN (build them, or unset SKIP_BUILD)"

# --- cleanup -----------------------------------------------------------------------------

TMP=$(mktemp -d "${TMPDIR:-/tmp}/hirewire-bench.XXXXXX")
SERVER_PID=""
WRK_PID=""
PG_SCHEMAS=()

stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 200; i++)); do # 10 s, then SIGKILL
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.05
  done
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

drop_schema() {
  psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS \"$1\" CASCADE" >/dev/null 2>&1 || log "warning: could not drop schema $1"
}

cleanup() {
  local rc=$?
  [[ -z $WRK_PID ]] || { kill -TERM "$WRK_PID" 2>/dev/null || true; wait "$WRK_PID" 2>/dev/null || true; }
  stop_server
  local s
  for s in "${PG_SCHEMAS[@]}"; do drop_schema "$s"; done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- helpers -----------------------------------------------------------------------------

now_us() { echo "${EPOCHREALTIME/./}"; }

# Whether GET $2 on 127.0.0.1:$1 answers 200. Bash built-ins only (no fork), so that polling
# every ~5 ms does not cost more than the thing it measures.
http_ok() {
  local status=""
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 2>/dev/null || true
  IFS= read -r -t 2 status <&3 || true
  exec 3<&- 3>&-
  [[ $status == "HTTP/1."?" 200"* ]]
}

# Waits until GET $2 on port $1 answers 200 (the server is $SERVER_PID, its log $3); prints
# the milliseconds since $4 (microseconds since the epoch, taken just before the spawn).
wait_ready() {
  local port=$1 path=$2 logfile=$3 t0=$4 deadline=$(($(now_us) + 60000000))
  until http_ok "$port" "$path"; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$logfile" >&2; die "the server exited before it was ready"; }
    (($(now_us) < deadline)) || { cat "$logfile" >&2; die "the server was not ready within 60 s"; }
    sleep 0.005
  done
  local t1
  t1=$(now_us)
  awk -v d="$((t1 - t0))" 'BEGIN { printf "%.1f", d / 1000 }'
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Starts a server in the background (sets SERVER_PID), then records start to ready and the
# idle RSS 2 s after ready as "$run $name ms kB" in $STARTS.
#   start_measured RUN NAME PORT READY_PATH LOGFILE -- COMMAND...
start_measured() {
  local run=$1 name=$2 port=$3 path=$4 logfile=$5
  shift 6
  local t0 ms rss
  # Something else on the port would be measured instead (another session's server, say).
  if { exec 3<>"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null; then
    exec 3<&- 3>&-
    die "127.0.0.1:$port is already in use; set HW_PORT / PROBE_PORT to free ports"
  fi
  t0=$(now_us)
  "$@" >"$logfile" 2>&1 &
  SERVER_PID=$!
  ms=$(wait_ready "$port" "$path" "$logfile" "$t0")
  sleep 2
  rss=$(rss_kb "$SERVER_PID")
  printf '%s\t%s\t%s\t%s\n' "$run" "$name" "$ms" "$rss" >>"$STARTS"
  log "$name: ready in $ms ms, idle RSS $((rss / 1024)) MB"
}

# Runs wrk, keeps its output as $RESULTS/run$1-$2.txt and appends its figures to $METRICS.
#   bench RUN SCENARIO WRK_ARGS...
bench() {
  local run=$1 scenario=$2
  shift 2
  local out=$RESULTS/run$run-$scenario.txt shown="wrk -t1 -c$CONNECTIONS -d$DURATION --latency $*"
  # shellcheck disable=SC2001 # a glob cannot say "one or more"
  shown=$(sed 's/hw_live_[A-Za-z0-9]*/hw_live_…/g' <<<"$shown") # the key is not worth keeping
  log "$scenario: $shown"
  echo "# $shown" >"$out"
  # In the background so that a signal to this script ends the run at once (see cleanup).
  wrk -t1 "-c$CONNECTIONS" "-d$DURATION" --latency "$@" >>"$out" 2>&1 &
  WRK_PID=$!
  wait "$WRK_PID" || { cat "$out" >&2; die "wrk failed for $scenario"; }
  WRK_PID=""
  local fields rps p99 non2xx sockerr
  fields=$(parse_wrk "$out")
  [[ -n $fields ]] || { cat "$out" >&2; die "could not read wrk's output for $scenario"; }
  printf '%s\t%s\t%s\n' "$run" "$scenario" "$fields" >>"$METRICS"
  read -r rps p99 non2xx sockerr <<<"$fields"
  log "$scenario: $rps req/s, p99 $p99 ms, non-2xx $non2xx, socket errors $sockerr"
}

# wrk's output -> "req/s p99_ms non2xx socket_errors" (tab-separated).
parse_wrk() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
      if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
      if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
      if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
      return v + 0
    }
    /Latency Distribution/ { dist = 1 }
    dist && $1 == "99%"    { p99 = ms($2); dist = 0 }
    /^Requests\/sec:/      { rps = $2 }
    /Non-2xx or 3xx responses:/ { non2xx = $NF }
    /Socket errors:/ { gsub(/,/, ""); sock = $4 + $6 + $8 + $10 }
    END { if (rps != "") printf "%s\t%.3f\t%d\t%d\n", rps, p99, non2xx, sock }
  ' "$1"
}

# An HTTP call with curl: prints the body; fails unless the status is $1.
#   call STATUS CURL_ARGS...
call() {
  local want=$1
  shift
  local body status
  body=$(curl -sS -w '\n%{http_code}' "$@") || die "curl $* failed"
  status=${body##*$'\n'}
  body=${body%$'\n'*}
  [[ $status == "$want" ]] || die "expected HTTP $want from curl $*, got $status: $body"
  printf '%s' "$body"
}

json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

# --- one run of each server ---------------------------------------------------------------

run_hirewire() {
  local run=$1 backend=$2 url schema=""
  case $backend in
  sqlite) url="sqlite://$TMP/run$run.db" ;;
  postgres)
    schema="hwbench_$$_r$run"
    psql "$PG_URL" -v ON_ERROR_STOP=1 -qAtc "CREATE SCHEMA \"$schema\"" >/dev/null
    PG_SCHEMAS+=("$schema")
    local sep='?'
    [[ $PG_URL == *\?* ]] && sep='&'
    url="$PG_URL${sep}options=-c%20search_path%3D$schema"
    ;;
  esac
  local base="http://127.0.0.1:$HW_PORT" admin_key
  admin_key="hw_live_bench$(tr -dc 'a-zA-Z0-9' </dev/urandom | head -c 32 || true)"
  log "run $run: hirewire on $backend"
  start_measured "$run" "hirewire-$backend" "$HW_PORT" /healthz/ready "$RESULTS/run$run-hirewire-$backend.log" -- \
    env NO_COLOR=1 HIREWIRE_BOOTSTRAP_KEY="$admin_key" \
    HIREWIRE_RATE_LIMITS__JOBS=$HUGE_LIMIT HIREWIRE_RATE_LIMITS__DEFAULT=$HUGE_LIMIT \
    HIREWIRE_RATE_LIMITS__CANDIDATE_SEARCH=$HUGE_LIMIT HIREWIRE_RATE_LIMITS__CANDIDATE_READ=$HUGE_LIMIT \
    "$HW_BIN" serve --bind "127.0.0.1:$HW_PORT" --database-url "$url"

  # A key like a client's (not the admin key), and a job to read.
  local key job_id
  key=$("$HW_BIN" keys create --tenant default --name bench --scopes jobs:read,jobs:write --database-url "$url" | json_field key)
  [[ $key == hw_live_* ]] || die "could not create an API key"
  # Creating it also checks, before the load, that the body the POST load sends is accepted.
  job_id=$(call 201 -X POST "$base/api/v1/jobs" -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
    --data-binary "@$BODY" | json_field id | head -n 1)
  [[ -n $job_id ]] || die "could not create a job"
  call 200 "$base/api/v1/jobs/$job_id" -H "Authorization: Bearer $key" >/dev/null

  bench "$run" "hirewire-$backend-get" -H "Authorization: Bearer $key" "$base/api/v1/jobs/$job_id"
  HIREWIRE_BENCH_KEY=$key HIREWIRE_BENCH_BODY=$BODY bench "$run" "hirewire-$backend-post" -s "$ROOT/bench/post_job.lua" "$base/api/v1/jobs"
  if [[ $backend == sqlite ]]; then
    # The WAL file keeps the largest size it reached (no journal_size_limit): the bound the
    # checkpoints kept under the loads.
    local wal
    wal=$(stat -c %s "$TMP/run$run.db-wal" 2>/dev/null || echo 0)
    printf '%s	hirewire-sqlite	%s
' "$run" "$wal" >>"$WAL_SIZES"
    log "hirewire-sqlite: largest WAL file $wal bytes"
  fi

  stop_server
  case $backend in
  sqlite) rm -f "$TMP/run$run.db"* ;;
  postgres) drop_schema "$schema" ;;
  esac
}

run_ceiling() {
  local run=$1 base="http://127.0.0.1:$PROBE_PORT"
  log "run $run: ceiling-probe"
  start_measured "$run" ceiling-probe "$PROBE_PORT" /bare "$RESULTS/run$run-ceiling-probe.log" -- \
    "$PROBE_BIN" --bind "127.0.0.1:$PROBE_PORT" --db "$TMP/ceiling.db"
  call 200 "$base/sqlite/$PROBE_ID" >/dev/null
  bench "$run" ceiling-bare "$base/bare"
  bench "$run" ceiling-sqlite "$base/sqlite/$PROBE_ID"
  bench "$run" ceiling-sqlite-inline "$base/sqlite-inline/$PROBE_ID"
  stop_server
}

# --- the runs ------------------------------------------------------------------------------

mkdir -p "$RESULTS"
: >"$METRICS"
: >"$STARTS"
: >"$WAL_SIZES"
{
  echo "date: $(date -u +%FT%TZ)"
  echo "command: DURATION=$DURATION RUNS=$RUNS CONNECTIONS=$CONNECTIONS BACKENDS='$BACKENDS' bash bench/run.sh"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
  echo "cpu: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
  echo "kernel: $(uname -sr)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "wrk: $(wrk -v 2>&1 | head -n 1)"
  echo "rustc: $(rustc -V 2>/dev/null || echo '?')"
  if [[ " $BACKENDS " == *" postgres "* ]]; then echo "postgresql: $(psql "$PG_URL" -qAtc 'SHOW server_version')"; fi
} >"$RESULTS/env.txt"
log "results in ${RESULTS#"$ROOT"/}"

for ((run = 1; run <= RUNS; run++)); do
  for backend in $BACKENDS; do run_hirewire "$run" "$backend"; done
  run_ceiling "$run"
done

# --- summary -------------------------------------------------------------------------------

# The median of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -F'\t' -v s="$2" -v c="$3" '$2 == s { print $c }' "$1"; }
sum() { awk '{ s += $1 } END { print s + 0 }'; }

# meets VALUE OP LIMIT -> yes/no
meets() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { if (v == "n/a") print "-"; else print ((op == ">=" ? v >= l : v <= l) ? "yes" : "NO") }'; }

{
  echo "Hirewire benchmark: wrk -t1 -c$CONNECTIONS -d$DURATION --latency, $RUNS run(s), medians over runs"
  sed -n 's/^\(commit\|cpu\|load average at start\): /  \1: /p' "$RESULTS/env.txt"
  if [[ $DURATION != 30s || $RUNS -lt 3 ]]; then
    echo "  NOTE: not the criterion's settings (30s, 3 runs): these figures are not results."
  fi
  echo
  printf '%-30s %12s %10s %8s  %s\n' scenario "req/s" "p99 ms" errors target
  row() { # scenario label rps_target(op limit|-) p99_limit(-)
    local s=$1 label=$2 rps p99 errs target="" ok=""
    rps=$(col "$METRICS" "$s" 3 | median)
    p99=$(col "$METRICS" "$s" 4 | median)
    errs=$(($(col "$METRICS" "$s" 5 | sum) + $(col "$METRICS" "$s" 6 | sum)))
    [[ $rps == n/a ]] && return 0
    if [[ $3 != - ]]; then target="req/s >= $3"; ok=$(meets "$rps" ">=" "$3"); fi
    if [[ $4 != - ]]; then target+=", p99 <= $4 ms"; [[ $(meets "$p99" "<=" "$4") == yes ]] || ok=NO; fi
    printf '%-30s %12.0f %10.2f %8d  %s%s\n' "$label" "$rps" "$p99" "$errs" "$target" "${ok:+ ($ok)}"
  }
  row hirewire-sqlite-get "hirewire GET job, SQLite" 25000 10
  row hirewire-sqlite-post "hirewire POST job, SQLite" 4000 -
  row hirewire-postgres-get "hirewire GET job, PostgreSQL" 12000 -
  row hirewire-postgres-post "hirewire POST job, PostgreSQL" - -
  row ceiling-bare "ceiling: bare axum" - -
  row ceiling-sqlite "ceiling: axum + sqlx SQLite" - -
  row ceiling-sqlite-inline "ceiling: axum + inline SQLite" - -
  echo
  printf '%-30s %12s %10s  %s\n' server "ready ms" "idle MB" target
  for name in hirewire-sqlite hirewire-postgres ceiling-probe; do
    ms=$(col "$STARTS" "$name" 3 | median)
    [[ $ms == n/a ]] && continue
    rss=$(col "$STARTS" "$name" 4 | median)
    mb=$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')
    if [[ $name == hirewire-* ]]; then
      target="ready <= 200 ms ($(meets "$ms" "<=" 200)), idle <= 30 MB ($(meets "$mb" "<=" 30))"
    else
      target="(fresh database seeded with 1,000 rows)"
    fi
    printf '%-30s %12.1f %10s  %s\n' "$name" "$ms" "$mb" "$target"
  done
  wal=$(col "$WAL_SIZES" hirewire-sqlite 3 | median)
  [[ $wal == n/a ]] || awk -v w="$wal" 'BEGIN { printf "largest SQLite WAL file after the loads: %.1f MB\n", w / 1048576 }'
  echo
  hw=$(col "$METRICS" hirewire-sqlite-get 3 | median)
  ceil=$(col "$METRICS" ceiling-sqlite 3 | median)
  bare=$(col "$METRICS" ceiling-bare 3 | median)
  inline=$(col "$METRICS" ceiling-sqlite-inline 3 | median)
  if [[ $hw != n/a && $ceil != n/a ]]; then
    awk -v h="$hw" -v c="$ceil" -v b="$bare" -v i="$inline" 'BEGIN {
      printf "ratio hirewire GET (SQLite) / sqlx SQLite ceiling:   %.2f\n", h / c
      if (i != "n/a" && i > 0) printf "ratio hirewire GET (SQLite) / inline SQLite ceiling: %.2f\n", h / i
      if (b != "n/a" && b > 0) printf "ratio hirewire GET (SQLite) / bare axum:            %.2f\n", h / b
    }'
  fi
  echo "errors = non-2xx answers + socket errors, summed over runs; raw output in ${RESULTS#"$ROOT"/}/"
} | tee "$RESULTS/summary.txt"
