"""Where a node sits in its flow, as people count questions ("question 13 of 27").

Pure: reads a flow only. The one place question numbers are worked out, so intros, resume offers and
reminders always agree (the closing "send my answers" step is not counted as a question).
"""

from __future__ import annotations

from content.schema import QUESTION_TYPES, Flow

SUBMIT_NODE = "submit"  # a survey's closing "Send my answers": a confirmation, not a numbered question


def numbered_questions(flow: Flow) -> tuple[str, ...]:
    """Question ids in file order, leaving out the closing 'send' step."""
    return tuple(n.id for n in flow.nodes if isinstance(n, QUESTION_TYPES) and n.id != SUBMIT_NODE)


def question_count(flow: Flow) -> int:
    """How many questions the flow has, as intros should say it."""
    return len(numbered_questions(flow))


def question_number(flow: Flow, node_id: str) -> int | None:
    """1-based number of a question in its flow; None for anything that is not a numbered question."""
    numbered = numbered_questions(flow)
    return numbered.index(node_id) + 1 if node_id in numbered else None
