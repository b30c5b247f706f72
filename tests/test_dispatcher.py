"""Dispatcher + storage on SQLite and PostgreSQL: durable steps, redelivery, restart, races, outages."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.messages import Inbound
from bot.runtime import build_runtime
from storage.db import session
from storage.models import Answer, ChannelIdentity, Conversation, InboundEvent, OutboxMessage, Submission
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person
from tests.support.journeys import walk_to_free_text


def count(engine, model) -> int:
    with session(engine) as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(db_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def test_answers_are_stored_as_given_and_submission_completes(rt) -> None:
    p = Person(rt.dispatcher, "alice", now=fixed_now())
    walk_to_free_text(p)
    p.text("Kind and patient 😊")
    p.press("Yes")
    with session(rt.engine) as s:
        subs = s.execute(select(Submission).where(Submission.flow_id == "good_foster_carer")).scalars().all()
        assert [(x.status, x.band) for x in subs] == [("completed", "teen")]
        answers = {a.question_id: a for a in s.execute(select(Answer).where(Answer.submission_id == subs[0].id)).scalars()}
    assert json.loads(answers["feeling"].value_json) == 4
    assert json.loads(answers["qualities"].value_json) == ["listens"]
    # Free text is stored only encrypted (issue 22), in one column only.
    assert answers["anything_else"].text_value is None
    assert rt.keyring.decrypt(answers["anything_else"].text_enc) == "Kind and patient 😊"
    assert answers["anything_else"].value_json == "null"


def test_same_event_twice_is_stored_once_and_answered_once(rt) -> None:
    p = Person(rt.dispatcher, "bob", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    p.press("🗣")
    token = next(c.token for r in p.last for c in r.choices if c.label.startswith("🙂"))
    msg = Inbound("web", "bob", "dup-1", "button", payload=token)
    first = rt.dispatcher.handle(msg, now=fixed_now())
    outbox_before = count(rt.engine, OutboxMessage)
    answers_before = count(rt.engine, Answer)
    second = rt.dispatcher.handle(msg, now=fixed_now())
    assert not first.duplicate and second.duplicate
    assert [r.text for r in second.replies] == [r.text for r in first.replies]  # same answer, not a new one
    assert count(rt.engine, OutboxMessage) == outbox_before
    assert count(rt.engine, Answer) == answers_before
    assert count(rt.engine, InboundEvent) == 4


def test_restart_between_steps_resumes_at_the_right_question(db_url: str, tmp_path: Path) -> None:
    settings = make_settings(db_url, tmp_path)
    rt1 = build_runtime(settings)
    p = Person(rt1.dispatcher, "carol", now=fixed_now())
    p.text("hello")
    p.press("I'm 16 to 25")
    p.press("🗣")
    p.feel("😐")
    rt1.engine.dispose()
    rt2 = build_runtime(settings)  # a fresh process: new engine, new library, same database
    p2 = Person(rt2.dispatcher, "carol", now=fixed_now())
    p2.command("start")
    assert "carry on" in p2.said.lower()
    assert "What makes a really good foster carer" in p2.said
    p2.press("They're fun")
    p2.press("Done")
    with session(rt2.engine) as s:
        values = [a.question_id for a in s.execute(select(Answer).order_by(Answer.id)).scalars()]
    assert values == ["who", "feeling", "qualities"]
    rt2.engine.dispose()


def test_concurrent_steps_for_one_person_lose_nothing(rt) -> None:
    p = Person(rt.dispatcher, "dan", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    errors: list[BaseException] = []

    def hammer(i: int) -> None:
        try:
            rt.dispatcher.handle(Inbound("web", "dan", f"race-{i}", "command", command="help"), now=fixed_now())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with session(rt.engine) as s:
        version = s.execute(select(Conversation.version)).scalar_one()
    assert version == 2 + 12  # every step saved exactly once, none overwritten


def test_channel_ids_are_only_stored_hashed(rt) -> None:
    p = Person(rt.dispatcher, "telegram-user-55501234", now=fixed_now())
    p.text("hello")
    with session(rt.engine) as s:
        ident = s.execute(select(ChannelIdentity)).scalar_one()
        assert "55501234" not in ident.key_hash
        assert ident.address_enc is not None and b"55501234" not in ident.address_enc
        assert rt.keyring.decrypt(ident.address_enc) == "telegram-user-55501234"


def test_database_down_gives_a_kind_reply_and_loses_nothing(tmp_path: Path, sqlite_url: str) -> None:
    settings = make_settings(sqlite_url, tmp_path)
    rt = build_runtime(settings)
    p = Person(rt.dispatcher, "erin", now=fixed_now())
    p.text("hello")
    p.press("I'm 11 to 16")
    good_engine = rt.dispatcher.engine
    from storage.db import make_engine

    # A server that is not there: every connection is refused, as during a database restart.
    rt.dispatcher.engine = make_engine("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    res = rt.dispatcher.handle(Inbound("web", "erin", "outage-1", "command", command="help"), now=fixed_now())
    assert res.stored is False
    assert "couldn't save that just now" in res.replies[-1].text
    rt.dispatcher.engine = good_engine
    res2 = rt.dispatcher.handle(Inbound("web", "erin", "outage-1", "command", command="help"), now=fixed_now())
    assert res2.stored and not res2.duplicate  # the retry with the same id is processed exactly once
    with session(rt.engine) as s:
        assert s.execute(text("select count(*) from inbound_event where message_id like '%outage-1'")).scalar_one() == 1
