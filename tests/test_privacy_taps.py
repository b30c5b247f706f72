"""ICO Children's Code, "no nudges": at every privacy decision in every shipped flow, the more private answer
never takes more taps to finish than any other answer."""

from __future__ import annotations

from functools import cache

import pytest

from content.loader import load_library
from content.schema import (
    QUESTION_TYPES,
    ActionNode,
    BranchNode,
    ChoiceNode,
    EndNode,
    Flow,
    MenuNode,
    SayNode,
    YesNoNode,
)

LIBRARY = load_library()
DECISIONS = [
    (flow.id, node.id)
    for flow in LIBRARY.flows.values()
    for node in flow.nodes
    if getattr(node, "private_choice", None)
]


def taps_to_finish(flow: Flow, start: str, answer: dict[str, str]) -> int:
    """Fewest taps from `start` to the end of the flow, given the decision's answer; skip counts as a tap."""

    @cache
    def walk(node_id: str, depth: int = 0) -> int:
        if depth > 200:
            return 10_000  # a loop: never shorter than a real path
        node = flow.index[node_id]
        if isinstance(node, EndNode):
            return 0
        if isinstance(node, SayNode | ActionNode):
            return walk(node.next, depth + 1)  # type: ignore[arg-type]
        if isinstance(node, BranchNode):
            for rule in node.rules:
                decided = [q for q in rule.when if q in answer]
                if decided and all(answer[q] in rule.when[q] for q in decided):
                    return walk(rule.goto, depth + 1)
            # Branches on other answers: the person could take any of them; count the shortest.
            targets = [r.goto for r in node.rules if not any(q in answer for q in r.when)] + [node.otherwise]
            return min(walk(t, depth + 1) for t in targets)
        if isinstance(node, MenuNode):
            return 1
        assert isinstance(node, QUESTION_TYPES)
        return 1 + walk(node.next, depth + 1)  # type: ignore[arg-type]

    node = flow.index[start]
    return 1 + walk(node.next)  # type: ignore[union-attr]


def answers_of(node: object) -> list[str]:
    if isinstance(node, YesNoNode):
        return ["yes", "no"] + (["not_sure"] if node.not_sure else [])
    assert isinstance(node, ChoiceNode)
    return [c.id for c in node.choices]


def test_there_are_privacy_decisions_to_check() -> None:
    flows = {f for f, _ in DECISIONS}
    assert {"good_news", "review_prep", "my_stuff_delete", "good_foster_carer"} <= flows


@pytest.mark.parametrize(("flow_id", "node_id"), DECISIONS)
def test_private_answer_never_takes_more_taps(flow_id: str, node_id: str) -> None:
    flow = LIBRARY.flows[flow_id]
    node = flow.index[node_id]
    private = node.private_choice  # type: ignore[union-attr]
    cost = {a: taps_to_finish(flow, node_id, {node_id: a}) for a in answers_of(node)}
    others = [c for a, c in cost.items() if a != private]
    assert cost[private] <= min(others), f"{flow_id}.{node_id}: {cost}"
