"""Scheduled jobs run once per slot across processes (issue 26): every process runs the scheduler, and each
occurrence is claimed in the database by the slot it was due in, not the moment a process fired. A process that
wakes late does not run a slot another already ran; a cron slot every process missed is caught up once; processes
racing for one slot run it once. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from admin.scheduler import Job, catch_up, occurrence, run_job
from storage.db import make_engine
from tests.multiprocess import tick

DAILY = Job("probe_daily", tick.record, cron={"hour": 10, "minute": 5})
WEEKLY = Job("probe_weekly", tick.record, cron={"day_of_week": "mon", "hour": 9})
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)  # a Monday; Europe/London is on UTC in winter
SLOT = MONDAY.replace(hour=10, minute=5)


@pytest.fixture
def processes(db_url: str) -> Any:
    """Three "processes": runtimes of their own (engines, connections) on one database."""
    tick.RUNS.clear()
    made = [SimpleNamespace(engine=make_engine(db_url), settings=SimpleNamespace(timezone="Europe/London"))
            for _ in range(3)]
    yield made
    for rt in made:
        rt.engine.dispose()


def test_the_slot_is_the_one_the_job_was_due_in() -> None:
    assert occurrence(DAILY, SLOT + timedelta(seconds=1)) == SLOT
    assert occurrence(DAILY, SLOT + timedelta(minutes=4, seconds=30)) == SLOT  # was 10:09: a slot of its own
    assert occurrence(DAILY, SLOT - timedelta(seconds=1)) == SLOT - timedelta(days=1)
    assert occurrence(WEEKLY, MONDAY + timedelta(days=3)) == MONDAY.replace(hour=9)
    summer = datetime(2026, 7, 1, 9, 5, 30, tzinfo=UTC)  # 10:05:30 in London (BST)
    assert occurrence(DAILY, summer) == datetime(2026, 7, 1, 9, 5, tzinfo=UTC)


def test_a_process_that_fires_late_does_not_run_the_slot_again(processes: list[Any]) -> None:
    a, b, c = processes
    assert run_job(a, DAILY, now=SLOT + timedelta(seconds=0.2)) == "ran"
    # Busy machines fire the same slot late (APScheduler's misfire grace is 300 s): nothing runs again.
    assert run_job(b, DAILY, now=SLOT + timedelta(minutes=1, seconds=30)) is None
    assert run_job(c, DAILY, now=SLOT + timedelta(minutes=4, seconds=59)) is None
    assert catch_up(b, [DAILY], now=SLOT + timedelta(minutes=10)) == []
    assert [SLOT + timedelta(seconds=0.2)] == tick.RUNS
    assert run_job(c, DAILY, now=SLOT + timedelta(days=1, seconds=3)) == "ran"  # the next day's slot
    assert len(tick.RUNS) == 2


def test_a_slot_every_process_missed_is_caught_up_once(processes: list[Any]) -> None:
    a, b, c = processes
    # Nobody ran 10:05 (every process was stopped); the first sweep after is 35 minutes late.
    assert catch_up(a, [DAILY, WEEKLY], now=SLOT + timedelta(minutes=35)) == ["probe_daily"]  # 09:00 is too old
    assert catch_up(b, [DAILY, WEEKLY], now=SLOT + timedelta(minutes=36)) == []
    assert run_job(c, DAILY, now=SLOT + timedelta(minutes=37)) is None  # a late trigger, too
    assert [SLOT + timedelta(minutes=35)] == tick.RUNS
    # Beyond the job's catch-up window (an hour) a missed slot is left for the next one.
    tomorrow = SLOT + timedelta(days=1)
    assert catch_up(c, [DAILY], now=tomorrow + DAILY.catch_up + timedelta(seconds=1)) == []
    assert len(tick.RUNS) == 1


def test_processes_racing_for_one_slot_run_it_once(processes: list[Any]) -> None:
    barrier = threading.Barrier(len(processes) * 2)
    results: list[str] = []

    def fire(rt: Any, late: float, sweep: bool) -> None:
        barrier.wait()
        now = SLOT + timedelta(seconds=late)
        if sweep:
            results.extend(catch_up(rt, [DAILY], now=now))
        elif run_job(rt, DAILY, now=now) is not None:
            results.append("fired")

    # Each process fires on time and sweeps for missed slots at the same moment.
    threads = [threading.Thread(target=fire, args=(rt, 0.01 * i, sweep))
               for i, rt in enumerate(processes) for sweep in (False, True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 1 and len(tick.RUNS) == 1
