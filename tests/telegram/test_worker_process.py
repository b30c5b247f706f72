"""Steps in a worker process (the default under `ourvoice run`): same answers, same order, nothing lost when
a worker dies."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.runtime import Runtime, build_runtime
from bot.send_worker import SenderProcess
from storage import inbound
from storage.db import session
from tests.conftest import make_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import Factory, TgUser, answers, delivered, said, settle
from tests.telegram.test_polling import EXPECTED_ANSWERS, TYPED, outbox_rows


@pytest.fixture
def rt_from_settings(sqlite_url: str, tmp_path: Path) -> Runtime:
    """A runtime built from settings alone, as `ourvoice run` builds it: a worker can rebuild it."""
    return build_runtime(make_settings(sqlite_url, tmp_path))


def worker_pid(svc) -> int:  # noqa: ANN001
    assert svc.processes is not None
    return int(svc.processes.submit(os.getpid).result(timeout=30))


async def test_runtime_wired_by_hand_keeps_the_thread(rt, services: Factory) -> None:  # noqa: ANN001
    assert services(rt).processes is None  # an injected library cannot be rebuilt in another process


async def test_typed_journey_is_stepped_in_a_worker_process(
    tg: FakeBotAPI, rt_from_settings: Runtime, services: Factory
) -> None:
    svc = services(rt_from_settings)
    await svc.start()
    assert worker_pid(svc) != os.getpid()
    u = TgUser(tg, 8181)
    for text in TYPED:
        u.say(text)
    await settle(tg, svc, timeout=60)
    assert answers(rt_from_settings, 8181, "good_foster_carer") == EXPECTED_ANSWERS
    assert u.texts()[-1].endswith("What would you like to do today?")


async def test_many_chats_at_once_keep_their_order_through_the_worker(
    tg: FakeBotAPI, rt_from_settings: Runtime, services: Factory
) -> None:
    chats = [810_000 + c for c in range(30)]
    todo = {c: list(TYPED) for c in chats}
    rng = random.Random(5)
    while todo:
        c = rng.choice(sorted(todo))
        for _ in range(rng.randint(1, 4)):
            if todo[c]:
                TgUser(tg, c).say(todo[c].pop(0))
        if not todo[c]:
            del todo[c]
    svc = services(rt_from_settings)
    await svc.start()
    await settle(tg, svc, timeout=120)
    with session(rt_from_settings.engine) as s:
        assert inbound.count(s) == len(chats) * len(TYPED)
    for c in chats:
        assert answers(rt_from_settings, c, "good_foster_carer") == EXPECTED_ANSWERS, c
    rows = outbox_rows(rt_from_settings)
    assert all(r.status == "sent" for r in rows)
    # Every reply delivered, none twice, in order (replies queued together may share one message).
    assert all(delivered(tg, c) == said(rt_from_settings, c) for c in chats)
    assert len(chats) * len(TYPED) <= len(tg.sent_messages()) <= len(rows)


async def kill_midway(tg: FakeBotAPI, svc: Any, chat: int, pid_of: Callable[[], int | None]) -> int:
    """Type half the journey, SIGKILL the process `pid_of` names, type the rest; returns the killed pid."""
    u = TgUser(tg, chat)
    half = len(TYPED) // 2
    for text in TYPED[:half]:
        u.say(text)
    await settle(tg, svc, timeout=60)
    first = pid_of()
    assert first is not None
    os.kill(first, signal.SIGKILL)
    for text in TYPED[half:]:
        u.say(text)
    await settle(tg, svc, timeout=60)
    return first


async def test_a_killed_worker_is_replaced_and_nothing_is_lost(
    tg: FakeBotAPI, rt_from_settings: Runtime, services: Factory
) -> None:
    svc = services(rt_from_settings)
    await svc.start()
    first = await kill_midway(tg, svc, 8282, lambda: worker_pid(svc))
    assert worker_pid(svc) != first
    assert answers(rt_from_settings, 8282, "good_foster_carer") == EXPECTED_ANSWERS
    with session(rt_from_settings.engine) as s:
        assert inbound.count(s) == len(TYPED)  # each update stored once
    assert all(r.status == "sent" for r in outbox_rows(rt_from_settings))
    assert delivered(tg, 8282) == said(rt_from_settings, 8282)  # each reply sent once, in order


async def test_replies_leave_from_a_sender_process_of_their_own(
    tg: FakeBotAPI, rt_from_settings: Runtime, services: Factory
) -> None:
    svc = services(rt_from_settings)
    assert isinstance(svc.sender, SenderProcess)
    await svc.start()
    assert svc.sender.pid not in (None, os.getpid(), worker_pid(svc))
    u = TgUser(tg, 8383)
    u.say("/start")
    await settle(tg, svc, timeout=60)
    u.press("I'm 16 to 25")  # a button: its keyboard is taken off through the sender process too
    await settle(tg, svc, timeout=60)
    first = tg.bot_messages(8383)[0]
    assert "reply_markup" not in first or not first["reply_markup"]
    assert delivered(tg, 8383) == said(rt_from_settings, 8383)


async def test_a_killed_sender_process_is_replaced_and_no_reply_is_lost(
    tg: FakeBotAPI, rt_from_settings: Runtime, services: Factory
) -> None:
    svc = services(rt_from_settings)
    await svc.start()
    first = await kill_midway(tg, svc, 8484, lambda: svc.sender.pid)
    assert svc.sender.pid not in (None, first)
    assert answers(rt_from_settings, 8484, "good_foster_carer") == EXPECTED_ANSWERS
    assert all(r.status == "sent" for r in outbox_rows(rt_from_settings))  # every committed reply went out
    assert TgUser(tg, 8484).texts()[-1].endswith("What would you like to do today?")
