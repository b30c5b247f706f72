"""A loopback stand-in for a Web Push service (RFC 8030), enough for pywebpush and for a test acting as the browser.

`subscription(app_server_key)` plays the browser: it makes a P-256 key pair and auth secret (RFC 8291) and returns
the PushSubscription JSON whose endpoint is this service. POST /push/{token} is checked as a push service does:
the VAPID header (RFC 8292, `vapid t=<JWT>,k=<key>`) must carry the key the subscription was made for, the ES256 JWT
must verify with it, `aud` must be this service's origin, `exp` in the future and at most 24 hours away, `sub` a
mailto: or https: address; the body must be aes128gcm and is decrypted with the subscription's private key (what
the browser would do). Answers 201, or what the test queues: 404, 410, 429 (with Retry-After), 5xx. Keeps every
accepted message, decrypted. An unknown token answers 404, as for an expired subscription.
"""

from __future__ import annotations

import base64
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Received:
    """One push the service accepted, as the browser would get it."""

    token: str
    body: str  # decrypted
    ttl: str | None
    claims: dict[str, Any]


@dataclass
class _Browser:
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes
    app_server_key: str


@dataclass
class PushStandIn:
    """Context manager: ``with PushStandIn() as push:`` serves on ``push.base_url``."""

    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # why each refused request was refused
    answers: list[tuple[int, str | None]] = field(default_factory=list)  # (status, Retry-After) for the next posts
    requests: int = 0
    _subs: dict[str, _Browser] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def subscription(self, app_server_key: str) -> dict[str, Any]:
        """What `pushManager.subscribe({applicationServerKey})` would give a page, its private half kept here."""
        key = ec.generate_private_key(ec.SECP256R1())
        auth = os.urandom(16)
        token = uuid.uuid4().hex
        self._subs[token] = _Browser(key, auth, app_server_key)
        point = key.public_key().public_bytes(serialization.Encoding.X962,
                                              serialization.PublicFormat.UncompressedPoint)
        return {"endpoint": f"{self.base_url}/push/{token}", "keys": {"p256dh": b64url(point), "auth": b64url(auth)}}

    def expire(self, endpoint: str) -> None:
        """The browser dropped the subscription: its endpoint answers 404 from now on."""
        self._subs.pop(endpoint.rsplit("/", 1)[-1], None)

    def answer_next(self, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self.answers.extend([(status, retry_after)] * times)

    def check(self, token: str, headers: Any, body: bytes) -> tuple[int, str]:
        """(status, reason) for one request: 201 and the decrypted text, or the refusal."""
        sub = self._subs.get(token)
        if sub is None:
            return 404, "no such subscription"
        scheme, _, params = headers.get("Authorization", "").partition(" ")
        fields = dict(p.strip().split("=", 1) for p in params.split(",") if "=" in p)
        if scheme != "vapid" or "t" not in fields or "k" not in fields:
            return 401, "no VAPID authorisation"
        if fields["k"] != sub.app_server_key:
            return 403, "VAPID key is not the one the subscription was made with"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
        try:
            claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=self.base_url,
                                options={"require": ["aud", "exp", "sub"]})
        except jwt.PyJWTError as exc:
            return 403, f"JWT: {exc}"
        if claims["exp"] > time.time() + 86_400:
            return 403, "JWT exp more than 24 hours ahead"
        if not str(claims["sub"]).startswith(("mailto:", "https://")):
            return 403, "JWT sub is not a mailto: or https: address"
        if headers.get("Content-Encoding") != "aes128gcm" or headers.get("TTL") is None:
            return 400, "not aes128gcm, or no TTL"
        try:
            text = http_ece.decrypt(body, private_key=sub.private_key, auth_secret=sub.auth, version="aes128gcm")
        except Exception as exc:  # the library raises several kinds for a body it cannot open
            return 400, f"cannot decrypt: {type(exc).__name__}"
        with self._lock:
            self.received.append(Received(token, text.decode("utf-8"), headers.get("TTL"), claims))
        return 201, ""

    def __enter__(self) -> PushStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with stand_in._lock:
                    stand_in.requests += 1
                    queued = stand_in.answers.pop(0) if stand_in.answers else None
                token = self.path.removeprefix("/push/")
                if queued is not None and queued[0] != 201:
                    status, reason, retry_after = queued[0], "told to", queued[1]
                else:
                    status, reason = stand_in.check(token, self.headers, body)
                    retry_after = None
                if status != 201:
                    stand_in.refused.append(f"{status} {reason}")
                self.send_response(status)
                if status == 201:
                    self.send_header("Location", f"{stand_in.base_url}/message/{uuid.uuid4().hex}")
                if retry_after:
                    self.send_header("Retry-After", retry_after)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
