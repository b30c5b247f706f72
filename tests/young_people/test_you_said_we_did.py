"""'You said, we did' after each Panel date: who is told, what they are told, and only once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from admin.jobs.you_said_we_did import run
from admin.scheduler import JOBS
from bot.features.young_people import PanelSettings, move_card
from storage import challenges
from storage.db import session
from storage.models import OutboxMessage, PanelDigest
from tests.support.journeys import back_first_card, raise_card
from tests.young_people.conftest import join


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:05:00+00:00").astimezone(UTC)


def digests(rt) -> dict[int, list[str]]:
    with session(rt.engine) as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars().all()
    out: dict[int, list[str]] = {}
    for r in rows:
        if "You said, we did" in r.payload_json:
            out.setdefault(r.participant_id or 0, []).append(r.payload_json)
    return out


def pid(rt, p) -> int:
    return p.text("hello").participant_id  # any message tells us who this person is


def test_digest_goes_to_everyone_in_the_council_who_took_part_once(rt) -> None:
    rt.panel_settings = PanelSettings(
        panel_dates="2026-11-10,2026-12-03,2027-01-14", _env_file=None
    )
    raiser = join(rt, "y-raiser", "teen")
    raise_card(raiser, "Young people should help choose their foster carers")
    fan = join(rt, "y-fan", "teen")
    back_first_card(fan)
    checker = join(rt, "y-checker", "teen")  # took part (wellbeing) in the same council, no card
    checker.press("💬")
    for _ in range(6):
        checker.press("Skip")
    bystander = join(rt, "y-bystander", "teen")  # only said hello: not taking part
    adult = join(rt, "y-adult", "young_adult")  # took part in another council, whose only card is personal
    adult.press("💬")
    for _ in range(6):
        adult.press("Skip")
    raise_card(adult, "I want to move nearer my college", council="Young Adult Council", who="Mostly me")
    with session(rt.engine) as s:
        cards = {c.council: c.id for c in challenges.list_cards(s)}
        card_id = cards["ocypc"]
        move_card(s, rt.library, cards["yac"], "routed_to_worker", staff="sam", now=at("2026-11-25"))
        move_card(s, rt.library, card_id, "discussed_at_council", staff="sam", now=at("2026-11-25"))
        move_card(
            s,
            rt.library,
            card_id,
            "taken_to_senior_officers",
            staff="sam",
            now=at("2026-11-30"),
            note="The Director will look at it.",
        )
    ids = {
        name: pid(rt, p)
        for name, p in (
            ("raiser", raiser),
            ("fan", fan),
            ("checker", checker),
            ("bystander", bystander),
            ("adult", adult),
        )
    }

    assert run(rt, now=at("2026-12-03")) == "nothing due"  # not until the Panel has met
    assert run(rt, now=at("2026-12-04")) == "panel=2026-12-03 ocypc=3"
    sent = digests(rt)
    assert set(sent) == {ids["raiser"], ids["fan"], ids["checker"]}
    body = sent[ids["fan"]][0]
    assert "3 December 2026" in body
    assert "with the senior managers" in body
    assert "The Director" in body
    assert "discussed at the council" not in body  # one line per card: where it has got to
    assert not any("move nearer my college" in b for bodies in sent.values() for b in bodies)  # personal
    assert run(rt, now=at("2026-12-05")) == "nothing due"  # once per Panel and council
    assert {k: len(v) for k, v in digests(rt).items()} == {ids["raiser"]: 1, ids["fan"]: 1, ids["checker"]: 1}
    with session(rt.engine) as s:
        assert [(d.council, d.recipients) for d in s.execute(select(PanelDigest)).scalars()] == [("ocypc", 3)]


def test_a_line_for_one_age_group_reaches_only_that_group(rt) -> None:
    """Issue 20: a staff line about college bus passes (for the 16-25s) reached the 7-11s too, and a person
    with nothing for their age group got a message with nothing in it."""
    from admin.actions.policy import Actor
    from admin.actions.reports import add_you_said

    rt.panel_settings = PanelSettings(panel_dates="2026-11-10,2026-12-03", _env_file=None)
    people = {}
    for name, band in (("junior", "junior"), ("teen", "teen"), ("adult", "young_adult")):
        p = join(rt, f"y-{name}", band)
        p.press("😊" if band == "junior" else "💬")  # a check-in: taking part
        while any(b.startswith("Skip") for b in p.buttons):
            p.press("Skip")
        people[name] = pid(rt, p)
    worker = Actor("sam", "participation_worker", ("east",))
    with session(rt.engine) as s:
        add_you_said(s, worker, said="Bus passes came weeks after college started.",
                     did="Passes are ordered as soon as a college place is confirmed.", bands=("young_adult",),
                     now=at("2026-11-20"))
        add_you_said(s, worker, said="Teenagers wanted a say in their review meetings.",
                     did="Reviews now start with what the young person wants to talk about.",
                     bands=("teen", "young_adult"), now=at("2026-11-21"))
    with session(rt.engine) as s:
        from bot.features.young_people import taking_part_flows

        active = {p.id for p in challenges.took_part(s, None, at("2026-12-04"), flow_ids=taking_part_flows(rt.library))}
    assert set(people.values()) <= active  # all three took part: only their age group decides what they hear
    run(rt, now=at("2026-12-04"))
    sent = {who: "".join(digests(rt).get(i, [])) for who, i in people.items()}
    assert "Bus passes" in sent["adult"] and "review meetings" in sent["adult"]
    assert "review meetings" in sent["teen"] and "Bus passes" not in sent["teen"]
    assert sent["junior"] == ""  # nothing for 7-11s, so no message at all


def test_an_unknown_age_group_is_refused(rt) -> None:
    from admin.actions.policy import Actor, Invalid
    from admin.actions.reports import add_you_said

    with session(rt.engine) as s, pytest.raises(Invalid, match="unknown age group 'seniors'"):
        add_you_said(s, Actor("sam", "participation_worker", ("east",)), said="a", did="b", bands=("seniors",),
                     now=at("2026-11-20"))


def test_late_or_empty_panels_send_nothing(rt) -> None:
    rt.panel_settings = PanelSettings(panel_dates="2026-11-10,2026-12-03", _env_file=None)
    raiser = join(rt, "z-raiser", "teen")
    raise_card(raiser)
    assert run(rt, now=at("2026-12-04")) == "nothing due"  # no card moved since the last Panel
    with session(rt.engine) as s:
        move_card(
            s,
            rt.library,
            challenges.list_cards(s)[0].id,
            "discussed_at_council",
            staff="sam",
            now=at("2026-11-26"),
        )
    assert run(rt, now=at("2026-12-18")) == "nothing due"  # more than 14 days after: too late to be news
    assert digests(rt) == {}


def test_panel_dates_setting_is_validated_and_job_is_scheduled() -> None:
    with pytest.raises(ValidationError, match="not an ISO date"):
        PanelSettings(panel_dates="2027-01-14,14/03/2027", _env_file=None)
    assert (
        PanelSettings(panel_dates=" 2027-03-11 , 2027-01-14", _env_file=None).dates()[0].isoformat()
        == "2027-01-14"
    )
    assert [j.where for j in JOBS if j.name == "you_said_we_did"] == ["admin.jobs.you_said_we_did:run"]
