"""Rules this feature's content keeps: feelings first, honest free-text notices, wording for every state."""

from __future__ import annotations

import pytest

from content.loader import load_library
from content.schema import (
    QUESTION_TYPES,
    ActionNode,
    BranchNode,
    MenuNode,
    SayNode,
    ScaleNode,
    TextNode,
    text_for,
)
from storage.challenges import STATES

LIB = load_library()
OWN_FLOWS = ["good_news", "review_prep", "wellbeing", "challenge_card", "my_cards"]
OWN_TOPICS = ["new_carer_info", "people_who_matter", "leaving_care"]
SAFETY_LINE = "If you tell us someone is in danger, we will get help."


def first_question(flow_id: str) -> object:
    flow = LIB.flows[flow_id]
    node = flow.index[flow.start]
    while isinstance(node, SayNode | ActionNode):
        node = flow.index[node.next]  # type: ignore[index]
    return node


@pytest.mark.parametrize("flow_id", OWN_FLOWS + OWN_TOPICS)
def test_every_flow_starts_by_asking_how_they_feel(flow_id: str) -> None:
    node = first_question(flow_id)
    # The shared mood check-in, worded from the strings the same everywhere and asked once a session.
    assert isinstance(node, ScaleNode) and node.mood
    assert "feel" in text_for(LIB.string("mood_question"), "teen").lower()


@pytest.mark.parametrize("flow_id", OWN_FLOWS + OWN_TOPICS)
def test_free_text_always_says_who_reads_it(flow_id: str) -> None:
    flow = LIB.flows[flow_id]
    for node in flow.nodes:
        if not isinstance(node, TextNode):
            continue
        if node.notice:
            continue  # the shared notice line is added by the engine
        for band in flow.bands:
            assert SAFETY_LINE in text_for(node.text, band), (flow_id, node.id, band)


def test_menu_offers_cards_only_to_teens_and_young_adults() -> None:
    menu = LIB.flows["menu_young_person"].nodes[0]
    assert isinstance(menu, MenuNode)
    options = {o.id: o for o in menu.options}
    assert {"have_your_say", "good_news", "review_prep", "wellbeing", "challenge_card", "my_cards"} <= set(
        options
    )
    assert options["challenge_card"].bands == ["teen", "young_adult"]
    assert options["my_cards"].bands == ["teen", "young_adult"]
    assert options["good_news"].bands is None


@pytest.mark.parametrize("state", STATES)
def test_every_card_state_has_wording(state: str) -> None:
    for prefix in ("yp_card_notice_", "yp_card_state_"):
        text = LIB.string(prefix + state)
        for band in ("junior", "teen", "young_adult"):
            assert text_for(text, band).strip()


def test_every_support_outcome_has_wording() -> None:
    for result in ("added", "already", "own", "closed", "other_council", "missing"):
        assert LIB.string(f"yp_card_support_{result}")


def test_wellbeing_question_ids_are_the_reporting_contract() -> None:
    ids = [n.id for n in LIB.flows["wellbeing"].nodes if isinstance(n, QUESTION_TYPES)]
    assert ids == [
        "feeling",
        "feel_safe",
        "trust_adults",
        "trusted_adult",
        "happy_yesterday",
        "getting_better",
    ]
    assert all(isinstance(LIB.flows["wellbeing"].index[i], ScaleNode) for i in ids)


def test_review_choice_cannot_be_reached_without_seeing_the_statement() -> None:
    flow = LIB.flows["review_prep"]
    into_decide = [n.id for n in flow.nodes if getattr(n, "next", None) == "decide"]
    assert into_decide == ["show"]
    assert isinstance(flow.index["show"], ActionNode)
    route = flow.index["after_decide"]
    assert isinstance(route, BranchNode)
    assert route.otherwise == "finish"  # skip and other answers reach the handler, which sends only on send_*
