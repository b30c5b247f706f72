"""Staff sessions for the admin web: cookie handling, idle and absolute timeouts, CSRF tokens, Origin checks.

The raw session id lives only in the browser's HttpOnly cookie; the database holds its SHA-256.
Does not hash passwords (admin.actions.staff does) and never logs ids or tokens.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from fastapi import Request, Response

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


class AdminAuth:
    """Session and CSRF logic bound to one engine, one secret and the public URL."""

    def __init__(self, engine, *, secret: str, public_url: str) -> None:
        self.engine = engine
        self._key = hashlib.sha256(b"ourvoice-admin:" + secret.encode()).digest()
        self.secure = public_url.lower().startswith("https://")
        self.public_origin = _origin(public_url)

    # --- Origin / Referer ---

    def origin_ok(self, request: Request) -> bool:
        """Unsafe requests must come from our own origin; a foreign Origin (or Referer) is refused."""
        own = {self.public_origin, f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
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
