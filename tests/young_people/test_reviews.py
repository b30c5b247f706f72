"""'Get ready for my review': the statement is shown back, and nothing leaves without the explicit choice.

Deliveries go to a loopback SMTP sink configured through OURVOICE_REVIEW_* (see conftest).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from storage import reviews
from storage.db import make_engine, session
from storage.models import Answer, OutboxMessage, ReviewStatement, Submission
from tests.conftest import make_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.young_people.conftest import IRO, SOCIAL_WORKER, join

GOING_WELL = "I like my new school and the football club"
NOT_WELL = "I don't see my brother enough"
ASK = "Can I have more time with my brother at weekends?"


def prepare(p, band: str = "teen") -> None:
    p.press("📋" if band != "junior" else "📅")
    p.feel("🙂")
    p.text(GOING_WELL)
    p.text(NOT_WELL)
    p.press("My social worker")
    p.press("Done")
    p.text(ASK)
    p.press("A little bit of it" if band == "junior" else "Yes, part of it")


def statement_row(rt) -> ReviewStatement:
    with session(rt.engine) as s:
        return s.execute(select(ReviewStatement)).scalar_one()


def review_texts(rt) -> list[str]:
    with session(rt.engine) as s:
        return [
            t
            for (t,) in s.execute(
                select(Answer.text_value)
                .join(Submission, Submission.id == Answer.submission_id)
                .where(Submission.flow_id == "review_prep", Answer.text_value.is_not(None))
            ).all()
        ]


def outbox_words(rt) -> str:
    with session(rt.engine) as s:
        return " ".join(p for (p,) in s.execute(select(OutboxMessage.payload_json)).all())


def test_statement_is_shown_back_and_nothing_sent_before_the_choice(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r1", "teen")
    prepare(p)
    assert "Here's your statement" in p.said
    for part in (GOING_WELL, NOT_WELL, "My social worker", ASK, "Yes, part of it"):
        assert part in p.said
    assert [b for b in p.buttons if b.startswith("📨")] == [
        "📨 Send it to my IRO (Independent Reviewing Officer)",
        "📨 Send it to my social worker",
    ]
    time.sleep(0.2)
    assert review_env.messages == []
    row = statement_row(rt)
    assert row.status == "draft"
    assert GOING_WELL.encode() not in (row.statement_enc or b"")


def test_send_to_iro_delivers_once_to_the_configured_address_and_says_who(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r2", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    assert f"Sent to your IRO (Independent Reviewing Officer) only, at {IRO}" in p.said
    [msg] = review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (IRO,)
    body = msg.get_content()
    assert GOING_WELL in body
    assert ASK in body
    assert "ref P-" in msg["Subject"]
    row = statement_row(rt)
    assert (row.status, row.sent_to_role, row.sent_to_address) == ("sent", "iro", IRO)
    assert review_texts(rt) == []  # the plain-text answers are gone; the encrypted statement is the copy
    time.sleep(0.2)
    assert len(review_env.messages) == 1


def test_send_to_social_worker_for_a_young_adult_names_the_pa_too(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r3", "young_adult")
    prepare(p)
    p.press("📨 Send it to my social worker or personal adviser (PA)")
    assert "your social worker or personal adviser only" in p.said
    review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (SOCIAL_WORKER,)
    assert statement_row(rt).sent_to_role == "social_worker"


@pytest.mark.parametrize("choice", ["🔒 Keep it just for me", "Skip"])
def test_keep_or_skip_sends_nothing(rt, review_env: SmtpSink, choice: str) -> None:
    p = join(rt, "r4", "teen")
    prepare(p)
    p.press(choice)
    assert "kept just for you" in p.said
    time.sleep(0.3)
    assert review_env.messages == []
    row = statement_row(rt)
    assert row.status == "kept"
    assert row.statement_enc is not None
    assert row.sent_to_role is None
    # The copy read back to them in the chat is blanked too: the locked statement is the only one left.
    assert GOING_WELL not in outbox_words(rt) and ASK not in outbox_words(rt)


def test_discard_sends_nothing_and_deletes_the_text(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r5", "junior")
    prepare(p, "junior")
    p.press("🗑 Throw it away")
    assert "it's gone" in p.said
    time.sleep(0.3)
    assert review_env.messages == []
    row = statement_row(rt)
    assert (row.status, row.statement_enc) == ("discarded", None)
    assert review_texts(rt) == []
    assert GOING_WELL not in outbox_words(rt)
    with session(rt.engine) as s:  # the choices (not text) stay for counting
        kept = {
            q
            for (q,) in s.execute(
                select(Answer.question_id)
                .join(Submission, Submission.id == Answer.submission_id)
                .where(Submission.flow_id == "review_prep")
            ).all()
        }
    assert {"who_there", "chair", "decide"} <= kept
    assert not {"going_well", "ask_change"} & kept


def test_edit_then_send_sends_the_edited_statement(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r6", "teen")
    prepare(p)
    p.press("✏️ Change something")
    p.press("What's going well")
    p.text("Everything at college")
    assert "Everything at college" in p.said
    assert GOING_WELL not in p.said
    p.press("📨 Send it to my IRO")
    [msg] = review_env.wait_for(1)
    assert "Everything at college" in msg.get_content()
    assert GOING_WELL not in msg.get_content()


def test_without_a_configured_address_nothing_is_sent(
    db_url: str, tmp_path: Path, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch, fast_runtime
) -> None:
    monkeypatch.setenv("OURVOICE_REVIEW_SMTP_PORT", str(sink.port))
    monkeypatch.delenv("OURVOICE_REVIEW_IRO_TO", raising=False)
    rt = fast_runtime(make_settings(db_url, tmp_path))
    p = join(rt, "r7", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    assert "hasn't set up where it should go. Nothing was sent" in p.said
    time.sleep(0.3)
    assert sink.messages == []
    assert statement_row(rt).status == "kept"
    rt.engine.dispose()


def test_mail_server_down_marks_failed_and_tells_the_young_person(rt, review_env: SmtpSink) -> None:
    review_env.stop()
    p = join(rt, "r8", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    assert statement_row(rt).status == "failed"
    p.command("help")  # the web chat shows the pending notice with the next reply
    assert "didn't reach your IRO" in p.said


def test_after_commit_never_runs_when_the_transaction_rolls_back(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    calls: list[str] = []

    def failing_step() -> None:
        with session(engine) as s:
            reviews.after_commit(s, lambda _open: calls.append("rolled back"))
            raise RuntimeError("step failed")

    with pytest.raises(RuntimeError):
        failing_step()
    with session(engine) as s:
        reviews.after_commit(s, lambda _open: calls.append("committed"))
    assert calls == ["committed"]
    engine.dispose()


def test_after_commit_from_a_rolled_back_savepoint_never_runs(sqlite_url: str) -> None:
    # Group commit steps each event of a batch in a savepoint: an event that fails is rolled back alone
    # while the others commit, and what it asked to run after commit (say, emailing a review) must go too.
    engine = make_engine(sqlite_url)
    calls: list[str] = []
    with session(engine) as s:
        with s.begin_nested():
            reviews.after_commit(s, lambda _open: calls.append("kept event"))

        def failed_event() -> None:
            with s.begin_nested():
                reviews.after_commit(s, lambda _open: calls.append("failed event"))
                raise RuntimeError("step failed")

        with pytest.raises(RuntimeError):
            failed_event()
        with s.begin_nested(), s.begin_nested():  # an inner savepoint kept, its outer one rolled back
            reviews.after_commit(s, lambda _open: calls.append("inside a failed savepoint"))
            s.get_nested_transaction().parent.rollback()  # type: ignore[union-attr]
        assert calls == []  # nothing runs before the real commit
    assert calls == ["kept event"]
    engine.dispose()


def test_a_successful_send_queues_no_follow_up_notice(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r9", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    review_env.wait_for(1)
    with session(rt.engine) as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars().all()
    assert rows == []
