"""Request checks before anything is read: Slack's signature and age, and a body that is well formed."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl

MAX_SIGNATURE_AGE = 300  # seconds: Slack's own rule, against replayed requests
MAX_BODY = 1_000_000


# ------------------------------------------------------------------------------------------ signatures


def verify_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: float,
    max_age: int = MAX_SIGNATURE_AGE,
) -> bool:
    """Slack's v0 scheme over the raw body, in constant time; stale (or far-future) timestamps fail."""
    if not secret or not timestamp or not signature:
        return False
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now - ts) > max_age:
        return False
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace"))


def well_formed(body: str, content_type: str) -> bool:
    """Whether a (signed) body is one Bolt can read: a JSON object, or a form whose `payload`, if any, is one.

    Mirrors Bolt's own choice of parser, so a malformed body gets a 400 here instead of an exception in Bolt.
    """
    if not body:
        return True
    try:
        if content_type.split(";")[0].strip() == "application/json" or body.startswith("{"):
            return isinstance(json.loads(body), dict)
        payload = dict(parse_qsl(body, keep_blank_values=True)).get("payload") if "payload" in body else None
        return payload is None or isinstance(json.loads(payload), dict)
    except ValueError:
        return False


