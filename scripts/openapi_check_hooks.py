"""Schemathesis hooks for scripts/openapi-check.sh.

The run authenticates with one admin key. Schemathesis learns ids from responses (the key
list includes that key), so sooner or later it revokes or rotates the very key it is
using, and every later request is a 401 that tests nothing. Calls that would do that are
aimed at a spare key instead; everything else is sent as generated.
"""

import os

import schemathesis

OWN_KEY_ID = os.environ["OPENAPI_CHECK_OWN_KEY_ID"]
SPARE_KEY_ID = os.environ["OPENAPI_CHECK_SPARE_KEY_ID"]

# Operations that would disable the key they are called on (rotation with a zero grace
# period retires the old secret at once).
DISABLING = {
    ("POST", "/api/v1/keys/{id}/revoke"),
    ("DELETE", "/api/v1/keys/{id}"),
    ("POST", "/api/v1/keys/{id}/rotate"),
}


@schemathesis.hook
def before_call(context, case, kwargs):
    if (case.method.upper(), case.path) not in DISABLING:
        return
    params = case.path_parameters or {}
    if params.get("id") == OWN_KEY_ID:
        params["id"] = SPARE_KEY_ID
