"""The web chat's cookie: issued and signed by the server, so a browser cannot choose or forge who it is.

A cookie is `<id>.<last used, unix seconds>.<HMAC-SHA256>` under a key the runtime derives from a secret with a
label of its own. Pure: no storage, no clock (callers pass `now`), no logging of cookie values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

LIFETIME = timedelta(days=30)
"""How long a chat cookie lasts without being used; every message renews it."""


@dataclass(frozen=True)
class Checked:
    """What a presented cookie turned out to be: `sender` is None unless the signature is ours."""

    sender: str | None
    expired: bool = False  # signed by us, but unused for longer than the lifetime


class ChatCookie:
    """Issues, renews and checks chat cookies. The first key signs; every key verifies (for a key change)."""

    def __init__(self, keys: Sequence[bytes], *, lifetime: timedelta = LIFETIME) -> None:
        if not keys or not all(keys):
            raise ValueError("the chat cookie needs a signing key")
        self._keys = list(keys)
        self.lifetime = lifetime

    @staticmethod
    def new_sender() -> str:
        """A fresh anonymous id (never shown to anyone; hashed like any channel id before storage)."""
        return secrets.token_urlsafe(24)

    def _sign(self, key: bytes, body: str) -> str:
        mac = hmac.new(key, body.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def issue(self, sender: str, *, now: datetime) -> str:
        """The cookie value for `sender`, stamped with `now` (issuing again renews it)."""
        body = f"{sender}.{int(now.timestamp())}"
        return f"{body}.{self._sign(self._keys[0], body)}"

    def check(self, value: str | None, *, now: datetime) -> Checked:
        """Who this cookie is, if we signed it and it was used within the lifetime."""
        parts = (value or "").split(".")
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
            return Checked(None)
        body = f"{parts[0]}.{parts[1]}"
        if not any(hmac.compare_digest(self._sign(k, body), parts[2]) for k in self._keys):
            return Checked(None)
        age = now.timestamp() - int(parts[1])
        if age > self.lifetime.total_seconds() or age < -300:  # from the future: not one of ours in this life
            return Checked(None, expired=True)
        return Checked(parts[0])

    def signed_sender(self, value: str | None) -> str | None:
        """The id inside a cookie we signed, whatever its age (to unlink an expired one server-side)."""
        parts = (value or "").split(".")
        if len(parts) != 3:
            return None
        body = f"{parts[0]}.{parts[1]}"
        ok = any(hmac.compare_digest(self._sign(k, body), parts[2]) for k in self._keys)
        return parts[0] if ok else None
