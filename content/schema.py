"""Pydantic models for every content file: flows, topics, surveys and strings.

Staff edit YAML; these models decide what is valid. Text may be one string for everyone or a
mapping from band (junior, teen, young_adult, carer) to string, with an optional `default`.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1
BANDS = ("junior", "teen", "young_adult", "carer")
YOUNG_BANDS = ("junior", "teen", "young_adult")
AUDIENCES = ("young_person", "carer")
ID_PATTERN = r"^[a-z][a-z0-9_]{0,47}$"

Band = Literal["junior", "teen", "young_adult", "carer"]
Audience = Literal["young_person", "carer"]
Ident = Annotated[str, Field(pattern=ID_PATTERN)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Text = str | dict[str, str]


def text_for(text: Text, band: str) -> str:
    """Pick the wording for a band, falling back to `default`."""
    if isinstance(text, str):
        return text
    return text.get(band) or text.get("default") or next(iter(text.values()))


def missing_bands(text: Text, bands: tuple[str, ...]) -> list[str]:
    """Bands that have no wording in `text` (no band key and no default)."""
    if isinstance(text, str) or "default" in text:
        return []
    return [b for b in bands if b not in text]


class ChoiceOption(Strict):
    id: Ident
    label: Text
    set: dict[str, str] | None = Field(default=None, description="profile fields this choice sets")
    # Offered only to these age bands (a `choice` question's option; e.g. giving an address, not to 7-11s).
    bands: list[Band] | None = None


class NodeBase(Strict):
    id: Ident
    text: Text = ""
    next: Ident | None = None


class SayNode(NodeBase):
    type: Literal["say"]


class QuestionBase(NodeBase):
    report: bool = True
    notice: bool = True
    # For a privacy decision (share my words? send my statement?): the id of the more private answer.
    # A test checks that choosing it never takes more taps than any other answer (ICO Children's Code).
    private_choice: str | None = None
    # Skip / I'd rather not say is offered on every question; `skip: false` for a notice or confirmation
    # ("OK, let's go", "Happy with it?") that is asked as buttons but is not a question (issue 23 item 3).
    skip: bool = True


class ChoiceNode(QuestionBase):
    type: Literal["choice"]
    choices: list[ChoiceOption] = Field(min_length=1)
    # Choices labelled "1", "2"... are offered only up to this count from outside the engine (e.g. how many
    # challenge cards were just listed); with none to pick, the question is not asked at all.
    count: Ident | None = None


class MultiNode(QuestionBase):
    type: Literal["multi"]
    choices: list[ChoiceOption] = Field(min_length=1)
    max_picks: int | None = None


class ScaleNode(QuestionBase):
    type: Literal["scale"]
    low: Text = ""
    high: Text = ""
    # The mood check-in: worded from the strings (`mood_question`) the same everywhere, asked at most once a
    # session and reused by every flow that asks it.
    mood: bool = False
    # Words for the five points (e.g. strongly disagree ... strongly agree), shown instead of numbers.
    labels: list[str] | None = Field(default=None, min_length=5, max_length=5)


class YesNoNode(QuestionBase):
    type: Literal["yesno"]
    not_sure: bool = True
    # "May someone get in touch?": a Yes in a sent submission is consent, in that moment, to be contacted, and
    # puts a request in the queue of the person's team (carers: the fostering team; young people: their
    # district's participation worker). Issue 25; see admin/jobs/contact_requests.py.
    contact: bool = False


class TextNode(QuestionBase):
    type: Literal["text"]
    max_length: int = Field(default=1000, ge=1, le=5000)
    report: bool = False
    # An email address or UK mobile number for short notices (issue 25): checked as typed (a wrong one is asked
    # again), handed only to the action that must come next (which stores it encrypted) and never kept as an
    # answer, read by staff or left in the conversation.
    address: Literal["email", "sms"] | None = None


class BranchRule(Strict):
    when: dict[Ident, list[str]] = Field(alias="if")
    goto: Ident


class BranchNode(Strict):
    id: Ident
    type: Literal["branch"]
    rules: list[BranchRule] = Field(min_length=1)
    otherwise: Ident


class ActionNode(NodeBase):
    """Asks the dispatcher to do something with the answers so far (raise a card, send a review)."""

    type: Literal["action"]
    action: Ident


class MenuOption(Strict):
    id: Ident
    label: Text
    flow: Ident | None = None
    topics: bool = False
    bands: list[Band] | None = None


class MenuNode(NodeBase):
    type: Literal["menu"]
    options: list[MenuOption] = Field(min_length=1)


class EndNode(Strict):
    id: Ident
    type: Literal["end"]
    text: Text = ""
    then: Literal["menu", "stop"] = "menu"


Node = Annotated[
    SayNode | ChoiceNode | MultiNode | ScaleNode | YesNoNode | TextNode | BranchNode | ActionNode
    | MenuNode | EndNode,
    Field(discriminator="type"),
]
QUESTION_TYPES = (ChoiceNode, MultiNode, ScaleNode, YesNoNode, TextNode)


class TopicMeta(Strict):
    districts: list[Ident] | None = None
    opens: date | None = None
    closes: date | None = None
    report_to_panel: date | None = None
    why: Text = ""


class Flow(Strict):
    schema_version: int
    id: Ident
    kind: Literal["flow", "topic", "survey", "menu"] = "flow"
    title: Text
    audience: list[Audience] = Field(min_length=1)
    bands: list[Band] = Field(min_length=1)
    start: Ident
    nodes: list[Node] = Field(min_length=1)
    topic: TopicMeta | None = None
    # Answers a young person is told stay private (e.g. getting ready for a review): left out of every aggregate
    # (admin response pages, CLI summaries, roll-ups, reports, exports, digests); only what they choose to send
    # is ever seen, one submission at a time.
    private: bool = False

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, v: int) -> int:
        if v > SCHEMA_VERSION:
            raise ValueError(f"schema_version {v} is newer than this ourvoice ({SCHEMA_VERSION})")
        return v

    @model_validator(mode="after")
    def _topic_needs_meta(self) -> Flow:
        if self.kind == "topic" and self.topic is None:
            raise ValueError("a topic needs a `topic:` block (districts, opens, closes)")
        if self.private and self.kind in ("topic", "survey", "menu"):
            raise ValueError(f"a {self.kind} cannot be private: topics and surveys are asked to be reported")
        for node in self.nodes:
            if isinstance(node, TextNode) and node.address and not isinstance(
                self.index.get(node.next or ""), ActionNode
            ):
                raise ValueError(f"{node.id}: an address question must be followed at once by an action that keeps it")
        return self

    @cached_property
    def index(self) -> dict[str, Node]:
        """Nodes by id, built once."""
        return {n.id: n for n in self.nodes}

    @cached_property
    def order(self) -> dict[str, int]:
        """Each node's position, used to build short button tokens."""
        return {n.id: i for i, n in enumerate(self.nodes)}


