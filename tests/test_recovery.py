"""Recovery and reliability edges (issue 27): integrity faults that are not a concurrent duplicate, a
redelivery race that is one, and the crash-restart test of `ourvoice run --channel telegram`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.messages import Inbound
from bot.runtime import Runtime, build_runtime
from content.schema import text_for
from storage.db import session
from storage.models import InboundEvent, Participant
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = build_runtime(make_settings(db_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def block_new_participants(rt: Runtime) -> None:
    """Put a real, lasting integrity fault in the way of the next join: on PostgreSQL the participant id
    sequence left behind by rows with explicit ids (what bulk seeding did); on SQLite, which has no
    sequences, a trigger that aborts the insert as a constraint does."""
    with session(rt.engine) as s:
        if rt.engine.dialect.name == "postgresql":
            for i in range(1, 4):
                s.add(Participant(id=i, case_ref=f"SEED{i:04d}", created_at=fixed_now()))
        else:
            s.execute(text(
                "CREATE TRIGGER block_join BEFORE INSERT ON participant "
                "BEGIN SELECT RAISE(ABORT, 'blocked for the test'); END"
            ))


def test_an_integrity_fault_that_is_not_a_duplicate_is_answered_once_not_retried(
    rt: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    block_new_participants(rt)
    caplog.set_level(logging.INFO, logger="ourvoice.dispatcher")
    p = Person(rt.dispatcher, "newcomer", now=fixed_now())
    result = p.text("hello")  # the old code retried 20 times, then raised (a plain 500)
    assert result.unavailable and not result.stored
    assert p.said == text_for(rt.library.string("db_unavailable"), "default")  # "...nothing has been lost"
    events = [r.getMessage() for r in caplog.records if r.name == "ourvoice.dispatcher"]
    assert not [e for e in events if e.startswith("dispatch.retry_integrity")]
    (line,) = [e for e in events if e.startswith("dispatch.integrity_error")]
    # The constraint is named (PostgreSQL: participant_pkey); SQLite's trigger text is not copied into the log.
    if rt.engine.dialect.name == "postgresql":
        assert "constraint=participant_pkey" in line
    else:
        assert "constraint=unknown" in line and "blocked" not in line
    assert "hello" not in " ".join(events)


def test_concurrent_deliveries_of_one_message_still_answer_as_a_duplicate(rt: Runtime) -> None:
    """The ledger's own key is the one conflict worth retrying: both deliveries get the same replies."""
    Person(rt.dispatcher, "racer", now=fixed_now()).text("hello")
    msg = Inbound("web", "racer", "same-id", "text", text="hi again", address="racer")
    barrier = threading.Barrier(4)
    results: list = []

    def deliver() -> None:
        barrier.wait()
        results.append(rt.dispatcher.handle(msg, now=fixed_now()))

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 4 and not any(r.unavailable for r in results)
    assert len({tuple(x.text for x in r.replies) for r in results}) == 1
    with session(rt.engine) as s:
        n = s.execute(select(func.count()).select_from(InboundEvent).where(InboundEvent.message_id.like("%same-id"))).scalar_one()
    assert n == 1
