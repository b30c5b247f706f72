"""Web Push for the web chat (issue 25 item 1): a neutral ping when a message sent first is waiting in the chat.

Someone who opts in gives us their browser's PushSubscription (endpoint and keys), kept encrypted and tied to them.
When a web chat notice (card update, reminder, "you said, we did", staff reply, event invitation) has passed the one
rule for messages sent first (bot/reach.py: quiet hours, daily cap, pause) and is due but still unread, each of
their subscriptions gets ONE ping saying only "You have a new message from ourvoice": never what the message says,
so nothing shows on a shared or locked screen. Several waiting notices make one ping. A ping is re-checked when it
goes: not while paused, not in the person's quiet hours, not once the chat has shown the message.

Sending uses pywebpush (VAPID, RFC 8292; aes128gcm, RFC 8291). 429 and 5xx are tried again later (429's
Retry-After respected); 404/410 mean the subscription has gone, so it is deleted. Logs ids only.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import reach
from bot.crypto import Keyring
from storage import participants, push_store, waves
from storage.db import Session

log = logging.getLogger("ourvoice.push")

TITLE = "ourvoice"
BODY = "You have a new message from ourvoice"
CHANNEL = "web"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_vapid_key() -> str:
    """A fresh VAPID private key (P-256) as base64url of its 32 raw bytes: what `ourvoice init` writes."""
    key = ec.generate_private_key(ec.SECP256R1())
    return b64url(key.private_numbers().private_value.to_bytes(32, "big"))


def public_key_of(private: str) -> str:
    """The browser's `applicationServerKey`: the public key as base64url of its uncompressed point."""
    key = ec.derive_private_key(int.from_bytes(unb64url(private), "big"), ec.SECP256R1())
    return b64url(key.public_key().public_bytes(serialization.Encoding.X962,
                                                serialization.PublicFormat.UncompressedPoint))


class PushSettings(BaseSettings):
    """Web Push (OURVOICE_PUSH_*): the VAPID key pair's private half and who the push services may contact."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_PUSH_", env_file=".env", extra="ignore")

    vapid_private_key: str = Field(default="", description="base64url P-256 private key; empty: no pings")
    vapid_subject: str = Field(default="mailto:participation@example.org",
                               description="mailto: or https: address push services can reach us at")
    max_attempts: int = Field(default=5, ge=1, le=20)
    ttl_seconds: int = Field(default=86_400, ge=0, le=2_419_200, description="how long a push service keeps it")

    @field_validator("vapid_private_key")
    @classmethod
    def _key(cls, v: str) -> str:
        v = v.strip()
        if v and len(unb64url(v)) != 32:
            raise ValueError("must be base64url of a 32-byte P-256 private key (ourvoice init writes one)")
        return v

    @field_validator("vapid_subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        if not v.startswith(("mailto:", "https://")):
            raise ValueError("must start mailto: or https://")
        return v

    @property
    def enabled(self) -> bool:
        return bool(self.vapid_private_key)

    @property
    def public_key(self) -> str:
        return public_key_of(self.vapid_private_key) if self.enabled else ""


class Keys(BaseModel):
    p256dh: str = Field(min_length=80, max_length=100)
    auth: str = Field(min_length=16, max_length=30)

    @field_validator("p256dh")
    @classmethod
    def _point(cls, v: str) -> str:
        raw = unb64url(v)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError("not an uncompressed P-256 point")
        return v

    @field_validator("auth")
    @classmethod
    def _auth(cls, v: str) -> str:
        if len(unb64url(v)) != 16:
            raise ValueError("not a 16-byte auth secret")
        return v


class Subscription(BaseModel):
    """A browser's PushSubscription as `toJSON()` gives it. The endpoint must be https (plain http only to this
    machine, for the loopback stand-in)."""

    endpoint: str = Field(max_length=1000)
    keys: Keys

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        parts = urlsplit(v)
        if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and
                                                                  parts.hostname in LOOPBACK_HOSTS)):
            raise ValueError("a push endpoint is an https address")
        return v

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.keys.p256dh, "auth": self.keys.auth}}


def endpoint_hash(keyring: Keyring, endpoint: str) -> str:
    return keyring.identity_hash("push", endpoint)


def subscribe(session: Session, keyring: Keyring, participant_id: int, sub: Subscription, *, now: datetime) -> int:
    """Keep someone's subscription, encrypted (the same browser again replaces its old one)."""
    data = keyring.encrypt(json.dumps(sub.info()))
    sid = push_store.save(session, participant_id, endpoint_hash(keyring, sub.endpoint), data, now=now)
    log.info("push.subscribed participant=%s subscription=%s", participant_id, sid)
    return sid


def unsubscribe(session: Session, keyring: Keyring, endpoint: str) -> bool:
    """Forget the subscription with this endpoint (only its browser knows it); True when there was one."""
    row = push_store.find_by_hash(session, endpoint_hash(keyring, endpoint))
    if row is None:
        return False
    push_store.remove(session, [int(row.id or 0)])
    log.info("push.unsubscribed participant=%s subscription=%s", row.participant_id, row.id)
    return True


@dataclass(frozen=True)
class Outcome:
    """What a push service said: sent, gone (404/410: delete the subscription), retry (429/5xx/no answer, after
    `retry_after` seconds when it said), or refused (any other answer: recorded, not tried again)."""

    status: str
    code: int | None = None
    retry_after: float | None = None


