"""storage/push_store.py on SQLite and PostgreSQL: waiting web chat notices make one ping row per subscription
(once), only when due, unread and not a reply; removing a subscription removes its pings; the same browser
subscribing again (even for someone else) replaces its old subscription."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from storage import outbox, participants, push_store
from storage.db import Session, make_engine, session
from storage.models import PushMessage

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)


def person(s: Session, n: int) -> int:
    p, _ = participants.create(s, key_hash=f"k{n}", channel="web", address_enc=None, now=NOW,
                               audience="young_person", band="teen", district="east", council="ocypc")
    return int(p.id or 0)


def test_waiting_notices_make_one_ping_per_subscription(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with session(engine) as s:
            a, b = person(s, 1), person(s, 2)
            phone = push_store.save(s, a, "h-phone", b"sealed", now=NOW)
            laptop = push_store.save(s, a, "h-laptop", b"sealed", now=NOW)
            push_store.save(s, b, "h-other", b"sealed", now=NOW)
            due = outbox.add(s, channel="web", payload_json="{}", now=NOW, participant_id=a, kind="notice")
            outbox.add(s, channel="web", payload_json="{}", now=NOW, participant_id=a, kind="notice",
                       not_before=NOW + timedelta(hours=1))  # held (quiet hours, daily cap): not yet
            outbox.add(s, channel="web", payload_json="{}", now=NOW, participant_id=a, kind="reply")
            outbox.add(s, channel="telegram", payload_json="{}", now=NOW, participant_id=a, kind="notice")
        with session(engine) as s:
            assert push_store.queue_waiting(s, channel="web", now=NOW) == 2  # one notice, two devices
            assert push_store.queue_waiting(s, channel="web", now=NOW) == 0  # never twice
            rows = push_store.due(s, now=NOW)
            assert sorted(r.subscription_id for r in rows) == sorted([phone, laptop])
            assert {r.outbox_id for r in rows} == {due}
            assert push_store.unread(s, [due]) == {due}
            push_store.mark(s, [int(r.id or 0) for r in rows], status="sent", now=NOW)
            assert push_store.due(s, now=NOW) == []
        with session(engine) as s:
            assert push_store.queue_waiting(s, channel="web", now=NOW + timedelta(hours=1)) == 2  # the held one
            assert push_store.remove(s, [phone]) == 1
            left = list(s.execute(select(PushMessage)).scalars())
            assert {m.subscription_id for m in left} == {laptop}
            # The laptop now belongs to b (a shared computer): a's subscription for it goes, with its pings.
            moved = push_store.save(s, b, "h-laptop", b"sealed-again", now=NOW)
            assert [x.id for x in push_store.subscriptions(s, a)] == []
            assert moved in [x.id for x in push_store.subscriptions(s, b)]
            assert list(s.execute(select(PushMessage)).scalars()) == []
    finally:
        engine.dispose()
