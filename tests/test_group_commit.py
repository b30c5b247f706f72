"""Group commit (`Dispatcher.handle_many`) on SQLite and PostgreSQL: many events, one transaction, and each
event still answered, stored once and kept in order, whatever goes wrong with one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.channels.base import StepError
from bot.messages import Inbound
from bot.runtime import build_runtime
from storage.db import make_engine, session
from storage.models import Alert, InboundEvent, OutboxMessage
from tests.conftest import fixed_now, make_settings

WORRYING = "i want to die"


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(db_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def count(engine, model) -> int:  # noqa: ANN001
    with session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def hello(sender: str, mid: str, text: str = "hello") -> tuple[Inbound, object]:
    return Inbound("telegram", sender, mid, "text", text=text, address=sender), fixed_now()


def test_a_batch_answers_each_event_as_one_by_one_would(rt, db_url: str, tmp_path: Path) -> None:  # noqa: ANN001
    batch = [hello(f"p{i}", f"m{i}") for i in range(6)]
    together = rt.dispatcher.handle_many(batch)
    alone_rt = build_runtime(make_settings(db_url, tmp_path / "alone"))
    try:
        alone = [alone_rt.dispatcher.handle(m, now=n) for m, n in batch]
    finally:
        alone_rt.engine.dispose()
    assert [[r.text for r in x.replies] for x in together] == [[r.text for r in x.replies] for x in alone]
    assert all(x.stored and not x.duplicate for x in together)
    assert count(rt.engine, InboundEvent) == 6
    assert count(rt.engine, OutboxMessage) == sum(len(x.outbox_ids) for x in together)


def test_one_failing_event_is_rolled_back_alone(rt) -> None:  # noqa: ANN001
    real = rt.dispatcher.onboarding

    def onboarding(s, msg, key_hash, now):  # noqa: ANN001, ANN202
        if msg.sender == "boom":
            raise ValueError("a bug for this one person")
        return real(s, msg, key_hash, now)

    rt.dispatcher.onboarding = onboarding
    results = rt.dispatcher.handle_many([hello("a", "m1"), hello("boom", "m2"), hello("b", "m3")])
    assert isinstance(results[1], StepError)
    assert str(results[1]) == "ValueError"  # the error's type only: its message could quote the person
    assert results[0].stored and results[2].stored
    with session(rt.engine) as s:
        ids = set(s.execute(select(InboundEvent.message_id)).scalars())
    assert ids == {"m1", "m3"}  # nothing of the failed event was kept; it can be tried again


def test_later_events_of_a_sender_whose_event_failed_keep_their_order(rt) -> None:  # noqa: ANN001
    real = rt.dispatcher.onboarding
    seen: list[str] = []

    def onboarding(s, msg, key_hash, now):  # noqa: ANN001, ANN202
        seen.append(msg.message_id)
        if msg.message_id == "c1" and seen.count("c1") <= 2:
            raise RuntimeError("fails inside the batch (both passes), then works")
        return real(s, msg, key_hash, now)

    rt.dispatcher.onboarding = onboarding
    results = rt.dispatcher.handle_many([hello("c", "c1"), hello("d", "d1"), hello("c", "c2", "/help")])
    # The plain pass failed at c1 (nothing kept), the pass with savepoints failed c1 alone, so c2 was
    # not stepped there either; both ran afterwards, c1 first.
    assert seen == ["c1", "c1", "d1", "c1"]  # c2 came after c1 had joined, so it needed no onboarding
    assert all(not isinstance(r, StepError) for r in results)
    with session(rt.engine) as s:
        order = list(s.execute(select(InboundEvent.message_id).order_by(InboundEvent.id)).scalars())
    assert order.index("c1") < order.index("c2")


def test_the_same_update_twice_in_one_batch_is_stored_once(rt) -> None:  # noqa: ANN001
    first, second = rt.dispatcher.handle_many([hello("e", "dup"), hello("e", "dup")])
    assert first.stored and not first.duplicate
    assert second.duplicate
    assert [r.text for r in second.replies] == [r.text for r in first.replies]
    assert count(rt.engine, InboundEvent) == 1


def test_database_down_answers_every_event_and_a_disclosure_gets_its_safe_reply(rt, tmp_path: Path) -> None:  # noqa: ANN001
    rt.dispatcher.handle_many([hello("f", "f0"), hello("g", "g0")])  # both are known people now
    good = rt.dispatcher.engine
    rt.dispatcher.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    batch = [hello("f", "f1"), hello("g", "g1", WORRYING)]
    results = rt.dispatcher.handle_many(batch)
    assert all(r.unavailable and not r.stored for r in results)
    assert "couldn't save that just now" in results[0].replies[-1].text
    assert results[1].flagged
    assert results[1].replies[0].meta.get("kind") == "safe_reply"
    rt.dispatcher.engine = good
    # Redelivered once the database is back: stored once each, and the spooled alert is written.
    again = rt.dispatcher.handle_many(batch)
    assert all(r.stored and not r.duplicate for r in again)
    assert count(rt.engine, InboundEvent) == 4
    assert count(rt.engine, Alert) == 1


def test_a_batch_that_fails_once_is_committed_whole_by_the_second_pass(rt) -> None:  # noqa: ANN001
    real = rt.dispatcher.onboarding
    calls: list[str] = []

    def onboarding(s, msg, key_hash, now):  # noqa: ANN001, ANN202
        calls.append(msg.message_id)
        if msg.message_id == "h2" and calls.count("h2") == 1:
            raise RuntimeError("fails in the plain pass only")
        return real(s, msg, key_hash, now)

    rt.dispatcher.onboarding = onboarding
    results = rt.dispatcher.handle_many([hello("h", "h1"), hello("i", "h2"), hello("j", "h3")])
    assert all(not isinstance(r, StepError) and r.stored for r in results)
    assert calls == ["h1", "h2", "h1", "h2", "h3"]  # the plain pass stopped at h2; the second did all
    assert count(rt.engine, InboundEvent) == 3  # h1 from the failed pass was not kept twice