class Strings(Strict):
    """System messages the engine and channels need (help, paused, too long...)."""

    schema_version: int
    id: Ident
    locale: str = "en"
    messages: dict[Ident, Text]


class CouncilGroup(Strict):
    """One children-in-care council: its name, the ages it is for and the age bands those make."""

    label: str
    ages: tuple[int, int]
    bands: tuple[Band, ...]

    @model_validator(mode="after")
    def _ages_in_order(self) -> CouncilGroup:
        if not 0 < self.ages[0] <= self.ages[1] <= 30:
            raise ValueError(f"ages must be [youngest, oldest], got {list(self.ages)}")
        return self


class Council(Strict):
    """The council a deployment serves (content/council.yaml): districts, councils, staff roles, help
    numbers and duty contacts. Everything else reads these from here, never from code."""

    schema_version: int
    id: Ident
    name: str
    districts: dict[Ident, str]
    councils: dict[Ident, CouncilGroup]
    roles: dict[Ident, str]
    scoped_roles: tuple[Ident, ...] = ()
    help_numbers: dict[Ident, str]
    duty_contacts: dict[Ident, str]
    duty_team_names: dict[str, str] = {}
    """The duty team's name in other languages, by locale (`ar: ...`): the council names its own team, and a
    safe reply in Arabic should not carry an English name in the middle of it."""

    @model_validator(mode="after")
    def _references(self) -> Council:
        unknown = [r for r in self.scoped_roles if r not in self.roles]
        if unknown:
            raise ValueError(f"scoped_roles names unknown roles: {', '.join(unknown)}")
        if not self.districts:
            raise ValueError("a council needs at least one district")
        for section, keys in (
            ("help_numbers", ("emergency", "childline", "samaritans", "shout_text")),
            ("duty_contacts", ("duty_team", "duty_number", "out_of_hours")),
        ):
            missing = [k for k in keys if not getattr(self, section).get(k)]
            if missing:
                raise ValueError(f"{section} needs {', '.join(missing)} (the safe reply gives them)")
        return self
