"""What reports know about content: which flows count, question wording, choice labels, display names.

Reads the content library only; never touches the database.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from content.loader import CouncilMapping, CouncilTuple, Library
from content.schema import (
    ChoiceNode,
    Flow,
    MultiNode,
    ScaleNode,
    TextNode,
    YesNoNode,
    text_for,
)

WELLBEING_FLOW = "wellbeing"
YOUNG_BANDS = ("junior", "teen", "young_adult")
BAND_LABELS = {
    "junior": "aged 7 to 11",
    "teen": "aged 11 to 16",
    "young_adult": "aged 16 to 25",
    "carer": "foster carers",
    "": "age not given",
}
BAND_SHORT = {"junior": "7-11", "teen": "11-16", "young_adult": "16-25", "carer": "Carers", "": "Not given"}
COUNCIL_LABELS = CouncilMapping(
    lambda c: {cid: group.label for cid, group in c.councils.items()} | {"": "Not in a council"})
# Which age bands each council is for (from the councils' terms of reference, in the council file). Any other
# combination is a structural zero: shown as "not applicable" and left out of disclosure control, never "not shown".
COUNCIL_BANDS = CouncilMapping(lambda c: {cid: tuple(group.bands) for cid, group in c.councils.items()})
DISTRICTS = CouncilTuple(lambda c: tuple(c.districts))
DISTRICT_LABELS = CouncilMapping(lambda c: dict(c.districts) | {
    "": "Area not given",
    "unknown": "Area not given",
    "total": "All areas",
})
YESNO_LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}


def structural_zeros(councils: list[str], bands: list[str]) -> set[tuple[str, str]]:
    """(council, band) pairs that cannot happen."""
    return {(c, b) for c in councils if c in COUNCIL_BANDS for b in bands if b and b not in COUNCIL_BANDS[c]}


def label(table: Mapping[str, str], key: str | None) -> str:
    """Display name for an id, falling back to the id made readable."""
    key = key or ""
    return table.get(key) or key.replace("_", " ").capitalize()


@dataclass(frozen=True)
class QuestionInfo:
    flow_id: str
    question_id: str
    kind: str  # choice | multi | scale | yesno | text
    text: str
    choices: tuple[tuple[str, str], ...]  # (id, label) in content order

    def label_of(self, choice: str) -> str:
        return dict(self.choices).get(choice, choice.replace("_", " "))

    @property
    def numeric(self) -> bool:
        return self.kind == "scale"


def plain(text: str) -> str:
    """Text without emoji (the report fonts have none) and with tidy spaces."""
    kept = "".join(
        ch for ch in text if not (ord(ch) >= 0x2190 and unicodedata.category(ch) in ("So", "Sk", "Mn", "Cf"))
    )
    return " ".join(kept.split())


def wording(t: object, band: str = "default") -> str:
    """Text for a band from a content Text value ('' when empty), emoji removed."""
    return plain(text_for(t, band)) if t else ""  # type: ignore[arg-type]


def questions(flow: Flow, *, band: str = "default", include_text: bool = False) -> list[QuestionInfo]:
    """Reportable questions of a flow in order (text questions only when asked)."""
    out: list[QuestionInfo] = []
    for node in flow.nodes:
        if isinstance(node, ChoiceNode | MultiNode) and node.report:
            kind = "multi" if isinstance(node, MultiNode) else "choice"
            choices = tuple((c.id, wording(c.label, band)) for c in node.choices)
        elif isinstance(node, ScaleNode) and node.report:
            kind = "scale"
            low, high = wording(node.low, band), wording(node.high, band)
            choices = tuple(
                (str(v), f"{v} ({low})" if v == 1 and low else f"{v} ({high})" if v == 5 and high else str(v))
                for v in range(1, 6)
            )
        elif isinstance(node, YesNoNode) and node.report:
            kind = "yesno"
            ids = ("yes", "no", "not_sure") if node.not_sure else ("yes", "no")
            choices = tuple((i, YESNO_LABELS[i]) for i in ids)
        elif isinstance(node, TextNode) and include_text:
            kind, choices = "text", ()
        else:
            continue
        out.append(QuestionInfo(flow.id, node.id, kind, wording(node.text, band), choices))
    return out


def counts_toward_reach(flow: Flow) -> bool:
    """A flow where a person tells us something (not menus, set-up questions or private flows)."""
    if flow.kind == "menu" or flow.private:
        return False
    return any(
        (isinstance(n, ChoiceNode | MultiNode | ScaleNode | YesNoNode) and n.report)
        or isinstance(n, TextNode)
        for n in flow.nodes
    )


def reach_flows(library: Library) -> list[str]:
    """Ids of every flow whose answers mean a person was heard."""
    return sorted(f.id for f in library.flows.values() if counts_toward_reach(f))


def private_flows(library: Library) -> list[str]:
    """Ids of flows whose answers stay private (`private: true`): no aggregate, roll-up or report counts them."""
    return sorted(f.id for f in library.flows.values() if f.private)


def consultation_flows(library: Library) -> list[Flow]:
    """Topics and surveys that get their own results section, in a stable order."""
    flows = [
        f for f in library.flows.values()
        if f.kind in ("topic", "survey") and f.id != WELLBEING_FLOW and not f.private
    ]
    return sorted(flows, key=lambda f: (f.kind != "topic", "carer" in f.audience, f.id))


def title(flow: Flow, band: str = "default") -> str:
    return wording(flow.title, band) or flow.id.replace("_", " ")
