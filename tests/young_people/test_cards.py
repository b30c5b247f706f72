"""Challenge cards: raising one in the chat, the state machine, support rules, notices and the CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.features.young_people import move_card
from storage import challenges
from storage.challenges import STATES, TRANSITIONS, InvalidTransition
from storage.db import session
from storage.models import Answer, CardEvent, ChallengeCard, OutboxMessage, Submission
from tests.conftest import fixed_now
from tests.support.journeys import back_first_card, raise_card
from tests.young_people.conftest import join


def test_raise_card_in_chat_goes_to_the_chosen_or_own_council(rt) -> None:
    teen = join(rt, "teen-a", "teen")
    raise_card(teen)
    assert "Your card has gone to the Our Children and Young People's Council" in teen.said
    ya = join(rt, "ya-a", "young_adult")
    raise_card(
        ya, "The council should be a guarantor for care leavers renting", council="Young Adult Council"
    )
    ya2 = join(rt, "ya-b", "young_adult")
    raise_card(ya2, "Mostly about me: I want to move closer to school", who="Mostly me")
    assert "may pass it to your social worker or personal adviser (PA)" in ya2.said
    with session(rt.engine) as s:
        cards = sorted(challenges.list_cards(s), key=lambda c: c.id)
    assert [(c.council, c.state, c.personal) for c in cards] == [
        ("ocypc", "submitted", False),
        ("yac", "submitted", False),
        ("yac", "submitted", True),
    ]
    assert cards[0].why
    assert "family matters" in cards[0].why
    assert not hasattr(cards[0], "raised_by")  # views never carry the raiser


def test_juniors_have_no_card_options(rt) -> None:
    junior = join(rt, "junior-a", "junior")
    assert not any(b.startswith(("✊", "🃏")) for b in junior.buttons)
    assert any(b.startswith("🎉") for b in junior.buttons)


def test_dont_send_deletes_what_was_written(rt) -> None:
    teen = join(rt, "teen-d", "teen")
    teen.press("✊")
    teen.feel("🙂")
    teen.text("An idea I changed my mind about")
    teen.text("Some reason")
    teen.press("Skip")
    teen.press("Our Children and Young People's Council Extra (OCYPC Extra)")
    teen.press("🗑 Don't send it")
    assert "nothing was sent" in teen.said
    with session(rt.engine) as s:
        assert challenges.list_cards(s) == []
        texts = s.execute(
            select(Answer.text_value)
            .join(Submission, Submission.id == Answer.submission_id)
            .where(Submission.flow_id == "challenge_card", Answer.text_value.is_not(None))
        ).all()
    assert texts == []


def test_support_rules_one_each_same_council_never_own(rt) -> None:
    raiser = join(rt, "raiser", "teen")
    raise_card(raiser)
    fan = join(rt, "fan", "teen")
    listing = back_first_card(fan)
    assert "Every young person in care should be able to see" in listing
    assert "(0 backing)" in listing
    assert "never show who" in listing
    assert "you're backing that card" in fan.said
    again = back_first_card(fan)  # already backed: not listed any more
    assert "no cards from others in your council" in again
    assert "Which card would you like to back?" not in fan.said  # no buttons for cards that do not exist
    assert "1" not in fan.buttons and "What would you like to do" in fan.said
    raiser_view = back_first_card(raiser)  # own cards are not offered
    assert "no cards from others in your council" in raiser_view
    ya = join(rt, "ya", "young_adult")  # another council (yac): cannot see an OCYPC card
    assert "no cards from others in your council" in back_first_card(ya)
    with session(rt.engine) as s:
        card = challenges.list_cards(s)[0]
        assert card.supporters == 1
        pid = s.execute(select(ChallengeCard.raised_by)).scalar_one()
        assert challenges.support(s, card.id, pid, council="ocypc", now=fixed_now()) == "own"
    fan.press("🃏")
    fan.feel("😐")
    fan.press("🃏 See")
    assert "you backed it" in fan.said
    assert "sent in, waiting for the council" in fan.said


def test_listing_is_remembered_so_a_new_card_cannot_shift_the_numbers(rt) -> None:
    a, b = join(rt, "a", "teen"), join(rt, "b", "teen")
    raise_card(a, "First card about school uniforms")
    fan = join(rt, "fan2", "teen")
    fan.press("🃏")
    fan.feel("😐")
    fan.press("👍")
    assert "1. “First card about school uniforms”" in fan.said
    raise_card(b, "Second card about pocket money")  # arrives while fan is choosing; newest would list first
    fan.press("1")
    with session(rt.engine) as s:
        by_text = {c.challenge: c.supporters for c in challenges.list_cards(s)}
    assert by_text == {"First card about school uniforms": 1, "Second card about pocket money": 0}


def test_transition_table_is_enforced_for_every_pair(sqlite_url: str) -> None:
    from storage.db import make_engine

    engine = make_engine(sqlite_url)
    wrong: list[str] = []
    with session(engine) as s:
        for start in STATES:
            for target in STATES:
                card = challenges.create(
                    s,
                    raised_by=None,
                    council="ocypc",
                    challenge="c",
                    why=None,
                    who_for=[],
                    personal=False,
                    quarantined=False,
                    submission_id=None,
                    now=fixed_now(),
                )
                s.get(ChallengeCard, card.id).state = start  # type: ignore[union-attr]
                s.flush()
                try:
                    ev = challenges.move(
                        s,
                        card.id,
                        target,
                        staff="sam",
                        now=fixed_now(),
                        owner_role="Head of Service",
                        note="a note",
                    )
                    moved = (ev.from_state, ev.to_state) == (start, target)
                except InvalidTransition:
                    moved = False
                if moved is not (target in TRANSITIONS[start]):
                    wrong.append(f"{start}->{target}")
    engine.dispose()
    assert wrong == []


def test_declined_from_every_open_state_and_nothing_after_closing() -> None:
    for state in STATES:
        assert ("declined" in TRANSITIONS[state]) is (state not in ("closed", "declined"))
    assert TRANSITIONS["closed"] == frozenset()
    assert TRANSITIONS["declined"] == frozenset()
    assert "progress_update" in TRANSITIONS["progress_update"]  # repeatable


@pytest.mark.parametrize(
    ("target", "owner", "note", "message"),
    [
        ("accepted", None, "We will do it", "needs the owner's role"),
        ("accepted", "Corporate Director", None, "needs the answer or update"),
        ("declined", None, None, "needs the reason"),
    ],
)
def test_accepted_needs_owner_and_answer_declined_needs_reason(
    sqlite_url: str, target: str, owner: str | None, note: str | None, message: str
) -> None:
    from storage.db import make_engine

    engine = make_engine(sqlite_url)
    with session(engine) as s:
        card = challenges.create(
            s,
            raised_by=None,
            council="yac",
            challenge="c",
            why=None,
            who_for=[],
            personal=False,
            quarantined=False,
            submission_id=None,
            now=fixed_now(),
        )
        s.get(ChallengeCard, card.id).state = "presented_to_panel"  # type: ignore[union-attr]
        with pytest.raises(InvalidTransition, match=message):
            challenges.move(s, card.id, target, staff="sam", now=fixed_now(), owner_role=owner, note=note)
    engine.dispose()


def test_each_move_tells_raiser_and_supporters_once_in_their_own_words(rt) -> None:
    raiser = join(rt, "r", "teen")
    raise_card(raiser)
    fans = [join(rt, f"f{i}", "teen") for i in range(2)]
    for f in fans:
        back_first_card(f)
    now = fixed_now()
    with session(rt.engine) as s:
        card_id = challenges.list_cards(s)[0].id
        out = move_card(s, rt.library, card_id, "discussed_at_council", staff="sam", now=now)
        assert out.notices == 3
    raiser.command("help")  # web chat is pull-only: notices arrive with the next reply
    assert "Update on your card “Every young person" in raiser.said
    fans[0].command("help")
    assert "Update on the card you backed" in fans[0].said
    with session(rt.engine) as s:
        n = s.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "notice"))
        assert n.scalar_one() == 3
        # The same event again (e.g. a retried admin request) never notifies twice.
        card = challenges.get(s, card_id)
        event = card.events[-1]  # type: ignore[union-attr]
        from bot.features.young_people import notify_card_event

        assert notify_card_event(s, rt.library, card, event, now=now + timedelta(minutes=1)) == 0  # type: ignore[arg-type]
        assert set(challenges.notice_counts(s).values()) == {1}


def test_cli_list_show_move_and_refusals(rt, cli) -> None:
    raiser = join(rt, "cli-r", "young_adult")
    raise_card(raiser, "Care leavers should get free bus passes", council="Young Adult Council")
    with session(rt.engine) as s:
        card_id = challenges.list_cards(s)[0].id
    listing = cli("card", "list", "--staff", "pat")
    assert f"#{card_id}" in listing
    assert "submitted" in listing
    assert "free bus passes" in listing
    assert "cli-r" not in listing
    out = cli("card", "move", str(card_id), "presented_to_panel", "--staff", "pat", ok=False)
    assert "it can move to: routed_to_worker, discussed_at_council, declined" in out
    out = cli("card", "move", str(card_id), "discussed_at_council", "--staff", "pat")
    assert "submitted -> discussed_at_council; 1 young people told" in out
    out = cli(
        "card",
        "move",
        str(card_id),
        "taken_to_senior_officers",
        "--staff",
        "pat",
        "--note",
        "Raised with the director",
    )
    assert "discussed_at_council -> taken_to_senior_officers; 1 young people told" in out
    shown = cli("card", "show", str(card_id), "--staff", "pat")
    assert "Can move to: presented_to_panel, declined" in shown
    assert "Raised with the director" in shown
    assert "no card 999" in cli("card", "show", "999", ok=False)
    assert "unknown state 'done'" in cli("card", "move", str(card_id), "done", "--staff", "pat", ok=False)
    with session(rt.engine) as s:
        from storage import audit

        actions = [e.action for e in audit.entries(s)]
        events = s.execute(select(func.count()).select_from(CardEvent)).scalar_one()
    assert actions.count("card.move") == 2
    assert "card.view" in actions
    assert "card.list" in actions
    assert events == 3  # created + two moves


def test_card_with_flagged_words_is_held_and_never_shown_to_others(rt) -> None:
    teen = join(rt, "worried", "teen")
    teen.press("✊")
    teen.feel("🙂")
    teen.text("Young people should be listened to at home")
    teen.text("because i want to die when nobody listens")
    assert "Thank you for telling me" in teen.said  # the safe reply, and nothing else (issue 23 item 4)
    assert len(teen.last) == 1
    teen.text("ok")  # the card carries on only when they write again
    assert "Whenever you're ready" in teen.said
    teen.press("Skip")
    teen.press("Not sure")
    teen.press("✅ Send it")
    with session(rt.engine) as s:
        [card] = challenges.list_cards(s)
    assert card.quarantined
    assert card.why is None  # the flagged words stay in the quarantined answer and the encrypted alert only
    other = join(rt, "other", "teen")
    assert "no cards from others in your council" in back_first_card(other)
