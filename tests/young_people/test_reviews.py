"""'Get ready for my review': the statement is shown back, and nothing leaves without the explicit choice.

A statement leaves as an email outbox row written in the step that records the choice; the real email sender
delivers it to a loopback SMTP sink (OURVOICE_SMTP_*, see conftest) and the review_delivery job reads the
outcome back into the statement's status.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from admin.jobs.reviews import delivery
from storage.db import session
from storage.models import Answer, Invite, OutboxMessage, ReviewStatement, Submission
from tests.conftest import make_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.support.email import send_queued_email
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


def deliver(rt, *, now=None) -> str:
    """What `ourvoice run` does in the background: the email sender, then the review_delivery job."""
    send_queued_email(rt, now=now)
    return delivery(rt, now=now or datetime.now(UTC))


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
    assert review_env.messages == []  # an outbox row until the email sender runs
    assert statement_row(rt).status == "sending"
    assert GOING_WELL not in outbox_words(rt)  # the row holds the statement sealed
    assert deliver(rt) == "sent=1 failed=0"
    [msg] = review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (IRO,)
    body = msg.get_content()
    assert GOING_WELL in body
    assert ASK in body
    assert "ref P-" in msg["Subject"]
    row = statement_row(rt)
    assert (row.status, row.sent_to_role, row.sent_to_address) == ("sent", "iro", IRO)
    assert review_texts(rt) == []  # the plain-text answers are gone; the encrypted statement is the copy
    assert deliver(rt) == "sent=0 failed=0"
    assert len(review_env.messages) == 1


def test_send_to_social_worker_for_a_young_adult_names_the_pa_too(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r3", "young_adult")
    prepare(p)
    p.press("📨 Send it to my social worker or personal adviser (PA)")
    assert "your social worker or personal adviser only" in p.said
    deliver(rt)
    review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (SOCIAL_WORKER,)
    assert statement_row(rt).sent_to_role == "social_worker"


@pytest.mark.parametrize("choice", ["🔒 Keep it just for me", "Skip"])
def test_keep_or_skip_sends_nothing(rt, review_env: SmtpSink, choice: str) -> None:
    p = join(rt, "r4", "teen")
    prepare(p)
    p.press(choice)
    assert "kept just for you" in p.said
    deliver(rt)
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
    deliver(rt)
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
    deliver(rt)
    [msg] = review_env.wait_for(1)
    assert "Everything at college" in msg.get_content()
    assert GOING_WELL not in msg.get_content()


def test_without_a_configured_address_nothing_is_sent(
    db_url: str, tmp_path: Path, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch, fast_runtime
) -> None:
    monkeypatch.setenv("OURVOICE_SMTP_PORT", str(sink.port))
    monkeypatch.delenv("OURVOICE_REVIEW_IRO_TO", raising=False)
    rt = fast_runtime(make_settings(db_url, tmp_path))
    p = join(rt, "r7", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    assert "hasn't set up where it should go. Nothing was sent" in p.said
    deliver(rt)
    assert sink.messages == []
    assert statement_row(rt).status == "kept"
    rt.engine.dispose()


def test_mail_server_down_keeps_it_queued_and_it_goes_once_when_back(rt, review_env: SmtpSink) -> None:
    review_env.stop()
    p = join(rt, "r8", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    now = datetime.now(UTC)
    assert deliver(rt, now=now) == "sent=0 failed=0"  # tried, refused by the network, put back for later
    assert statement_row(rt).status == "sending"
    review_env.start()
    assert deliver(rt, now=now + timedelta(minutes=10)) == "sent=1 failed=0"
    assert deliver(rt, now=now + timedelta(minutes=20)) == "sent=0 failed=0"
    assert len(review_env.messages) == 1
    assert statement_row(rt).status == "sent"


def test_a_refused_address_marks_failed_and_tells_the_young_person(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fast_runtime
) -> None:
    with SmtpSink(refuse=(IRO,)) as refusing:
        monkeypatch.setenv("OURVOICE_SMTP_HOST", refusing.host)
        monkeypatch.setenv("OURVOICE_SMTP_PORT", str(refusing.port))
        monkeypatch.setenv("OURVOICE_REVIEW_IRO_TO", IRO)
        rt = fast_runtime(make_settings(db_url, tmp_path))
        p = join(rt, "r8b", "teen")
        prepare(p)
        p.press("📨 Send it to my IRO")
        assert deliver(rt) == "sent=0 failed=1"
        assert statement_row(rt).status == "failed"
        p.command("help")  # the web chat shows the pending notice with the next reply
        assert "didn't reach your IRO" in p.said
        assert refusing.messages == []
        rt.engine.dispose()


def test_the_email_row_is_written_with_the_choice_and_blanked_once_sent(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r10", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    row = statement_row(rt)
    with session(rt.engine) as s:
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.id == row.outbox_id)).scalar_one()
        assert (mail.channel, mail.kind, mail.status) == ("email", "review_statement", "pending")
        sealed = mail.payload_json
    deliver(rt)
    with session(rt.engine) as s:
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.id == row.outbox_id)).scalar_one()
        assert mail.status == "sent" and mail.payload_json != sealed  # the sealed copy is gone too


def test_a_successful_send_queues_no_follow_up_notice(rt, review_env: SmtpSink) -> None:
    p = join(rt, "r9", "teen")
    prepare(p)
    p.press("📨 Send it to my IRO")
    deliver(rt)
    review_env.wait_for(1)
    with session(rt.engine) as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars().all()
    assert rows == []


NAMED_IRO = "named.iro@council.invalid"


def test_a_statement_goes_to_the_iro_named_at_invite_not_the_shared_mailbox(
    db_url: str, tmp_path: Path, review_env: SmtpSink, fast_runtime
) -> None:
    from admin.actions.invites import create_invites
    from admin.actions.policy import Actor
    from tests.conftest import fixed_now
    from tests.helpers import Person

    rt = fast_runtime(make_settings(db_url, tmp_path, invite_only=True))
    lead = Actor("lead", "participation_manager")
    with session(rt.engine) as s:
        _, [made] = create_invites(s, rt.keyring, lead, audience="young_person", age_band="11-16", district=None,
                                   council=None, count=1, expires_days=5, now=fixed_now(),
                                   public_url="https://ov.example", iro_email=NAMED_IRO)
        stored = s.execute(select(Invite)).scalar_one()
        assert stored.iro_to_enc and NAMED_IRO.encode() not in stored.iro_to_enc  # encrypted
    p = Person(rt.dispatcher, "named-1", now=fixed_now())
    p.text(made.code)
    for _ in range(3):  # through the welcome to the main menu
        if any(b.startswith("📋") for b in p.buttons):
            break
        assert p.buttons, p.said
        p.press(p.buttons[0])
    prepare(p)
    p.press("📨 Send it to my IRO")
    assert deliver(rt) == "sent=1 failed=0"
    [msg] = review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (NAMED_IRO,)
    assert GOING_WELL in msg.get_content() and "ref P-" in msg["Subject"]
    row = statement_row(rt)
    assert row.sent_to_address == "named at invite"  # the named person's address is never stored in clear
    rt.engine.dispose()


def test_an_iro_address_needs_one_young_persons_invite_and_a_real_address(sqlite_url: str, tmp_path: Path) -> None:
    from admin.actions.invites import create_invites
    from admin.actions.policy import Actor, Invalid
    from bot.crypto import Keyring
    from storage.db import make_engine
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now

    engine = make_engine(sqlite_url)
    keyring = Keyring(TEST_HASH_KEY, [TEST_FERNET_KEY])
    lead = Actor("lead", "participation_manager")
    for count, address, why in ((2, NAMED_IRO, "one young person"), (1, "not an address", "should look like")):
        with pytest.raises(Invalid, match=why), session(engine) as s:
            create_invites(s, keyring, lead, audience="young_person", age_band="11-16", district=None,
                           council=None, count=count, expires_days=5, now=fixed_now(),
                           public_url="https://ov.example", iro_email=address)
    engine.dispose()
