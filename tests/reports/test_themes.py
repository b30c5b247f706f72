"""Theme summaries (issue 19, 6): staff words shown above a question's quotes in the report for exactly the
period they were written for; the quotes under them stay capped and de-duplicated."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.actions.policy import Actor, Forbidden, Invalid
from admin.actions.themes import write_theme
from admin.reports import registry
from storage import quotes as quote_store
from storage import submissions, themes
from storage.db import make_engine, session
from storage.models import AuditEntry
from tests.reports.conftest import NOW, frozen_library, report_settings

QUARTER = (date(2026, 7, 1), date(2026, 9, 30))
MANAGER = Actor("mgr", "participation_manager")
SUMMARY = "Most said a good carer listens and keeps promises; several asked for more time to settle in."


def _md(url: str, tmp_path: Path, period: tuple[date, date]) -> str:
    engine = make_engine(url)
    try:
        with session(engine) as s:
            return registry.produce("ocypc", s, frozen_library(), since=period[0], until=period[1], now=NOW,
                                    settings=report_settings(tmp_path), fmt="md").data.decode()
    finally:
        engine.dispose()


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Seven young people whose approved quotes answer one question in the quarter (a hand-made dataset:
    the theme needs quotes, not a large population)."""
    from storage import participants
    from storage.migrate import create_missing_tables, upgrade

    url = f"sqlite:///{tmp_path / 'themes.db'}"
    upgrade(url)
    create_missing_tables(url)
    engine = make_engine(url)
    when = datetime(2026, 8, 12, 10, 0, tzinfo=UTC)
    words = ["she listens to me properly", "they keep their promises", "she listens to me properly!",
             "he makes me laugh when i'm down", "they let me have friends round", "she helps with homework",
             "he cooks my favourite tea", "they never shout"]
    with session(engine) as s:
        for i, text in enumerate(words):
            p, _ = participants.create(s, key_hash=f"theme-{i}", channel="web", address_enc=None, now=when,
                                       band="teen", district="east", council="ocypc")
            sub = submissions.get_or_start(s, p, "good_foster_carer", 1, now=when)
            ans = submissions.put_answer(s, sub, "anything_else", text, skipped=False, free_text=True,
                                         quarantined=False, now=when)
            q = quote_store.add(s, answer_id=ans.id, flow_id="good_foster_carer", question_id="anything_else",
                                band="teen", scrubbed_text=text, answered_at=when, now=when)
            quote_store.decide(s, q.id, status="approved", by="tester", now=when)
    engine.dispose()
    return url


def test_the_summary_is_shown_above_that_questions_quotes(db: str, tmp_path: Path) -> None:
    flow_id, qid = "good_foster_carer", "anything_else"
    engine = make_engine(db)
    with session(engine) as s:
        write_theme(s, frozen_library(), MANAGER, topic_id=flow_id, question_id=qid, since=QUARTER[0],
                    until=QUARTER[1], summary=SUMMARY, settings=report_settings(tmp_path), now=NOW)
    with session(engine) as s:
        assert themes.theme_summary(s, flow_id, qid, QUARTER) == SUMMARY
        assert themes.theme_summary(s, flow_id, qid, (date(2026, 7, 1), date(2026, 7, 31))) is None
        row = s.execute(select(AuditEntry).where(AuditEntry.action == "theme.write")).scalar_one()
        assert row.actor == "mgr" and SUMMARY not in (row.detail or "")
    engine.dispose()
    text = _md(db, tmp_path, QUARTER)
    at = text.index(SUMMARY)
    heading = text.rindex("#### In their own words:", 0, at)
    assert "\n- “" not in text[heading:at], "the summary comes before the quotes"
    assert text.count(SUMMARY) == 1
    nxt = text.find("\n#", at)
    block = text[at:nxt if nxt > 0 else len(text)]
    assert "- “" in block, "the question's quotes follow the summary"
    # Under it, the quotes stay capped at the setting and the near-duplicate appears once.
    assert block.count("- “") == report_settings(tmp_path).quotes_per_question < 7
    assert block.count("listens to me properly") == 1


def test_only_quote_approvers_write_and_only_staff_words_pass(db: str, tmp_path: Path) -> None:
    engine = make_engine(db)
    settings = report_settings(tmp_path)
    kw = {"topic_id": "good_foster_carer", "question_id": "anything_else", "since": QUARTER[0],
          "until": QUARTER[1], "settings": settings, "now": NOW}
    with session(engine) as s:
        with pytest.raises(Forbidden):
            write_theme(s, frozen_library(), Actor("w", "participation_worker", ("east",)), summary=SUMMARY, **kw)
        with pytest.raises(Invalid, match="name"):  # a name and a school: refused, with what would go
            write_theme(s, frozen_library(), MANAGER, summary="Jamie at Oakwood School said it was good.", **kw)
        with pytest.raises(Invalid, match="fixed reporting period"):
            write_theme(s, frozen_library(), MANAGER, summary=SUMMARY,
                        **{**kw, "since": date(2026, 7, 2)})
        with pytest.raises(Invalid, match="whole calendar quarter"):  # a month: answers are published per quarter
            write_theme(s, frozen_library(), MANAGER, summary=SUMMARY,
                        **{**kw, "since": date(2026, 9, 1), "until": date(2026, 9, 30)})
        with pytest.raises(Invalid, match="question"):
            write_theme(s, frozen_library(), MANAGER, summary=SUMMARY, **{**kw, "question_id": "nope"})
        with pytest.raises(Invalid, match="600"):
            write_theme(s, frozen_library(), MANAGER, summary="word " * 200, **kw)
        assert write_theme(s, frozen_library(), MANAGER, summary=SUMMARY, **kw) is not None
        assert write_theme(s, frozen_library(), MANAGER, summary="  ", **kw) is None  # empty removes it
        assert themes.theme_summary(s, "good_foster_carer", "anything_else", QUARTER) is None
    engine.dispose()
