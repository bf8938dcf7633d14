#!/usr/bin/env bash
# Candidate search latency (issue "Candidates, CV parsing and candidate search", criterion 8:
# search p50/p95 over 100,000 generated candidates on SQLite and PostgreSQL, p95 ≤ 20 ms).
#
#   bash bench/search.sh                                    # the measurement
#   CANDIDATES=20000 RUNS=1 bash bench/search.sh            # a quicker look (not a result)
#   KEEP_DB=1 bash bench/search.sh; REUSE=1 bash bench/search.sh   # load once, measure again
#
# Builds crates/hirewire-bench's `search-bench` in release. Per backend, a first, unmeasured
# invocation loads CANDIDATES generated candidates into a fresh SQLite file or PostgreSQL schema
# through the domain service (the time is printed, not judged); the measured runs reuse that
# database (--reuse). Before each PostgreSQL run the schema's tables are VACUUMed and ANALYZEd,
# as autovacuum would have done after the load (this machine's server has autovacuum off):
# without it every search reads the dead row versions the load left. Each run starts a
# Hirewire server in the bench's process and sends WARMUP, then REQUESTS search requests over
# HTTP, one at a time, cycling through ~20 fixed queries (limit=20). Prints the medians over
# runs of p50/p95/p99 and of each query's p95. Raw output goes to
# bench/results/search-<UTC time>/. The database is removed at the end unless KEEP_DB=1.
#
# Settings (environment): RUNS=3 BACKENDS="sqlite postgres" CANDIDATES=100000 REQUESTS=2000
#   WARMUP=200 LOADERS=4 PG_URL=postgres://postgres@127.0.0.1:5432/test SKIP_BUILD=0
#   KEEP_DB=0 REUSE=0 (1: reuse the database a KEEP_DB=1 run left instead of loading one)
set -euo pipefail

RUNS=${RUNS:-3}
BACKENDS=${BACKENDS:-sqlite postgres}
CANDIDATES=${CANDIDATES:-100000}
REQUESTS=${REQUESTS:-2000}
WARMUP=${WARMUP:-200}
LOADERS=${LOADERS:-4}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/test}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP_DB=${KEEP_DB:-0}
REUSE=${REUSE:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/search-bench
RESULTS=$ROOT/bench/results/search-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"
LINES=$RESULTS/lines.txt
: >"$LINES"
# Fixed names (per size), so that a KEEP_DB=1 run's database is found by a REUSE=1 run.
SQLITE_DB=${TMPDIR:-/tmp}/hirewire-search-bench-$CANDIDATES.db
PG_SCHEMA=search_bench_$CANDIDATES

log() { printf '[search-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

cleanup() {
  [[ $KEEP_DB == 1 ]] && return 0
  for backend in $BACKENDS; do
    case $backend in
    sqlite) rm -f "$SQLITE_DB" "$SQLITE_DB-wal" "$SQLITE_DB-shm" ;;
    postgres) psql "$PG_URL" -qAtc "DROP SCHEMA IF EXISTS \"$PG_SCHEMA\" CASCADE" >/dev/null 2>&1 || true ;;
    esac
  done
}
trap cleanup EXIT

if [[ $SKIP_BUILD != 1 ]]; then
  log "building search-bench (release)"
  (cd "$ROOT" && cargo build --release -q -p hirewire-bench --bin search-bench)
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "command: RUNS=$RUNS BACKENDS='$BACKENDS' CANDIDATES=$CANDIDATES REQUESTS=$REQUESTS WARMUP=$WARMUP REUSE=$REUSE KEEP_DB=$KEEP_DB bash bench/search.sh"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
  echo "cpu: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  if [[ " $BACKENDS " == *" postgres "* ]]; then echo "postgresql: $(psql "$PG_URL" -qAtc 'SHOW server_version' 2>/dev/null || echo '?')"; fi
} >"$RESULTS/env.txt"

