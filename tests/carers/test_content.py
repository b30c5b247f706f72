"""The carer questionnaires and menu: shape, numbering, and carers never meeting young people's topics."""

from __future__ import annotations

from datetime import date

import pytest

from bot.features.carers import check_answers, numbered_questions, position, start_token
from bot.topics import open_topics
from content.loader import load_library
from content.schema import MenuNode, SayNode, ScaleNode, TextNode
from tests.carers.conftest import make_carers
from tests.conftest import fixed_now
from tests.helpers import Person

LIB = load_library()


def test_annual_survey_is_specific_sectioned_and_for_carers_only() -> None:
    flow = LIB.flows["carer_annual"]
    assert flow.kind == "survey"
    assert flow.audience == ["carer"]
    assert flow.bands == ["carer"]
    questions = numbered_questions(flow)
    assert 20 <= len(questions) <= 27
    sections = [n for n in flow.nodes if isinstance(n, SayNode) and n.id.startswith("section_")]
    assert len(sections) == 9
    assert all(len(str(n.text)) < 60 for n in sections), "section headings are short"
    assert sum(isinstance(flow.index[q], ScaleNode) for q in questions) >= 6
    assert sum(isinstance(flow.index[q], TextNode) for q in questions) >= 2
    themes = {"informed", "supervision_useful", "training_wanted", "appreciation_events", "child_view_heard",
              "annual_review_child_voice", "heard_of", "keep_fostering_help"}
    assert themes <= set(questions)
    assert "staying_put" in {c.id for c in flow.index["heard_of"].choices}  # type: ignore[union-attr]


def test_pulse_is_five_questions_and_offers_a_chat_to_those_thinking_of_stopping() -> None:
    flow = LIB.flows["carer_pulse"]
    core = [q for q in numbered_questions(flow) if flow.index[q].report]  # type: ignore[union-attr]
    assert len(core) == 5
    branch = flow.index["check_stopping"]
    assert branch.rules[0].goto == "talk_offer"  # type: ignore[union-attr]


def test_position_counts_questions_and_names_the_section() -> None:
    flow = LIB.flows["carer_annual"]
    seventh = numbered_questions(flow)[6]
    pos = position(flow, seventh)
    assert pos is not None
    assert (pos.number, pos.total) == (7, 27)
    assert pos.section.startswith("Part 3 of 9")
    assert position(flow, "submit") is None
    assert position(flow, "intro") is None


def test_carer_menu_is_their_own_and_has_survey_and_reminder_options() -> None:
    menu = LIB.flows["menu_carer"]
    assert menu.audience == ["carer"]
    node = next(n for n in menu.nodes if isinstance(n, MenuNode))
    flows = {o.flow for o in node.options}
    assert {"carer_annual", "carer_pulse", "carer_reminders_off"} <= flows
    assert not any(o.topics for o in node.options), "no young people's topics on the carer menu"
    assert start_token(LIB, "carer_annual") is not None
    assert start_token(LIB, "good_foster_carer") is None


@pytest.mark.parametrize("menu_id", ["menu_carer", "menu_young_person"])
def test_a_menu_offers_each_survey_once_under_one_name(menu_id: str) -> None:
    """Issue 23: the carer menu had "Quick check-in" and "Carer pulse" side by side, two names for one short
    survey asking the same questions. Now no menu starts one flow twice, and no two questionnaires it offers
    share half the questions of the longer one (then they are the same survey and should be one item; the
    annual survey repeats a few of the pulse's questions by design, among 27)."""
    node = next(n for n in LIB.flows[menu_id].nodes if isinstance(n, MenuNode))
    started = [o.flow for o in node.options if o.flow]
    bands = {o.flow: set(getattr(o, "bands", None) or ()) for o in node.options if o.flow}
    assert [f for f in started if started.count(f) > 1 and not bands[f]] == []
    asks = {f: set(numbered_questions(LIB.flows[f])) for f in started if LIB.flows[f].kind in ("survey", "topic")}
    for a in asks:
        for b in asks:
            if a < b and asks[a] and asks[b]:
                shared = asks[a] & asks[b]
                assert len(shared) * 2 < max(len(asks[a]), len(asks[b])), f"{a} and {b} ask the same: {shared}"


def test_topics_filter_hides_young_peoples_topics_from_carers() -> None:
    today = date(2026, 12, 1)
    young = open_topics(LIB, audience="young_person", band="teen", district="east", today=today)
    assert "good_foster_carer" in young  # the topic is open: so the next line is a real check
    assert open_topics(LIB, audience="carer", band="carer", district="east", today=today) == ()


def test_a_carer_in_chat_sees_their_menu_and_cannot_open_a_young_peoples_topic(rt) -> None:
    make_carers(rt, 1)
    now = fixed_now().replace(month=12, day=1)
    carer = Person(rt.dispatcher, "carer-0", now=now)
    carer.text("hello")
    assert any(b.startswith("📋 Annual carer survey") for b in carer.buttons)
    assert not any("Have your say" in b or "Tell us what you think" in b for b in carer.buttons)
    topic_token = f"t.{LIB.flow_tokens['good_foster_carer']}"
    carer.token(topic_token)
    assert "earlier message" in carer.said  # refused as a stale button, topic not started
    topic = LIB.flows["good_foster_carer"]
    intro = topic.index["intro"].text
    assert not any(line in carer.said for line in intro.values())  # type: ignore[union-attr]
    assert any(b.startswith("📋 Annual carer survey") for b in carer.buttons)


def test_check_answers_accepts_each_kind_and_names_every_problem() -> None:
    flow = LIB.flows["carer_annual"]
    good = check_answers(flow, {"years_fostering": "y3_5", "care_types": ["teenagers", "long_term"],
                                "informed": 4, "planning_meeting": "not_sure", "change_first": "More notice",
                                "support_comment": None, "may_contact": "no"})
    by_id = {a.question_id: a for a in good}
    assert by_id["care_types"].value == ["long_term", "teenagers"]  # content order
    assert by_id["support_comment"].skipped
    assert by_id["change_first"].free_text
    with pytest.raises(ValueError, match="informed") as err:
        check_answers(flow, {"informed": 6, "may_contact": "not_sure", "nonsense": 1, "care_types": []})
    for bit in ("may_contact", "nonsense", "care_types"):
        assert bit in str(err.value)
