"""A sentinel string inside flagged messages never leaves in any outbound message (HTTP replies and every
outbox row), log line (all loggers at DEBUG), alert email, escalation, follow-up or conversation state."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from storage import alerts as alert_store
from storage.db import session
from storage.migrate import create_missing_tables, upgrade
from storage.models import Alert, Answer, Conversation, OutboxMessage
from tests.alerts.conftest import Clock, WebChat, tick, walk_to_choice_question, walk_to_text_question
from tests.helpers import Person
from tests.support.faults import database_down

SENTINEL = "zqxsentinel42"
MESSAGES = [  # each one flags; the sentinel sits inside the words the child types
    f"{SENTINEL} my foster dad hits me",
    f"i want to kill myself {SENTINEL}",
    f"he touches me {SENTINEL} and says its our secret",
    f"im not safe at home {SENTINEL}",
]


def test_sentinel_never_leaves(
    make_rt: Any,
    tmp_path: Path,
    clock: Clock,
    sink: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"sqlite:///{tmp_path / 'dbdir' / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt: Runtime = make_rt(url)
    debug_everything(caplog, monkeypatch)
    for m in MESSAGES:
        assert rt.dispatcher.check(_inb(m)).flagged

    # Web chat: at a free-text question (stored as a quarantined answer), a typed choice, the menu.
    a = WebChat(rt, clock, monkeypatch)
    walk_to_text_question(a)
    a.text(MESSAGES[0])
    a.text(MESSAGES[1])  # at the next question
    b = WebChat(rt, clock, monkeypatch)
    walk_to_choice_question(b)
    b.text(MESSAGES[2])
    # A push channel (outbox rows pending for the sender) and a redelivery of the same message.
    t = Person(rt.dispatcher, "tg-7", channel="telegram", now=clock.now)
    t.text("hello")
    t.press("I'm 16 to 25")
    t.text(MESSAGES[3], message_id="tg-m-1")
    t.text(MESSAGES[3], message_id="tg-m-1")
    # During an outage (spool), then recovery, escalation and acknowledgement with follow-ups.
    with database_down(rt, url):
        a.text(MESSAGES[1])
    for minutes in (1, 30, 60):
        tick(rt, clock.now + timedelta(minutes=minutes))
    with session(rt.engine) as s:
        for alert in alert_store.open_alerts(s):
            alert_store.acknowledge(s, alert, staff="Sam Duty", now=clock.now + timedelta(minutes=61))
    tick(rt, clock.now + timedelta(minutes=62))
    clock.now += timedelta(minutes=63)
    a.text("hi again")  # the web chat shows the follow-up now
    rt.notifier.wait_idle()

    with session(rt.engine) as s:
        alerts = list(s.execute(select(Alert)).scalars())
        outbox = [r.payload_json for r in s.execute(select(OutboxMessage)).scalars()]
        states = [c.state_json for c in s.execute(select(Conversation)).scalars()]
        answers = list(s.execute(select(Answer)).scalars())
    mails = [m.as_string() for m in sink.messages]

    # The test is only meaningful if the sentinel really went through every path.
    assert len(alerts) == 5  # 4 messages + the one during the outage (redelivery is not a new alert)
    assert all(SENTINEL in rt.keyring.decrypt(al.text_enc) for al in alerts)  # type: ignore[arg-type]
    # The flagged answer is kept, quarantined and only encrypted.
    assert any(x.quarantined and x.text_enc and SENTINEL in rt.keyring.decrypt(x.text_enc) for x in answers)
    assert len(mails) >= 5 + 5 * 2
    assert any("ESCALATED" in m for m in mails)
    assert sum("has now read your message" in o for o in outbox) >= 3  # follow-ups queued
    assert any("has now read your message" in body for body in a.bodies)  # and shown on the web chat
    assert any("INSERT INTO answer" in r.getMessage() for r in caplog.records)  # SQL logging was captured

    leaks = {
        "http": [x for x in a.bodies + b.bodies if SENTINEL in x],
        "answers in plain": [x.id for x in answers if SENTINEL in (x.text_value or "") + x.value_json],
        "outbox": [x for x in outbox if SENTINEL in x],
        "email": [x for x in mails if SENTINEL in x],
        "state": [x for x in states if SENTINEL in x],
        "logs": [r.name for r in caplog.records if SENTINEL in r.getMessage() or SENTINEL in str(r.args)],
        "log text": [SENTINEL] if SENTINEL in caplog.text else [],
        "spool": [
            p.name for p in (tmp_path / "spool").glob("*") if SENTINEL in p.read_text(errors="replace")
        ],
    }
    assert leaks == {k: [] for k in leaks}


def debug_everything(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every logger at DEBUG and enabled (Alembic's logging config quietens SQLAlchemy otherwise)."""
    caplog.set_level(logging.DEBUG)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)
            monkeypatch.setattr(logger, "disabled", False)


def _inb(text: str) -> Any:
    from bot.messages import Inbound

    return Inbound("web", "pre", "pre-1", "text", text=text)
