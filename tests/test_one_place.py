"""One place per flow, in storage (issue 23 item 2): "start again" closes the old submission as restarted (its
answers gone, so nothing is counted twice) and "carry on" keeps answering the same submission."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.runtime import build_runtime
from storage.db import session
from storage.models import Answer, Submission
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person


def test_start_again_closes_the_old_submission_and_carry_on_reuses_it(db_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(db_url, tmp_path))
    try:
        carer = Person(rt.dispatcher, "one-place-carer", now=fixed_now())
        carer.text("hi")
        carer.press("I'm a foster carer")
        carer.press("📋 Annual carer survey")
        carer.press("3 to 5 years")
        carer.command("menu")
        carer.press("📋 Annual carer survey")
        carer.press("▶ Carry on")
        carer.press("Long-term")
        carer.press("Done")
        with session(rt.engine) as s:
            subs = s.execute(select(Submission).where(Submission.flow_id == "carer_annual")).scalars().all()
            assert [(x.status, len(s.execute(select(Answer).where(Answer.submission_id == x.id)).all()))
                    for x in subs] == [("started", 2)]  # carried on: one submission, both answers
        carer.command("menu")
        carer.press("📋 Annual carer survey")
        carer.press("↺ Start again")
        assert "Thank you for opening this" in carer.said
        with session(rt.engine) as s:
            subs = s.execute(
                select(Submission).where(Submission.flow_id == "carer_annual").order_by(Submission.id)
            ).scalars().all()
            statuses = [x.status for x in subs]
            old_answers = s.execute(select(Answer).where(Answer.submission_id == subs[0].id)).all()
        assert statuses == ["restarted", "started"]  # not left "started"
        assert old_answers == []
    finally:
        rt.engine.dispose()
