"""End to end on the web channel: three young people (7-11, 11-16, 16-25) use every menu item; a card is
raised, backed by others and moved through every state with the `ourvoice card` CLI; every raiser and
supporter is told about every change exactly once; a review statement leaves only on an explicit choice.
"""

from __future__ import annotations

import json
import time

from sqlalchemy import func, select

from admin.jobs.reviews import delivery
from storage import challenges
from storage.db import session
from storage.models import GoodNews, OutboxMessage, ReviewStatement, Submission
from tests.conftest import fixed_now
from tests.fakes.smtp_sink import SmtpSink
from tests.helpers import MOOD_FACES, Person
from tests.support.email import send_queued_email
from tests.support.journeys import back_first_card, raise_card
from tests.young_people.conftest import IRO, join

MENU = "What would you like to do"


def finish_by_skipping(p: Person, limit: int = 30) -> None:
    """Skip every question until the menu comes back (a young person can always do this)."""
    for _ in range(limit):
        if MENU in p.said:
            return
        p.press("Skip")
    raise AssertionError(f"menu never came back: {p.said}")


def use_every_menu_item(p: Person, band: str, review_choice: str) -> None:
    labels = {b.split(" ")[0] for b in p.buttons}
    expected = {"🗣", "🎉", "📅" if band == "junior" else "📋", "😊" if band == "junior" else "💬"}
    if band != "junior":
        expected |= {"✊", "🃏"}
    assert expected <= labels, (band, p.buttons)
    if band == "junior":
        assert not {"✊", "🃏"} & labels

    p.press("🗣")  # Have your say: one topic open today, so it starts straight away
    assert "foster carer" in p.said.lower()
    p.feel("🙂")
    finish_by_skipping(p)

    p.press("🎉")
    p.feel("😀")
    p.text(f"Good news from a {band}")
    p.press("🏆")
    p.press("Yes")
    assert MENU in p.said

    p.press("📅" if band == "junior" else "📋")
    p.feel("🙂")
    p.text(f"Going well for the {band}")
    p.press("Skip")
    p.press("Skip")  # who would you like there: skipped
    p.text("I want to ask about contact")
    p.press("Not sure")
    assert f"Going well for the {band}" in p.said
    p.press(review_choice)
    assert MENU in p.said

    p.press("😊" if band == "junior" else "💬")
    p.feel("🙂")  # the mood check-in: already given this session, so not asked again
    for face in ("😀", "🙂", "😀", "🙂", "😀"):
        p.press(face if band != "young_adult" else str(MOOD_FACES.index(face) + 1))  # 16-25s: numbers, no faces
    assert MENU in p.said

    if band != "junior":
        p.press("🃏")
        p.feel("🙂")
        p.press("🃏 See")
        assert "haven't raised or backed any cards" in p.said
        assert MENU in p.said


def notices_per_person(rt) -> dict[int, int]:
    with session(rt.engine) as s:
        rows = s.execute(
            select(OutboxMessage.participant_id, func.count())
            .where(OutboxMessage.kind == "notice")
            .group_by(OutboxMessage.participant_id)
        ).all()
    return {int(p): int(n) for p, n in rows}


