#!/usr/bin/env bash
# OpenAPI conformance check.
#
# Builds the debug binary, then for each backend (SQLite, then PostgreSQL) starts
# `hirewire serve` on a free port over a fresh database, fetches /api/v1/openapi.json,
# validates it as OpenAPI 3.1 (openapi-spec-validator) and fuzzes every operation of the
# live server with schemathesis, authenticated with the bootstrap admin key. Fails on any
# 5xx, any answer the document does not describe, or any ERROR the server logged.
#
# Webhooks: the server may deliver to plain-http loopback targets, and every subscription
# the run makes points at a local sink (openapi_check_hooks.py --sink), which answers 204, or
# 500 under /fail; no delivery leaves the machine. Before fuzzing, the script makes a
# subscription of each kind with a delivery, so that the webhook and delivery operations
# are called with real ids too (see openapi_check_hooks.py).
#
# Settings (environment):
#   OPENAPI_CHECK_BACKENDS      backends to check, default "sqlite postgres"
#   OPENAPI_CHECK_MAX_EXAMPLES  examples per operation and phase, default 100 (about a minute
#                               per backend)
#   OPENAPI_CHECK_SEED          schemathesis seed, default random (printed, to reproduce)
#   OPENAPI_CHECK_POSTGRES_URL  default postgres://postgres@127.0.0.1:5432/test
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BACKENDS="${OPENAPI_CHECK_BACKENDS:-sqlite postgres}"
MAX_EXAMPLES="${OPENAPI_CHECK_MAX_EXAMPLES:-100}"
SEED="${OPENAPI_CHECK_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
POSTGRES_URL="${OPENAPI_CHECK_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
CHECKS="not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"
VENV="$ROOT/target/ci-venv"
BIN="$ROOT/target/debug/hirewire"
KEY="hw_live_openapicheck$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true)"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/openapi-check.XXXXXX")"
SERVER_PID=""
FUZZER_PID=""
SINK_PID=""
SINK_URL=""
PG_SCHEMA=""

log() { printf '==> %s\n' "$*" >&2; }

stop_fuzzer() {
    if [[ -n "$FUZZER_PID" ]]; then
        kill "$FUZZER_PID" 2>/dev/null || true
        wait "$FUZZER_PID" 2>/dev/null || true
        FUZZER_PID=""
    fi
}