class Pusher(Protocol):
    def push(self, subscription: dict[str, Any], data: str) -> Outcome: ...


def outcome_of(code: int | None, retry_after: str | None = None) -> Outcome:
    if code is not None and code < 300:
        return Outcome("sent", code)
    if code in (404, 410):
        return Outcome("gone", code)
    if code is None or code == 429 or code >= 500:
        wait = float(retry_after) if retry_after and retry_after.strip().isdigit() else None
        return Outcome("retry", code, wait)
    return Outcome("refused", code)


class WebPusher:
    """pywebpush behind the Pusher interface, signing with our VAPID key."""

    def __init__(self, settings: PushSettings, *, timeout: float = 10.0) -> None:
        from py_vapid import Vapid

        self.vapid = Vapid.from_string(settings.vapid_private_key)
        self.subject = settings.vapid_subject
        self.ttl = settings.ttl_seconds
        self.timeout = timeout

    def push(self, subscription: dict[str, Any], data: str) -> Outcome:
        from pywebpush import WebPushException, webpush
        from requests import RequestException

        try:
            # Fresh claims each time: pywebpush fills in aud (the endpoint's origin) and exp (12 hours).
            webpush(subscription, data, vapid_private_key=self.vapid, vapid_claims={"sub": self.subject},
                    ttl=self.ttl, timeout=self.timeout, headers={"Urgency": "normal"})
        except WebPushException as exc:
            return outcome_of(exc.status_code, exc.retry_after)
        except RequestException:
            return outcome_of(None)
        return Outcome("sent", 201)


def retry_delay(attempts: int, said: float | None = None) -> timedelta:
    """1, 2, 4 ... minutes after each failed try (at most an hour), or longer when the service asked."""
    backoff = timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))
    return max(backoff, timedelta(seconds=min(said, 86_400))) if said else backoff


def send_due(
    open_session: Callable[[], Any], keyring: Keyring, pusher: Pusher, settings: PushSettings,
    reach_settings: reach.ReachSettings, *, now: datetime,
) -> dict[str, int]:
    """Queue pings for notices now waiting, then send one ping per subscription for all its due ones. Counts of
    what happened (sent, gone, retry, failed, refused, held, cancelled)."""
    counts = dict.fromkeys(("sent", "gone", "retry", "failed", "refused", "held", "cancelled"), 0)
    with open_session() as s:
        push_store.queue_waiting(s, channel=CHANNEL, now=now)
        groups: dict[int, list[tuple[int, int, int, int]]] = {}
        for m in push_store.due(s, now=now):
            groups.setdefault(m.subscription_id, []).append((int(m.id or 0), m.participant_id, m.outbox_id,
                                                              m.attempts))
    for sub_id, rows in groups.items():
        ids = [r[0] for r in rows]
        pid = rows[0][1]
        with open_session() as s:
            sub = push_store.get(s, sub_id)
            unread = push_store.unread(s, [r[2] for r in rows])
            person = participants.get(s, pid)
            presence = waves.presence(s, [pid]).get(pid)
            # Paused either way: "Take a break" (the chat's presence) or "Pause messages" in My stuff (opted out).
            reason = ("gone" if sub is None or person is None or person.status not in ("active", "opted_out")
                      else "paused" if person.status == "opted_out" or (presence is not None and presence.paused)
                      else "read" if not unread else "")
            if reason:
                push_store.mark(s, ids, status="cancelled", now=now, error=reason, tried=False)
                counts["cancelled"] += 1
                continue
            quiet_end = reach.quiet_until(now, person.audience, reach_settings)  # type: ignore[union-attr]
            if quiet_end is not None:
                push_store.mark(s, ids, status="pending", now=now, retry_at=quiet_end, tried=False)
                counts["held"] += 1
                continue
            info = json.loads(keyring.decrypt(sub.data_enc))  # type: ignore[union-attr]
        outcome = pusher.push(info, BODY)
        with open_session() as s:
            if outcome.status == "sent":
                push_store.mark(s, ids, status="sent", now=now)
                push_store.touch(s, sub_id, now=now)
            elif outcome.status == "gone":
                push_store.remove(s, [sub_id])
                log.info("push.gone subscription=%s code=%s", sub_id, outcome.code)
            elif outcome.status == "retry":
                tries = max(r[3] for r in rows) + 1
                if tries >= settings.max_attempts:
                    push_store.mark(s, ids, status="failed", now=now, error=f"{outcome.code} after {tries} tries")
                    outcome = Outcome("failed", outcome.code)
                else:
                    push_store.mark(s, ids, status="pending", now=now, error=str(outcome.code),
                                    retry_at=now + retry_delay(tries, outcome.retry_after))
            else:
                push_store.mark(s, ids, status="refused", now=now, error=f"push service answered {outcome.code}")
        if outcome.status != "sent":
            log.warning("push.%s subscription=%s code=%s", outcome.status, sub_id, outcome.code)
        counts[outcome.status] += 1
    return counts


def parse(raw: bytes) -> Subscription | None:
    """A subscription from a request body, or None when it is not one."""
    try:
        return Subscription.model_validate_json(raw)
    except ValidationError:
        return None
