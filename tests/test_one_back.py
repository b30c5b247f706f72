"""One way back per message (issue 23: "⬅ Back" appeared twice): at every node of every flow that waits for the
person, asked with answers behind it (so the engine adds its own Back), no message offers two buttons that go
back. Generated over the shipped content, for every band each flow is written for."""

from __future__ import annotations

import re

import pytest

from bot.engine import ConversationState, step
from bot.messages import Inbound
from content.loader import load_library
from content.schema import MenuNode
from tests.conftest import fixed_now

LIB = load_library()
GOES_BACK = re.compile(r"^\W*(go\s+)?back(\s+to\s+[\w ]+)?\W*$", re.IGNORECASE)  # "⬅ Back", "Go back", not "Back a card"
WAITING = [
    (flow.id, node.id)
    for flow in LIB.flows.values()
    for node in flow.nodes
    if getattr(node, "type", "") in ("menu", "choice", "multi", "scale", "yesno", "text")
]


def _asked(flow_id: str, node_id: str, band: str) -> list[list[str]]:
    audience = "carer" if band == "carer" else "young_person"
    flow = LIB.flows[flow_id]
    earlier = next((n.id for n in flow.nodes if n.id != node_id), node_id)
    state = ConversationState(flow_id=flow_id, node_id=node_id, run=1, history=[earlier],
                              profile={"audience": audience, "band": band})
    result = step(LIB, state, Inbound("test", "p1", "m", "command", command="start"), now=fixed_now())
    return [[c.label for c in r.choices] for r in result.replies]


def test_there_are_nodes_to_check() -> None:
    assert len(WAITING) > 50


@pytest.mark.parametrize(("flow_id", "node_id"), WAITING, ids=[f"{f}.{n}" for f, n in WAITING])
def test_no_message_offers_two_ways_back(flow_id: str, node_id: str) -> None:
    flow = LIB.flows[flow_id]
    for band in flow.bands:
        for labels in _asked(flow_id, node_id, band):
            backs = [lbl for lbl in labels if GOES_BACK.match(lbl)]
            assert len(backs) <= 1, (band, labels)
        if not isinstance(flow.index[node_id], MenuNode):
            assert any(GOES_BACK.match(lbl) for labels in _asked(flow_id, node_id, band) for lbl in labels), (
                f"{band}: the engine's Back is missing, so this test would not see a duplicate"
            )
