"""Two processes (two runtimes on one database) running the reminder job at once never send twice:
the job_run claim picks one runner per occurrence, and each notice's unique row guards even direct calls."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from admin.jobs.carer_reminders import send_notices
from admin.scheduler import JOBS, run_job
from storage import waves
from storage.db import session
from tests.carers.conftest import make_carers, open_wave, runtime_for

DAY0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
JOB = next(j for j in JOBS if j.name == "carer_survey_notices")


def together(*calls: Callable[[], object]) -> list[object]:
    """Run the calls in threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)
    errors: list[BaseException] = []

    def work(i: int, fn: Callable[[], object]) -> None:
        try:
            barrier.wait()
            results[i] = fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return results


def outbox_notices_per_participant(rt) -> Counter[int]:
    with rt.engine.connect() as conn:
        rows = conn.execute(text("SELECT participant_id, COUNT(*) FROM outbox_message WHERE kind = 'notice' "
                                 "GROUP BY participant_id"))
        return Counter({pid: int(n) for pid, n in rows})


def test_two_processes_send_each_notice_once(db_url: str, tmp_path: Path) -> None:
    a = runtime_for(db_url, tmp_path / "a")
    b = runtime_for(db_url, tmp_path / "b")
    try:
        make_carers(a, 120)
        wave_id = open_wave(a)
        # The scheduler path: both processes fire the same occurrence; exactly one wins the claim.
        ran = together(lambda: run_job(a, JOB, now=DAY0), lambda: run_job(b, JOB, now=DAY0))
        assert sorted(r is None for r in ran) == [False, True]
        assert [r for r in ran if r] == ["waves=1 invite=120"]
        # Direct calls that skip the claim (a duplicate execution): the per-notice unique row still holds.
        day3 = DAY0 + timedelta(days=3)
        results = together(*[lambda rt=rt: send_notices(rt, now=day3) for rt in (a, b, a, b)])
        sent = sum(int(r.split("start=")[1]) for r in results if isinstance(r, str) and "start=" in r)
        assert sent == 120, results
        together(*[lambda rt=rt: send_notices(rt, now=day3 + timedelta(minutes=1)) for rt in (a, b)])
        with session(a.engine) as s:
            notes = waves.notices_of(s, wave_id)
        per_member = Counter((m, n) for m, _, n, _, _ in notes)
        assert len(per_member) == 240
        assert set(per_member.values()) == {1}
        assert set(outbox_notices_per_participant(a).values()) == {2}, "one outbox row per notice, no extras"
    finally:
        a.engine.dispose()
        b.engine.dispose()