stop_server() {
    if [[ -n "$SERVER_PID" ]]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

drop_schema() {
    if [[ -n "$PG_SCHEMA" ]]; then
        psql "$POSTGRES_URL" -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS \"$PG_SCHEMA\" CASCADE" >/dev/null 2>&1 || true
        PG_SCHEMA=""
    fi
}

stop_sink() {
    if [[ -n "$SINK_PID" ]]; then
        kill "$SINK_PID" 2>/dev/null || true
        wait "$SINK_PID" 2>/dev/null || true
        SINK_PID=""
    fi
}

cleanup() {
    stop_fuzzer
    stop_server
    stop_sink
    drop_schema
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# `api METHOD PATH [JSON]`: one authenticated call to the running server; prints the body.
api() {
    curl -fsS -X "$1" "$BASE_URL$2" -H "Authorization: Bearer $KEY" ${3:+-H "Content-Type: application/json" --data "$3"}
}

# `json_get EXPR`: evaluates a Python expression over the JSON document `v` read from stdin.
json_get() {
    "$VENV/bin/python" -c "import json, sys; v = json.load(sys.stdin); print($1)"
}

# Starts the server over $1 (a database URL) on a free port and waits until it is ready.
# Sets SERVER_PID and BASE_URL.
start_server() {
    local url="$1" server_log="$2" addr="" i
    HIREWIRE_BOOTSTRAP_KEY="$KEY" \
    HIREWIRE_RATE_LIMITS__JOBS=1000000 \
    HIREWIRE_RATE_LIMITS__CANDIDATE_SEARCH=1000000 \
    HIREWIRE_RATE_LIMITS__CANDIDATE_READ=1000000 \
    HIREWIRE_RATE_LIMITS__DEFAULT=1000000 \
    HIREWIRE_WEBHOOKS__ALLOW_INSECURE_TARGETS=true \
    RUST_LOG="${RUST_LOG:-info}" \
        "$BIN" serve --bind 127.0.0.1:0 --database-url "$url" --log-format json >"$server_log" 2>&1 &
    SERVER_PID=$!
    # Port 0: the kernel picks a free port, and the server logs the one it got.
    for ((i = 0; i < 600; i++)); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$server_log" >&2
            echo "hirewire serve exited before it was ready" >&2
            return 1
        fi
        if [[ -z "$addr" ]]; then
            addr="$(grep -oE 'listening on http://[0-9.]+:[0-9]+' "$server_log" | head -n1 | sed 's|listening on ||' || true)"
        fi
        if [[ -n "$addr" ]] && curl -fsS -o /dev/null "$addr/healthz/ready"; then
            BASE_URL="$addr"
            return 0
        fi
        sleep 0.1
    done
    cat "$server_log" >&2
    echo "hirewire serve was not ready within 60 s" >&2
    return 1
}

# Starts the webhook sink on a free port of 127.0.0.1 and waits for it. Sets SINK_PID and
# SINK_URL.
start_sink() {
    local sink_log="$1" port="" i
    "$VENV/bin/python" "$ROOT/scripts/openapi_check_hooks.py" --sink >"$sink_log" 2>&1 &
    SINK_PID=$!
    for ((i = 0; i < 100; i++)); do
        port="$(sed -n 's/^LISTENING \([0-9]*\)$/\1/p' "$sink_log" | head -n1)"
        if [[ -n "$port" ]]; then
            SINK_URL="http://127.0.0.1:$port"
            return 0
        fi
        if ! kill -0 "$SINK_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    cat "$sink_log" >&2
    echo "the webhook sink did not start" >&2
    return 1
}

# `first_delivery WEBHOOK_ID STATUS`: waits until the subscription has a delivery in STATUS
# and prints its id.
first_delivery() {
    local id="" i
    for ((i = 0; i < 100; i++)); do
        id="$(api GET "/api/v1/webhooks/$1/deliveries?status=$2" | json_get "v['items'][0]['id'] if v['items'] else ''")" || return 1
        if [[ -n "$id" ]]; then
            echo "$id"
            return 0
        fi
        sleep 0.1
    done
    echo "webhook $1 never had a $2 delivery" >&2
    return 1
}

# Runs every check against one backend, leaving its server running for the caller to stop.
# It is called in an `||` list, where `set -e` does not apply, so each step that can fail
# says `|| return 1`.
check_backend() {
    local backend="$1" url out="$WORK/$1"
    mkdir -p "$out"
    case "$backend" in
        sqlite)
            url="sqlite://$out/hirewire.db"
            ;;
        postgres)
            PG_SCHEMA="openapi_check_$$_$(date +%s)"
            psql "$POSTGRES_URL" -q -v ON_ERROR_STOP=1 -c "CREATE SCHEMA \"$PG_SCHEMA\"" >/dev/null || return 1
            url="$POSTGRES_URL?options=-c%20search_path%3D$PG_SCHEMA"
            ;;
        *)
            echo "unknown backend: $backend" >&2
            return 2
            ;;
    esac

    start_sink "$out/sink.log" || return 1
    log "[$backend] webhook sink on $SINK_URL"
    log "[$backend] starting hirewire serve"
    start_server "$url" "$out/server.log" || return 1
    log "[$backend] serving on $BASE_URL"

    curl -fsS "$BASE_URL/api/v1/openapi.json" -o "$out/openapi.json" || return 1
    log "[$backend] validating the OpenAPI document"
    "$VENV/bin/openapi-spec-validator" --schema 3.1 "$out/openapi.json" || return 1

    # The hooks keep the run from revoking its own key (see openapi_check_hooks.py).
    local own_key_id spare_key_id
    own_key_id="$(api GET /api/v1/keys?limit=200 | json_get "next(k['id'] for k in v['items'] if '$KEY'.startswith(k['prefix']))")" || return 1
    spare_key_id="$(api POST /api/v1/keys '{"name": "openapi-check spare", "scopes": ["jobs:read"]}' | json_get "v['id']")" || return 1

    # Webhook fixtures: one subscription whose deliveries succeed, one whose deliveries
    # fail, a ping delivered to each, and spares for DELETE to remove.
    local event_types ok_hook fail_hook ok_delivery fail_delivery spare_hooks="" spare i
    event_types="$(api GET /api/v1/event-types | json_get "','.join(['*'] + [t['type'] for t in v['items'] if t['type'] != 'ping'])")" || return 1
    ok_hook="$(api POST /api/v1/webhooks "{\"url\": \"$SINK_URL/ok\", \"events\": [\"*\"], \"description\": \"openapi-check: succeeds\"}" | json_get "v['id']")" || return 1
    fail_hook="$(api POST /api/v1/webhooks "{\"url\": \"$SINK_URL/fail\", \"events\": [\"*\"], \"description\": \"openapi-check: fails\"}" | json_get "v['id']")" || return 1
    for ((i = 0; i < 3; i++)); do
        spare="$(api POST /api/v1/webhooks "{\"url\": \"$SINK_URL/ok\", \"events\": [\"job.created\"], \"is_active\": false, \"description\": \"openapi-check: spare\"}" | json_get "v['id']")" || return 1
        spare_hooks="${spare_hooks:+$spare_hooks,}$spare"
    done
    api POST "/api/v1/webhooks/$ok_hook/test" '{}' >/dev/null || return 1
    api POST "/api/v1/webhooks/$fail_hook/test" '{}' >/dev/null || return 1
    ok_delivery="$(first_delivery "$ok_hook" succeeded)" || return 1
    fail_delivery="$(first_delivery "$fail_hook" failed)" || return 1

    log "[$backend] schemathesis: $MAX_EXAMPLES examples per operation, seed $SEED"
    # Run from the scratch directory: schemathesis keeps local state in ./.schemathesis.
    # In the background and waited for, so that a signal to this script stops it at once.
    local status=0
    (
        cd "$out" || exit 1
        export SCHEMATHESIS_HOOKS="$ROOT/scripts/openapi_check_hooks.py"
        export OPENAPI_CHECK_OWN_KEY_ID="$own_key_id" OPENAPI_CHECK_SPARE_KEY_ID="$spare_key_id"
        export OPENAPI_CHECK_SINK_URL="$SINK_URL" OPENAPI_CHECK_EVENT_TYPES="$event_types"
        export OPENAPI_CHECK_WEBHOOK_IDS="$ok_hook,$fail_hook" OPENAPI_CHECK_SPARE_WEBHOOK_IDS="$spare_hooks"
        export OPENAPI_CHECK_DELIVERY_IDS="$ok_delivery,$fail_delivery"
        exec "$VENV/bin/schemathesis" run "$out/openapi.json" \
            --url "$BASE_URL" \
            --header "Authorization: Bearer $KEY" \
            --checks "$CHECKS" \
            --max-examples "$MAX_EXAMPLES" \
            --seed "$SEED" \
            --workers 2 \
            --generation-database none \
            --request-timeout 10 \
            --no-color
    ) &
    FUZZER_PID=$!
    wait "$FUZZER_PID" || status=$?
    FUZZER_PID=""

    log "[$backend] the webhook sink has answered $(grep -c '^204 ' "$out/sink.log" || true) deliveries with 204 and $(grep -c '^500 ' "$out/sink.log" || true) with 500"

    # A 5xx is caught above; this also catches errors that did not reach a response.
    if grep -q '"level":"ERROR"' "$out/server.log"; then
        echo "[$backend] the server logged errors:" >&2
        grep '"level":"ERROR"' "$out/server.log" | head -n 20 >&2
        status=1
    fi

    if [[ $status -ne 0 ]]; then
        echo "[$backend] the server's last log lines:" >&2
        tail -n 30 "$out/server.log" >&2
        echo "[$backend] FAILED (reproduce with OPENAPI_CHECK_SEED=$SEED OPENAPI_CHECK_BACKENDS=$backend)" >&2
    else
        log "[$backend] passed"
    fi
    return "$status"
}

log "building the debug binary"
cargo build -p hirewire
bash "$ROOT/scripts/ci-venv.sh"
log "$("$VENV/bin/schemathesis" --version), openapi-spec-validator $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("openapi-spec-validator"))')"

failed=""
for backend in $BACKENDS; do
    SECONDS=0
    check_backend "$backend" || failed="$failed $backend"
    stop_server
    stop_sink
    drop_schema
    log "[$backend] took ${SECONDS}s"
done

if [[ -n "$failed" ]]; then
    echo "OpenAPI check FAILED on:$failed" >&2
    exit 1
fi
log "OpenAPI check passed on: $BACKENDS"
