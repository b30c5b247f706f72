"""Slack requests with a valid signature but a body that is not a JSON object (or a form with a payload that is
not one) are refused with 400 and a log line, never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from tests.slack.conftest import URL, SlackFake, running, signed


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"type": "event_callback", "event": ', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b'"just a string"', "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
    ],
)
async def test_malformed_but_signed_bodies_get_400(
    rt: Any, fake: SlackFake, body: bytes, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(rt, fake) as (client, _service):
        resp = await client.post(URL, content=body, headers=signed(body, content_type))
    assert resp.status_code == 400
    assert "slack.bad_body" in caplog.text


async def test_a_chunked_body_is_stopped_at_the_cap_while_it_is_read(rt: Any, fake: SlackFake) -> None:
    from collections.abc import AsyncIterator

    from bot.channels.slack import MAX_BODY

    chunk = b"x" * 65_536
    sent = 0

    async def body() -> AsyncIterator[bytes]:  # no Content-Length: httpx sends it chunked
        nonlocal sent
        for _ in range(10_000_000 // len(chunk)):
            sent += len(chunk)
            yield chunk

    async with running(rt, fake) as (client, _service):
        resp = await client.post(URL, content=body(), headers={"Content-Type": "application/json"})
    assert resp.status_code == 413
    assert sent <= MAX_BODY + 2 * len(chunk)  # reading stopped at the cap, not at 10 MB
