"""Staff sessions for the admin web: cookie handling, idle and absolute timeouts, CSRF tokens, Origin and
Host checks, and the client address sign-in limits count by.

The raw session id lives only in the browser's HttpOnly cookie; the database holds its SHA-256.
Does not hash passwords (admin.actions.staff does) and never logs ids or tokens.
Proxy headers are not read here: uvicorn applies X-Forwarded-For only from OURVOICE_TRUSTED_PROXIES.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from admin.actions.policy import Actor
from storage import staff as staff_store
from storage.db import session as db_session

SESSION_COOKIE = "ov_admin"
PRE_COOKIE = "ov_admin_pre"  # sign-in form only: double-submit token before there is a session
COOKIE_PATH = "/admin"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=8)
TOUCH_EVERY = timedelta(seconds=60)  # write last_seen at most this often


def hash_id(raw: str) -> str:
    return hashlib.sha256(raw.encode("ascii", "replace")).hexdigest()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


LOOPBACK_NAMES = ("127.0.0.1", "localhost")  # the demo on one machine


def client_ip(request: Request) -> str:
    """The address sign-in limits count by and the audit records: the TCP peer, or the client a trusted
    proxy named (uvicorn rewrites it only for peers in OURVOICE_TRUSTED_PROXIES; default none)."""
    return request.client.host if request.client else "unknown"


def own_urls(host: str, port: int) -> tuple[str, ...]:
    """The admin's own address from its bind settings (loopback binds answer to both loopback names)."""
    if host in ("0.0.0.0", "::", ""):  # every interface: no one name is ours; only the public URL counts
        return ()
    names = LOOPBACK_NAMES if host in (*LOOPBACK_NAMES, "::1") else (host,)
    return tuple(f"http://{name}:{port}" for name in names)


def allowed_hosts(public_url: str, extra_urls: tuple[str, ...] = ()) -> list[str]:
    """Host names the admin answers to: the public URL's, its own bind address's, and loopback (the demo)."""
    hosts = [urlsplit(u).hostname or "" for u in (public_url, *extra_urls)]
    return list(dict.fromkeys(h.lower() for h in (*hosts, *LOOPBACK_NAMES) if h))


class AdminHostGuard:
    """Refuses an unknown Host header (400) on admin paths, as Starlette's TrustedHostMiddleware does;
    other paths (the web chat, webhooks) pass untouched."""

    def __init__(self, app: ASGIApp, *, hosts: list[str], prefix: str = "/admin") -> None:
        self.app = app
        self.prefix = prefix
        self.guard = TrustedHostMiddleware(app, allowed_hosts=hosts, www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.guard(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class AdminAuth:
    """Session and CSRF logic bound to one engine, one secret, the public URL and the admin's own URLs."""

    def __init__(self, engine, *, secret: str, public_url: str, own_urls: tuple[str, ...] = ()) -> None:
        self.engine = engine
        self._key = hashlib.sha256(b"ourvoice-admin:" + secret.encode()).digest()
        self.secure = public_url.lower().startswith("https://")
        self.public_origin = _origin(public_url)
        # Only configured origins: never one built from the request's own Host header (issue 22, 8).
        self.origins = frozenset(o for o in (self.public_origin, *map(_origin, own_urls)) if o)

    # --- Origin / Referer ---

    def origin_ok(self, request: Request) -> bool:
        """Unsafe requests must come from a configured origin; any other Origin (or Referer) is refused."""
        own = self.origins
        origin = request.headers.get("origin")
        if origin is not None:
            return origin.lower() in own
        referer = request.headers.get("referer")
        if referer:
            return _origin(referer) in own
        return True  # neither header (old clients, CLI tools): the CSRF token still has to match

    # --- CSRF ---

    def _mac(self, label: str, value: str) -> str:
        return hmac.new(self._key, f"{label}:{value}".encode(), hashlib.sha256).hexdigest()

    def csrf_for(self, raw_session: str) -> str:
        return self._mac("csrf", raw_session)

    @staticmethod
    def csrf_ok(expected: str, sent: str) -> bool:
        return bool(sent) and hmac.compare_digest(expected, sent)

    def pre_token(self, request: Request) -> str:
        """The sign-in form's token, tied to the pre-session cookie (set by the sign-in page)."""
        raw = request.cookies.get(PRE_COOKIE) or getattr(request.state, "ov_pre_cookie", None)
        if not raw:
            raw = secrets.token_urlsafe(24)
            request.state.ov_pre_cookie = raw
        return self._mac("pre", raw)

    def pre_token_ok(self, request: Request, sent: str) -> bool:
        raw = request.cookies.get(PRE_COOKIE)
        return bool(raw) and self.csrf_ok(self._mac("pre", raw), sent)

    def set_pre_cookie(self, request: Request, response: Response) -> None:
        raw = getattr(request.state, "ov_pre_cookie", None)
        if raw and PRE_COOKIE not in request.cookies:
            response.set_cookie(
                PRE_COOKIE,
                raw,
                httponly=True,
                samesite="strict",
                secure=self.secure,
                path=COOKIE_PATH,
                max_age=3600,
            )

    # --- sessions ---

    def start(self, s, staff_id: int, *, now: datetime) -> str:
        """A fresh random session id for a signed-in staff member (always new: no fixation)."""
        raw = secrets.token_urlsafe(32)
        staff_store.create_session(s, id_hash=hash_id(raw), staff_id=staff_id, now=now)
        return raw

    def set_cookie(self, response: Response, raw: str) -> None:
        response.set_cookie(
            SESSION_COOKIE, raw, httponly=True, samesite="strict", secure=self.secure, path=COOKIE_PATH
        )
        response.delete_cookie(PRE_COOKIE, path=COOKIE_PATH)

    def clear_cookie(self, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict", secure=self.secure
        )

    @staticmethod
    def expired(created: datetime, last_seen: datetime, now: datetime) -> bool:
        return now - last_seen >= IDLE_TIMEOUT or now - created >= ABSOLUTE_TIMEOUT

    def current(self, request: Request, now: datetime) -> tuple[Actor, str, str] | None:
        """(actor, session hash, csrf token) for a live session, or None; ends expired sessions."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw or len(raw) > 200:
            return None
        key = hash_id(raw)
        with db_session(self.engine) as s:
            found = staff_store.find_session(s, key)
            if found is None:
                return None
            sess, staff = found
            if not staff.active or self.expired(sess.created_at, sess.last_seen_at, now):
                staff_store.delete_session(s, key)
                return None
            if now - sess.last_seen_at >= TOUCH_EVERY:
                staff_store.touch_session(s, key, now=now)
        return Actor.of(staff), key, self.csrf_for(raw)

    def end(self, s, session_hash: str) -> None:
        staff_store.delete_session(s, session_hash)