def test_three_young_people_every_menu_item_and_a_card_through_its_whole_life(
    rt, cli, review_env: SmtpSink
) -> None:
    junior = join(rt, "e2e-junior", "junior")
    teen = join(rt, "e2e-teen", "teen")
    adult = join(rt, "e2e-adult", "young_adult")
    use_every_menu_item(junior, "junior", "🔒 Keep it just for me")
    use_every_menu_item(teen, "teen", "📨 Send it to my IRO")
    use_every_menu_item(adult, "young_adult", "🗑 Delete it")

    # Review statements: only the teen chose to send, so exactly one email, to the IRO (the email sender and
    # the review_delivery job, as `ourvoice run` runs them).
    send_queued_email(rt)
    delivery(rt, now=fixed_now())
    [mail] = review_env.wait_for(1)
    assert review_env.deliveries[0].rcpt_tos == (IRO,)
    assert "Going well for the teen" in mail.get_content()
    time.sleep(0.3)
    assert len(review_env.messages) == 1
    with session(rt.engine) as s:
        statuses = sorted(s.execute(select(ReviewStatement.status)).scalars())
        assert statuses == ["discarded", "kept", "sent"]
        assert s.execute(select(func.count()).select_from(GoodNews)).scalar_one() == 3

    # The teen raises a card; two more teens in the same council back it; the young adult (another
    # council) is not offered it. The young adult raises a personal card; another teen raises one to decline.
    raise_card(teen, "Every young person in care should be able to see their brothers and sisters")
    backers = [join(rt, f"e2e-backer-{i}", "teen") for i in range(2)]
    for b in backers:
        assert "see their brothers and sisters" in back_first_card(b)
    assert "no cards from others in your council" in back_first_card(adult)
    raise_card(adult, "I want to move nearer my college", council="Young Adult Council", who="Mostly me")
    raise_card(backers[0], "Free wifi in every foster home")

    with session(rt.engine) as s:
        cards = {c.challenge: c.id for c in challenges.list_cards(s)}
    main = cards["Every young person in care should be able to see their brothers and sisters"]
    personal = cards["I want to move nearer my college"]
    declined = cards["Free wifi in every foster home"]

    main_path = [
        ("discussed_at_council", []),
        ("taken_to_senior_officers", ["--note", "Taken to the Director's team meeting"]),
        ("presented_to_panel", []),
        (
            "accepted",
            ["--owner", "IRO service and fostering service", "--note", "Sibling time will be in every plan"],
        ),
        ("progress_update", ["--note", "New guidance written"]),
        ("progress_update", ["--note", "Guidance in use in every district"]),
        ("closed", []),
    ]
    for state, extra in main_path:
        out = cli("card", "move", str(main), state, "--staff", "participation.lead", *extra)
        assert "3 young people told" in out, out
    cli(
        "card",
        "move",
        str(personal),
        "routed_to_worker",
        "--staff",
        "participation.lead",
        "--note",
        "Passed to the 18+ team",
    )
    cli("card", "move", str(personal), "closed", "--staff", "participation.lead")
    cli(
        "card",
        "move",
        str(declined),
        "declined",
        "--staff",
        "participation.lead",
        "--note",
        "Carers already get an allowance for this",
    )
    assert "it can move to: none (the card is finished)" in cli(
        "card", "move", str(main), "progress_update", "--staff", "x", "--note", "late", ok=False
    )

    # Exactly one notice per person per state change (progress_update happened twice).
    ids = {
        name: p.text("hi").participant_id
        for name, p in (
            ("teen", teen),
            ("b0", backers[0]),
            ("b1", backers[1]),
            ("adult", adult),
            ("junior", junior),
        )
    }
    with session(rt.engine) as s:
        per_state = challenges.notice_counts(s)
    for who in ("teen", "b0", "b1"):
        for state, _ in main_path:
            want = 2 if state == "progress_update" else 1
            if who == "b0" and state == "declined":
                continue
            assert per_state.get((ids[who], state)) == want, (who, state, per_state)
    assert per_state[(ids["adult"], "routed_to_worker")] == 1
    assert per_state[(ids["adult"], "closed")] == 1
    assert per_state[(ids["b0"], "declined")] == 1
    assert (ids["b1"], "declined") not in per_state
    assert (ids["adult"], "accepted") not in per_state
    counts = notices_per_person(rt)
    assert counts == {ids["teen"]: 7, ids["b0"]: 8, ids["b1"]: 7, ids["adult"]: 2}
    assert ids["junior"] not in counts

    # The web chat delivers them with the next reply, each once, in age-appropriate words.
    b1 = backers[1]
    with session(rt.engine) as s:
        pending = s.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.participant_id == ids["b1"], OutboxMessage.status == "pending")
        ).scalar_one()
    assert pending == 0  # `.text("hi")` above already collected them
    texts = [json.loads(r) for (r,) in session_rows(rt, ids["b1"])]
    joined = "\n".join(t["text"] for t in texts)
    assert "Great news about the card you backed" in joined
    assert "IRO service and fostering service" in joined
    assert "Guidance in use in every district" in joined
    assert "is now finished" in joined
    b1.command("help")
    assert "Update on" not in b1.said  # nothing twice

    with session(rt.engine) as s:
        flows = {
            f
            for (f,) in s.execute(
                select(Submission.flow_id).where(
                    Submission.participant_id == ids["teen"], Submission.status == "completed"
                )
            ).all()
        }
    assert {
        "good_foster_carer",
        "good_news",
        "review_prep",
        "wellbeing",
        "my_cards",
        "challenge_card",
    } <= flows


def session_rows(rt, participant_id: int) -> list[tuple[str]]:
    with session(rt.engine) as s:
        return list(
            s.execute(
                select(OutboxMessage.payload_json)
                .where(OutboxMessage.participant_id == participant_id, OutboxMessage.kind == "notice")
                .order_by(OutboxMessage.id)
            ).all()
        )
