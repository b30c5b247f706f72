"""Good news (consent, approval queue, CLI, audit) and the wellbeing check-in (aggregate-only scales)."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from storage import audit, good_news
from storage.db import session
from storage.models import Answer, GoodNews, Submission
from tests.conftest import fixed_now
from tests.young_people.conftest import join


def share(p, text: str, category: str, consent: str) -> None:
    p.press("🎉")
    p.feel("😀")
    p.text(text)
    p.press(category)
    p.press(consent)


def test_good_news_with_and_without_consent(rt) -> None:
    teen = join(rt, "g1", "teen")
    share(teen, "I passed my maths exam", "🏆", "Yes")
    assert "can go in the council's celebrations" in teen.said
    junior = join(rt, "g2", "junior")
    share(junior, "I learned to swim", "⚽", "No")
    assert "won't share it" in junior.said
    with session(rt.engine) as s:
        rows = {r.text: r for r in s.execute(select(GoodNews)).scalars()}
        queue = good_news.list_items(s)
    assert rows["I passed my maths exam"].status == "pending"
    assert rows["I passed my maths exam"].consent
    assert rows["I passed my maths exam"].category == "achievement"
    assert rows["I passed my maths exam"].band == "teen"
    assert rows["I learned to swim"].status == "private"
    assert not rows["I learned to swim"].consent
    assert [g.text for g in queue] == ["I passed my maths exam"]  # only shareable items reach staff


def test_skipping_the_news_stores_nothing(rt) -> None:
    p = join(rt, "g3", "young_adult")
    p.press("🎉")
    p.press("Skip")
    p.press("Skip")
    assert "share your good news whenever you like" in p.said
    with session(rt.engine) as s:
        assert s.execute(select(GoodNews)).first() is None


def test_cli_list_approve_reject_with_audit(rt, cli) -> None:
    a, b = join(rt, "g4", "teen"), join(rt, "g5", "young_adult")
    share(a, "Got a place at college", "🏫", "Yes")
    share(b, "Passed my driving theory test", "🏆", "Yes")
    with session(rt.engine) as s:
        ids = {g.text: g.id for g in good_news.list_items(s)}
    listing = cli("goodnews", "list", "--staff", "pat")
    assert "Got a place at college" in listing
    assert "Passed my driving theory test" in listing
    assert "approved" in cli("goodnews", "approve", str(ids["Got a place at college"]), "--staff", "pat")
    assert "rejected" in cli(
        "goodnews", "reject", str(ids["Passed my driving theory test"]), "--staff", "pat"
    )
    assert "already approved" in cli("goodnews", "approve", str(ids["Got a place at college"]), ok=False)
    assert "no shareable good news with id 999" in cli("goodnews", "approve", "999", ok=False)
    assert "no pending good news" in cli("goodnews", "list")
    assert "Got a place at college" in cli("goodnews", "list", "--status", "approved")
    with session(rt.engine) as s:
        actions = [(e.actor, e.action) for e in audit.entries(s)]
        assert audit.verify(s) == []
        approved = good_news.approved(s, fixed_now() - timedelta(days=1), fixed_now() + timedelta(days=1))
        assert good_news.approved(s, fixed_now() + timedelta(days=1), None) == []
    assert ("setup:pat", "goodnews.approved") in actions
    assert ("setup:pat", "goodnews.rejected") in actions
    assert ("setup:pat", "goodnews.list") in actions
    assert [g.text for g in approved] == ["Got a place at college"]
    assert not hasattr(approved[0], "participant_id")


WELLBEING_IDS = ["feeling", "feel_safe", "trust_adults", "trusted_adult", "happy_yesterday", "getting_better"]


def test_wellbeing_stores_scale_answers_for_counting_only(rt) -> None:
    for sender, band, faces in (
        ("w1", "junior", ["😀", "🙂", "😀", "😐", "🙂", "😀"]),
        ("w2", "teen", ["🙂", "😐", "🙂", "😀", "😐", "🙂"]),
    ):
        p = join(rt, sender, band)
        p.press("😊" if band == "junior" else "💬")
        for face in faces:
            p.press(face)
        assert "Thanks for checking in" in p.said
        assert "Childline" not in p.said
    with session(rt.engine) as s:
        rows = s.execute(
            select(Submission.band, Answer.question_id, Answer.value_json, Answer.text_value)
            .join(Answer, Answer.submission_id == Submission.id)
            .where(Submission.flow_id == "wellbeing")
            .order_by(Answer.id)
        ).all()
    assert [q for b, q, _, _ in rows if b == "junior"] == WELLBEING_IDS
    assert [json.loads(v) for b, _, v, _ in rows if b == "teen"] == [4, 3, 4, 5, 3, 4]
    assert all(t is None for *_, t in rows)  # no free text in the check-in


def test_wellbeing_low_answer_gets_gentle_help_without_an_alert(rt) -> None:
    p = join(rt, "w3", "teen")
    p.press("💬")
    p.feel("😢")
    for _ in range(5):
        p.press("Skip")
    assert "talking to someone can help" in p.said
    assert "999" in p.said
    with session(rt.engine) as s:
        from storage.models import Alert

        assert s.execute(select(Alert)).first() is None  # a score alone never raises an alert
