"""A replayed Slack event (the same event_id delivered again, e.g. Slack's retries) is answered once, also for
someone who has not joined yet: one safe reply, one alert."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime, build_runtime
from content.loader import Library
from storage.db import session
from storage.models import Alert
from tests.conftest import make_settings
from tests.fakes.slack_api import dm_message_event, event_callback
from tests.slack.conftest import SlackFake, post_event, running

WORRY = "my dad hits me with a belt"


@pytest.fixture
def invite_rt(sqlite_url: str, tmp_path: Path, library: Library) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(sqlite_url, tmp_path, invite_only=True, safe_reply_within=5.0), library=library)
    yield runtime
    runtime.notifier.stop()


async def test_a_replayed_disclosure_from_someone_not_joined_gets_one_safe_reply(
    invite_rt: Runtime, fake: SlackFake
) -> None:
    envelope = event_callback(dm_message_event("UNEW1", WORRY))
    async with running(invite_rt, fake) as (client, service):
        first = await post_event(client, envelope)
        await service.wait_idle()
        for n in (1, 2):
            again = await post_event(client, envelope, **{"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
            await service.wait_idle()
            assert again.status_code == 200
    assert first.status_code == 200
    safe = [m for m in fake.messages_to("DUNEW1", "UNEW1") if "0800 1111" in m["text"]]
    assert len(safe) == 1
    with session(invite_rt.engine) as s:
        assert s.execute(select(func.count()).select_from(Alert)).scalar_one() == 1
