"""A broadcast from several senders at the platform's limit (issue 26 item 3), small enough for CI.

"You said, we did" to 300 young people on PostgreSQL, queued by staff's action and the job (never by hand-written
outbox rows), sent by three Telegram services' outbox senders (three holders, each with its own python-telegram-bot
and its own slots from the shared budget, as three processes would be) against the fake Bot API enforcing a scaled
limit, with a storm of 429s part-way through. Every person gets the message exactly once, no send goes over the
limit, and every row ends sent. bench/broadcast_bench.py is the 10,000-person run with real processes.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from admin.actions.policy import Actor
from admin.actions.reports import add_you_said
from admin.scheduler import JOBS, run_job
from bot.crypto import Keyring
from bot.features.young_people import PanelSettings, taking_part_flows
from bot.reach import ReachSettings
from bot.runtime import build_runtime
from content.loader import Library
from storage import bulk
from storage.db import session
from storage.migrate import upgrade
from storage.models import OutboxMessage
from tests.conftest import PG_URL, REQUIRE_PG, TEST_FERNET_KEY, TEST_HASH_KEY, _postgres_url, fixed_now, make_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.support.cluster import max_per_window
from tests.telegram.conftest import Factory

PEOPLE = 300
LIMIT = 100  # messages a second overall, scaled up from Telegram's 30 so the test is short
STORM = 6  # 429s in a row (retry_after 1), starting after a third of the messages
CHAT0 = 910_000
TZ = "Europe/London"


def _seed(url: str, library: Library) -> None:
    """PEOPLE young people with a Telegram chat each who completed a topic three days ago."""
    keyring = Keyring(TEST_HASH_KEY, [TEST_FERNET_KEY])
    topic = next(f for f in taking_part_flows(library) if f in library.flows and library.flows[f].kind == "topic")
    at = fixed_now() - timedelta(days=3)
    from storage.db import make_engine

    engine = make_engine(url)
    try:
        with session(engine) as s:
            ids = bulk.next_ids(s)
            p0, i0, s0 = ids["participant"], ids["channel_identity"], ids["submission"]
            bulk.insert_many(s, "participant", [
                {"id": p0 + i, "case_ref": f"BT{i:08d}", "audience": "young_person", "band": "teen",
                 "district": "north", "council": "ocypc", "status": "active", "created_at": at}
                for i in range(PEOPLE)])
            bulk.insert_many(s, "channel_identity", [
                {"id": i0 + i, "participant_id": p0 + i, "channel": "telegram",
                 "key_hash": keyring.identity_hash("telegram", str(CHAT0 + i)),
                 "address_enc": keyring.encrypt(str(CHAT0 + i)), "created_at": at}
                for i in range(PEOPLE)])
            bulk.insert_many(s, "submission", [
                {"id": s0 + i, "participant_id": p0 + i, "flow_id": topic, "run": 0, "status": "completed",
                 "mode": "chat", "audience": "young_person", "band": "teen", "district": "north",
                 "council": "ocypc", "shared_with_worker": False, "started_at": at, "completed_at": at}
                for i in range(PEOPLE)])
    finally:
        engine.dispose()


async def test_three_senders_broadcast_at_the_limit_and_wait_out_a_429_storm(
    tg: FakeBotAPI, services: Factory, library: Library, tmp_path: Path
) -> None:
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("OURVOICE_REQUIRE_POSTGRES=1 but OURVOICE_TEST_POSTGRES_URL is not set")
        pytest.skip("several senders share one budget on PostgreSQL only (SQLite runs one process)")
    url = _postgres_url()
    upgrade(url)
    _seed(url, library)
    panel_day = (fixed_now().astimezone(ZoneInfo(TZ)) - timedelta(days=1)).date().isoformat()
    rt = build_runtime(
        make_settings(url, tmp_path), library=library,
        panel_settings=PanelSettings(_env_file=None, panel_dates=panel_day),  # type: ignore[call-arg]
        reach_settings=ReachSettings(_env_file=None, timezone=TZ),  # type: ignore[call-arg]
    )
    with session(rt.engine) as s:
        add_you_said(s, Actor("lead", "participation_manager"), said="The Wi-Fi is too slow",
                     did="Every home has faster broadband", now=fixed_now() - timedelta(days=2))
    job = next(j for j in JOBS if j.name == "you_said_we_did")
    assert run_job(rt, job, now=fixed_now()) == f"panel={panel_day} ocypc={PEOPLE}"

    tg.enforce_limits(per_second=LIMIT, per_chat_interval=1.0)
    accepted: list[float] = []

    def delivered(_chat: int, _message: dict[str, Any]) -> None:
        accepted.append(time.monotonic())
        if len(accepted) == PEOPLE // 3:
            tg.rate_limit(STORM, retry_after=1)  # the storm: every send answered 429 until STORM were refused

    tg.on_delivered = delivered
    senders = [services(rt, per_chat_interval=1.0, global_per_second=LIMIT) for _ in range(3)]
    for svc in senders:
        await svc.prepare()  # the Bot API connected and the sender running; no polling (nothing to read)
    assert all(svc.sender.budget is not None for svc in senders)  # the shared budget, not three limits
    await tg.wait_for(lambda: tg.delivered >= PEOPLE, timeout=60)  # a guard against a hang, not a target
    for svc in senders:
        await svc.wait_idle(timeout=10)
    await asyncio.sleep(0.5)  # a repeat, if any, would arrive now

    sends = tg.calls_to("sendMessage")
    got: dict[int, int] = {}
    for c in sends:
        if c.status == 200:
            got[int(c.params["chat_id"])] = got.get(int(c.params["chat_id"]), 0) + 1
    assert got == {CHAT0 + i: 1 for i in range(PEOPLE)}  # none dropped, none twice, nobody else
    assert sum(1 for c in sends if c.status == 429) == STORM  # the storm's, and not one from the limit
    assert tg.over_limit == 0
    assert max_per_window(accepted, 1.0) <= LIMIT
    assert sum(svc.sender.sent > 0 for svc in senders) >= 2  # the work was shared (a batch is 200 chats)
    with session(rt.engine) as s:
        statuses = dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    assert statuses == {"sent": PEOPLE}
    rt.engine.dispose()
