"""A webhook receiver that checks Hirewire's deliveries the way integrators will.

Usage: python webhook_receiver.py --port PORT --secret whsec_... [--secret whsec_...]

Give a second --secret to play a receiver in the middle of a rotation (it knows the old
secret only, or both). Port 0 picks a free port. On start it prints `LISTENING <port>`;
then, for every POST, one JSON line with what it found, before it answers: 204 when the
delivery verified and every forgery below was refused, 400 otherwise.

Each delivery is checked two independent ways, so that a bug shared by our signer and
our own verifier cannot hide:
  - `webhook-signature` with the Standard Webhooks reference library (`standardwebhooks`);
  - `X-Webhook-Signature` by hand from DESIGN §5, as a Stripe-style receiver would.
A verifier that accepts everything would pass that, so each genuine delivery is also
turned into three forgeries (tampered body, wrong secret, stale timestamp) that both
checks must refuse.

Standard library only, apart from `standardwebhooks` (scripts/ci-requirements.txt).
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import sys
import threading
import time
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from standardwebhooks import Webhook
    from standardwebhooks.webhooks import WebhookVerificationError
except ImportError as error:  # the Rust test skips or fails on this line, not on a traceback
    print(f"standardwebhooks is not installed: {error}", file=sys.stderr, flush=True)
    sys.exit(3)

TOLERANCE_SECS = 300
# Far enough beyond the tolerance that a slow machine cannot make it fresh again.
STALE_SECS = TOLERANCE_SECS + 60

PRINT_LOCK = threading.Lock()


def emit(line):
    with PRINT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


# --- X-Webhook-Signature, by hand ---------------------------------------------------------


def sign_x(secret, t, body):
    """The v1 value: the key is the whole secret string, `whsec_` included."""
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def verify_x(secret, header, body, now):
    """True when `t=` is fresh and one of the `v1=` values matches."""
    t, candidates = None, []
    for item in (header or "").split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            return False
        if key == "t":
            if t is not None or not value.isdigit():
                return False
            t = int(value)
        elif key == "v1":
            candidates.append(value)
    if t is None or abs(now - t) > TOLERANCE_SECS:
        return False
    expected = sign_x(secret, t, body)
    return any(hmac.compare_digest(expected, c) for c in candidates)


# --- webhook-signature, with the Standard Webhooks library --------------------------------


def standard_headers(headers):
    return {
        "webhook-id": headers.get("webhook-id", ""),
        "webhook-timestamp": headers.get("webhook-timestamp", ""),
        "webhook-signature": headers.get("webhook-signature", ""),
    }


def verify_standard(secret, body, headers):
    try:
        Webhook(secret).verify(body, headers)
        return True
    except Exception:  # noqa: BLE001 - any failure is a refusal here
        return False


def standard_refuses(secret, body, headers, reason=None):
    """True only when the library refuses for a signature reason (not a crash on our input)."""
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError as error:
        return reason is None or reason in str(error)
    except Exception:  # noqa: BLE001
        return False
    return False


def random_secret(known):
    while True:
        secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
        if secret not in known:
            return secret


def check(secrets, body, headers):
    now = int(time.time())
    std = standard_headers(headers)
    x_header = headers.get("X-Webhook-Signature", "")

    standard_ok = any(verify_standard(s, body, std) for s in secrets)
    stripe_ok = any(verify_x(s, x_header, body, now) for s in secrets)

    # Appending whitespace keeps the body valid JSON and UTF-8, so only the signature
    # can make the library refuse it.
    tampered = body + b" "
    tampered_rejected = all(
        standard_refuses(s, tampered, std) and not verify_x(s, x_header, tampered, now)
        for s in secrets
    )

    wrong = random_secret(secrets)
    wrong_secret_rejected = standard_refuses(wrong, body, std) and not verify_x(
        wrong, x_header, body, now
    )

    # Stale: the genuine signature seen by a clock that has moved past the tolerance, and a
    # delivery re-signed with the right secret at an old timestamp, seen now.
    old = now - STALE_SECS
    stale_rejected = True
    for s in secrets:
        try:
            old_signature = Webhook(s).sign(
                std["webhook-id"], datetime.fromtimestamp(old, tz=timezone.utc), body.decode()
            )
            resigned = {**std, "webhook-timestamp": str(old), "webhook-signature": old_signature}
        except Exception:  # noqa: BLE001 - a body the library cannot sign proves nothing
            stale_rejected = False
            break
        resigned_x = f"t={old},v1={sign_x(s, old, body)}"
        stale_rejected = stale_rejected and (
            standard_refuses(s, body, resigned, reason="too old")
            and not verify_x(s, x_header, body, now + STALE_SECS)
            and not verify_x(s, resigned_x, body, now)
            # The re-signed header is genuine apart from its age: the check must be the clock.
            and verify_x(s, resigned_x, body, old)
        )

    return {
        "standard_ok": standard_ok,
        "stripe_ok": stripe_ok,
        "tampered_rejected": tampered_rejected,
        "wrong_secret_rejected": wrong_secret_rejected,
        "stale_rejected": stale_rejected,
    }


class Handler(BaseHTTPRequestHandler):
    secrets = []
    verbose = False

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        try:
            event_id = json.loads(body).get("event_id")
        except Exception:  # noqa: BLE001
            event_id = None
        flags = check(self.secrets, body, self.headers)
        report = {
            "delivery_id": self.headers.get("X-Webhook-Delivery-Id"),
            "webhook_id": self.headers.get("webhook-id"),
            "event": self.headers.get("X-Webhook-Event"),
            "event_id": event_id,
            **flags,
        }
        line = json.dumps(report)
        # The line goes out before the answer, so whoever got the answer can read it.
        emit(line)
        if all(flags.values()):
            self.send_response(204)
            self.end_headers()
        else:
            payload = line.encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, format, *args):  # noqa: A002 - stdout is for the JSON lines
        if self.verbose:
            sys.stderr.write("webhook_receiver: " + (format % args) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--secret",
        action="append",
        required=True,
        help="whsec_... secret; repeat it for the old secret during a rotation",
    )
    parser.add_argument("--verbose", action="store_true", help="log each request to stderr")
    args = parser.parse_args()

    Handler.secrets = args.secret
    Handler.verbose = args.verbose
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    emit(f"LISTENING {server.server_address[1]}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
