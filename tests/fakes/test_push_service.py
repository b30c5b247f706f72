"""The loopback Web Push stand-in checks what a real push service checks (VAPID JWT signature, aud, exp, sub;
aes128gcm) and can answer 201, 404, 410, 429 and 5xx, as pywebpush (through bot.push.WebPusher) sees them."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from py_vapid import Vapid

from bot.push import PushSettings, WebPusher, new_vapid_key, public_key_of
from tests.fakes.push_service import PushStandIn

KEY = new_vapid_key()
SETTINGS = PushSettings(_env_file=None, vapid_private_key=KEY, vapid_subject="mailto:team@example.org")  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def push() -> Iterator[PushStandIn]:
    with PushStandIn() as p:
        yield p


def test_a_signed_encrypted_push_is_accepted_and_decrypted(push: PushStandIn) -> None:
    sub = push.subscription(public_key_of(KEY))
    outcome = WebPusher(SETTINGS).push(sub, "You have a new message from ourvoice")
    assert (outcome.status, outcome.code) == ("sent", 201)
    got = push.received[-1]
    assert got.body == "You have a new message from ourvoice"
    assert got.claims["aud"] == push.base_url and got.claims["sub"] == "mailto:team@example.org"
    assert time.time() < got.claims["exp"] <= time.time() + 86_400
    assert got.ttl == str(SETTINGS.ttl_seconds)


def test_a_push_signed_with_another_key_is_refused(push: PushStandIn) -> None:
    sub = push.subscription(public_key_of(new_vapid_key()))  # made for another server's key
    outcome = WebPusher(SETTINGS).push(sub, "hello")
    assert (outcome.status, outcome.code) == ("refused", 403)
    assert "not the one the subscription was made with" in push.refused[-1]


def test_a_jwt_for_another_audience_or_long_expiry_is_refused(push: PushStandIn) -> None:
    from pywebpush import WebPushException, webpush

    sub = push.subscription(public_key_of(KEY))
    vapid = Vapid.from_string(KEY)
    vapid.conf["no-strict"] = True  # py_vapid itself refuses a bad sub; the service must too
    for claims, why in (({"sub": "mailto:a@example.org", "aud": "https://elsewhere.example"}, "Audience"),
                        ({"sub": "mailto:a@example.org", "exp": int(time.time()) + 3 * 86_400}, "24 hours"),
                        ({"sub": "someone"}, "sub is not")):
        with pytest.raises(WebPushException) as exc:
            webpush(sub, "hello", vapid_private_key=vapid, vapid_claims=dict(claims))
        assert exc.value.status_code == 403
        assert why in push.refused[-1], push.refused[-1]


def test_a_body_that_is_not_aes128gcm_is_refused(push: PushStandIn) -> None:
    sub = push.subscription(public_key_of(KEY))
    headers = Vapid.from_string(KEY).sign({"sub": "mailto:a@example.org", "aud": push.base_url,
                                           "exp": int(time.time()) + 600})
    answer = requests.post(sub["endpoint"], data=b"plain words", timeout=5,
                           headers={**headers, "TTL": "60", "Content-Encoding": "aes128gcm"})
    assert answer.status_code == 400 and "cannot decrypt" in push.refused[-1]


def test_gone_and_busy_answers(push: PushStandIn) -> None:
    pusher = WebPusher(SETTINGS)
    sub = push.subscription(public_key_of(KEY))
    push.expire(sub["endpoint"])
    assert (pusher.push(sub, "x").status, push.refused[-1]) == ("gone", "404 no such subscription")
    sub = push.subscription(public_key_of(KEY))
    push.answer_next(410)
    assert pusher.push(sub, "x").status == "gone"
    push.answer_next(429, "120")
    busy = pusher.push(sub, "x")
    assert (busy.status, busy.code, busy.retry_after) == ("retry", 429, 120.0)
    push.answer_next(503)
    assert pusher.push(sub, "x").status == "retry"
    before = len(push.received)
    assert pusher.push(sub, "x").status == "sent" and len(push.received) == before + 1
