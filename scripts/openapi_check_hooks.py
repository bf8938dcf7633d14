"""Schemathesis hooks for scripts/openapi-check.sh, and the webhook sink it runs.

Keys. The run authenticates with one admin key. Schemathesis learns ids from responses (the
key list includes that key), so sooner or later it revokes or rotates the very key it is
using, and every later request is a 401 that tests nothing. Calls that would do that are
aimed at a spare key instead.

Webhooks. Left alone, schemathesis never gets past the validation of a subscription: `url`
and `events` are plain strings in the document (the event types are data, listed by
`GET /api/v1/event-types`), so nearly every generated subscription is refused, and the
`whk_`/`dlv_` ids it makes up are all 404s. So:

  - every `url` in a subscription's body is replaced by this run's local sink (below). This
    is also what keeps the run's deliveries on this machine: the server runs with
    `webhooks.allow_insecure_targets` so that it may deliver to the sink, and would otherwise
    send to whatever host was generated. The SSRF guard is tested in
    crates/hirewire-server/tests/api/webhooks.rs instead;
  - most generated event types are mapped onto real ones (the rest stay as generated, so
    unknown types are still sent and refused);
  - most generated ids of webhook and delivery routes are replaced by real ones the script
    made beforehand: a subscription whose deliveries succeed, one whose deliveries fail, and
    a delivery of each; DELETE is aimed at spare subscriptions only. The rest stay as
    generated, so unknown ids are still sent, and so do real-looking ids, which come from
    the responses of the stateful phase.

Every choice is a function of the generated value, so a run stays reproducible from its seed.

The sink: `python openapi_check_hooks.py --sink` serves on a free port of 127.0.0.1, prints
`LISTENING <port>`, then one line per request; it answers 500 under `/fail` and 204 elsewhere.
"""

import json
import os
import re
import sys
import zlib

# CPython 3.11 up to 3.11.7 can raise SystemError ("AST constructor recursion depth
# mismatch") when hypothesis parses a module's source, deep in a call stack, only to describe
# a filter lambda for its reports. The description is cosmetic: fall back to a plain one rather
# than let an interpreter bug end the run with a "runtime error".
try:
    from hypothesis.internal import lambda_sources as _lambda_sources

    _describe_lambda = _lambda_sources._lambda_description

    def _lambda_description_or_plain(*args, **kwargs):
        try:
            return _describe_lambda(*args, **kwargs)
        except SystemError:
            return "lambda"

    _lambda_sources._lambda_description = _lambda_description_or_plain
except (ImportError, AttributeError):
    pass

# Operations that would disable the key they are called on (rotation with a zero grace
# period retires the old secret at once).
DISABLING = {
    ("POST", "/api/v1/keys/{id}/revoke"),
    ("DELETE", "/api/v1/keys/{id}"),
    ("POST", "/api/v1/keys/{id}/rotate"),
}

# The shape of a real id: schemathesis only has one from a response (stateful links), and
# such ids are sent as they are.
REAL_ID = re.compile(r"^(whk|dlv)_[0-9a-f]{32}$")

SUBSCRIPTION_BODIES = {
    ("POST", "/api/v1/webhooks"),
    ("PATCH", "/api/v1/webhooks/{id}"),
}


def _list(name):
    return [v for v in os.environ.get(name, "").split(",") if v]


def _pick(value, choices):
    """A choice that depends only on the generated value."""
    digest = zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode())
    return choices[digest % len(choices)]


def _keep(value, one_in):
    """True for about one generated value in `one_in`: those are sent as generated."""
    digest = zlib.crc32(("keep:" + json.dumps(value, sort_keys=True, default=str)).encode())
    return digest % one_in == 0


def _fix_subscription_body(body, sink, event_types):
    if not isinstance(body, dict):
        return
    if isinstance(body.get("url"), str):
        # Always: no generated host may become a delivery target.
        body["url"] = sink + _pick(body["url"], ["/ok", "/ok", "/ok", "/fail"])
    events = body.get("events")
    if (
        event_types
        and isinstance(events, list)
        and events
        and all(isinstance(e, str) for e in events)
        and not _keep(events, 8)
    ):
        body["events"] = [_pick(e, event_types) for e in events]


def _fix_id(case, method, path):
    params = case.path_parameters
    if not isinstance(params, dict) or "id" not in params:
        return
    generated = params["id"]
    real = isinstance(generated, str) and REAL_ID.match(generated) is not None
    if path.startswith("/api/v1/webhooks/{id}"):
        fixtures = _list("OPENAPI_CHECK_WEBHOOK_IDS")
        if method == "DELETE":
            spares = _list("OPENAPI_CHECK_SPARE_WEBHOOK_IDS")
            if spares and (generated in fixtures or not (real or _keep(generated, 4))):
                params["id"] = _pick(generated, spares)
        elif fixtures and not (real or _keep(generated, 4)):
            params["id"] = _pick(generated, fixtures)
    elif path.startswith("/api/v1/webhook-deliveries/{id}"):
        deliveries = _list("OPENAPI_CHECK_DELIVERY_IDS")
        if deliveries and not (real or _keep(generated, 4)):
            params["id"] = _pick(generated, deliveries)


def _register():
    import schemathesis

    own_key_id = os.environ["OPENAPI_CHECK_OWN_KEY_ID"]
    spare_key_id = os.environ["OPENAPI_CHECK_SPARE_KEY_ID"]
    sink = os.environ["OPENAPI_CHECK_SINK_URL"]
    event_types = _list("OPENAPI_CHECK_EVENT_TYPES")

    @schemathesis.hook
    def before_call(context, case, kwargs):
        method, path = case.method.upper(), case.path
        if (method, path) in DISABLING:
            params = case.path_parameters or {}
            if params.get("id") == own_key_id:
                params["id"] = spare_key_id
            return
        if (method, path) in SUBSCRIPTION_BODIES:
            _fix_subscription_body(case.body, sink, event_types)
        _fix_id(case, method, path)


def _sink():
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status = 500 if self.path.startswith("/fail") else 204
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            sys.stdout.write(f"{status} {self.path} {self.headers.get('X-Webhook-Event')}\n")
            sys.stdout.flush()

        def log_message(self, format, *args):  # noqa: A002 - stdout has one line per request
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    sys.stdout.write(f"LISTENING {server.server_address[1]}\n")
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    if sys.argv[1:] != ["--sink"]:
        sys.exit("usage: openapi_check_hooks.py --sink")
    _sink()
else:
    _register()