bench() {
  "$BIN" --backend "$1" --pg-url "$PG_URL" --candidates "$CANDIDATES" --loaders "$LOADERS" \
    --db "$SQLITE_DB" --schema "$PG_SCHEMA" "${@:2}" 2> >(tee -a "$RESULTS/stderr.txt" >&2)
}

for backend in $BACKENDS; do
  if [[ $REUSE != 1 ]]; then
    log "$backend: loading $CANDIDATES candidates (not measured)"
    bench "$backend" --requests 0 --warmup 0 | sed -n 's/^summary .*load_s=\([^ ]*\).*/\1/p' |
      sed "s/^/$backend /" >>"$RESULTS/load.txt"
  fi
  for ((run = 1; run <= RUNS; run++)); do
    if [[ $backend == postgres ]]; then
      tables=$(psql "$PG_URL" -qAtc "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables WHERE schemaname = '$PG_SCHEMA'")
      psql "$PG_URL" -qAtc "VACUUM (ANALYZE) $tables" >/dev/null
    fi
    log "$backend run $run: $CANDIDATES candidates, $WARMUP + $REQUESTS requests"
    bench "$backend" --requests "$REQUESTS" --warmup "$WARMUP" --reuse | sed "s/^/run=$run /" | tee -a "$LINES"
  done
done

touch "$RESULTS/load.txt"
python3 - "$LINES" "$RUNS" "$CANDIDATES" "$REQUESTS" "$RESULTS/load.txt" <<'PY' | tee "$RESULTS/summary.txt"
import statistics, sys
path, runs, n, requests = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
loads = dict(l.split() for l in open(sys.argv[5]) if len(l.split()) == 2)
def kv(line):
    head, _, q = line.partition(" q=")
    d = dict(p.split("=", 1) for p in head.split() if "=" in p)
    if q:
        d["q"] = q.strip()
    return d
rows = [kv(l) for l in open(path)]
summaries = [r for r in rows if "p99_ms" in r and "requests" in r]
queries = [r for r in rows if "q" in r]
print(f"\ncandidate search, {n:,} candidates, {requests} sequential requests per run after warm-up, medians over runs (target p95 ≤ 20 ms)")
if runs < 3 or n != 100000 or requests != 2000:
    print("  NOTE: not the criterion's settings (100,000 candidates, 3 runs of 2,000): an indication, not a result.")
med = lambda rs, k: statistics.median(float(r[k]) for r in rs)
for backend in sorted({r["backend"] for r in summaries}):
    rs = [r for r in summaries if r["backend"] == backend]
    p95 = med(rs, "p95_ms")
    load = loads.get(backend, "reused")
    print(f"  {backend:8} p50 {med(rs, 'p50_ms'):.2f} ms  p95 {p95:.2f} ms  p99 {med(rs, 'p99_ms'):.2f} ms  "
          f"({'meets' if p95 <= 20 else 'MISSES'} p95 ≤ 20 ms; p95 runs: {', '.join(r['p95_ms'] for r in rs)}; "
          f"errors {sum(int(r['errors']) for r in rs)})")
    print(f"  {'':8} load {load} s;  RSS (bench process = server + client) at start "
          f"{int(rs[0]['rss_after_load_kb']) / 1024:.0f} MB, server started {med(rs, 'rss_server_started_kb') / 1024:.0f} MB, "
          f"after the requests {med(rs, 'rss_end_kb') / 1024:.0f} MB")
    by_q = {}
    for r in queries:
        if r["backend"] == backend:
            by_q.setdefault((r["i"], r["q"]), []).append(r)
    for (i, q), qs in sorted(by_q.items()):
        p95 = med(qs, "p95_ms")
        print(f"    {q:34} p50 {med(qs, 'p50_ms'):7.2f}  p95 {p95:7.2f} ms  first page {qs[0]['first_page']:>3}{'  > 20 ms' if p95 > 20 else ''}")
PY
log "raw output in ${RESULTS#"$ROOT"/}/"
