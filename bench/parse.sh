#!/usr/bin/env bash
# CV parse throughput on one thread (issue "Candidates, CV parsing and candidate search",
# criterion 8: ≥ 200 documents/s per core for 2-page PDF and DOCX CVs).
#
#   bash bench/parse.sh                       # the measurement: 3 runs of 10 s per format
#   RUNS=1 DURATION=2 bash bench/parse.sh     # a quick check that it works (not a result)
#
# Builds crates/hirewire-bench's `parse-bench` in release and runs it: it parses every CV of
# each format in DIR (by default the 2-page CVs of crates/hirewire-bench/fixtures/two-page/,
# rendered from the parser's fixture corpus by its generate.py; DIR=crates/hirewire-cv/tests/
# fixtures/cvs measures the 1-page corpus itself) with `hirewire_cv::parse` on one thread, round-robin, for DURATION
# seconds, then as long again with the time split between text extraction and field
# extraction; RUNS times. Prints one summary line per format (median documents/s over the
# runs), both per wall-clock second and per CPU-second of the parsing thread (on a machine
# shared with other work the second is the better estimate of "per core"; on an idle one they
# agree). The pages of each PDF (pdfinfo) are listed first, since the criterion is about 2-page
# CVs; DOCX files carry no reliable page count, so compare the average characters of text the
# bench prints per format instead. Raw output goes to
# bench/results/parse-<UTC time>/.
#
# Settings (environment): RUNS=3 DURATION=10 FORMATS=pdf,docx
#   DIR=crates/hirewire-bench/fixtures/two-page/cvs SKIP_BUILD=0
set -euo pipefail

RUNS=${RUNS:-3}
DURATION=${DURATION:-10}
FORMATS=${FORMATS:-pdf,docx}
SKIP_BUILD=${SKIP_BUILD:-0}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${DIR:-$ROOT/crates/hirewire-bench/fixtures/two-page/cvs}
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/release/parse-bench
RESULTS=$ROOT/bench/results/parse-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$RESULTS"

log() { printf '[parse-bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [[ $SKIP_BUILD != 1 ]]; then
  log "building parse-bench (release)"
  (cd "$ROOT" && cargo build --release -q -p hirewire-bench --bin parse-bench)
fi

{
  echo "date: $(date -u +%FT%TZ)"
  echo "command: RUNS=$RUNS DURATION=$DURATION FORMATS=$FORMATS bash bench/parse.sh"
  echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo ' (with local changes)')"
  echo "cpu: $(nproc) x $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc -V 2>/dev/null || echo '?')"
} >"$RESULTS/env.txt"

# Pages per document: the criterion is about 2-page CVs, so the reader must see what was parsed.
pages() {
  case $1 in
  *.pdf) if command -v pdfinfo >/dev/null; then pdfinfo "$1" 2>/dev/null | awk '/^Pages:/ { print $2 }'; else echo '?'; fi ;;
  # docProps/app.xml holds whatever page count the template had; python-docx never updates it.
  *.docx) echo '?' ;;
  *) echo '-' ;;
  esac
}
for ext in ${FORMATS//,/ }; do
  list=""
  for f in "$DIR"/*."$ext"; do
    [[ -e $f ]] || continue
    list+="$(pages "$f") "
  done
  echo "pages per $ext document: ${list:-none}" | tee -a "$RESULTS/env.txt" >&2
done

log "parsing ${FORMATS} from ${DIR#"$ROOT"/}: $RUNS run(s) of ${DURATION} s per format (+ ${DURATION} s split)"
"$BIN" --dir "$DIR" --formats "$FORMATS" --seconds "$DURATION" --runs "$RUNS" | tee "$RESULTS/lines.txt"

echo
echo "CV parse throughput, one thread, medians of $RUNS run(s) (target ≥ 200 documents/s per core):"
if [[ $RUNS -lt 3 || $DURATION != 10 ]]; then
  echo "  NOTE: not the default settings (3 runs of 10 s): an indication, not a result."
fi
awk '/^summary / {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  printf "  %-5s %6s docs/s wall-clock (runs %s), %6s docs per CPU-second (runs %s); %s documents; extraction %s ms + fields %s ms per document (%s in extraction)  %s\n",
    v["format"], v["docs_per_s"], v["per_run"], v["docs_per_cpu_s"], v["cpu_per_run"], v["documents"], v["extract_ms"], v["fields_ms"], v["extract_share"],
    (v["docs_per_s"] + 0 >= 200 ? "meets ≥ 200" : (v["docs_per_cpu_s"] + 0 >= 200 ? "below 200 wall-clock, meets per CPU-second" : "BELOW 200"))
}' "$RESULTS/lines.txt" | tee "$RESULTS/summary.txt"
log "raw output in ${RESULTS#"$ROOT"/}/"
