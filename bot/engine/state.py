"""Plain, JSON-serialisable values the engine reads and returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.messages import Outbound


@dataclass
class ConversationState:
    """Where one participant is: the flow, the node, the answers of the current run."""

    flow_id: str | None = None
    node_id: str | None = None
    run: int = 0
    history: list[str] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)
    picks: list[str] = field(default_factory=list)
    paused: bool = False
    profile: dict[str, str] = field(default_factory=dict)
    # The highest run number given out: `run` is the current run, which may be an older one resumed.
    top_run: int = 0
    # Flows left part-way, by flow id: {"run", "node_id", "history", "answers"} (free text kept only as "").
    parked: dict[str, Any] = field(default_factory=dict)
    # This session's mood check-in ({"value": 1-5 or None if skipped}), asked at most once per session.
    mood: dict[str, Any] | None = None
    seen_at: str | None = None  # ISO time of the last step: a long gap starts a new session
    held: bool = False  # a safe reply was the only answer to the last message: re-ask before taking answers

    def to_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict (several times slower, and it runs twice per step): every list and
        # dict is new, so the result shares nothing mutable with the state. Keys in field order.
        return {
            "flow_id": self.flow_id,
            "node_id": self.node_id,
            "run": self.run,
            "history": list(self.history),
            "answers": _copied(self.answers),
            "picks": list(self.picks),
            "paused": self.paused,
            "profile": _copied(self.profile),  # values come from content (`set:`), so copied like answers
            "top_run": self.top_run,
            "parked": _copied(self.parked),
            "mood": _copied(self.mood),
            "seen_at": self.seen_at,
            "held": self.held,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ConversationState:
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def copy(self) -> ConversationState:
        return ConversationState(**self.to_json())

    @property
    def band(self) -> str:
        return self.profile.get("band", "teen")

    @property
    def audience(self) -> str:
        return self.profile.get("audience", "young_person")


_CONTAINERS = (dict, list)


def _copied(value: Any) -> Any:
    """A JSON value with every list and dict in it new (strings, numbers, booleans and None are immutable)."""
    # Recurse only into containers: most answers are plain strings and numbers.
    if isinstance(value, dict):
        return {k: _copied(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copied(v) if isinstance(v, _CONTAINERS) else v for v in value]
    return value


@dataclass(frozen=True)
class AnswerEvent:
    """One answer to store: the question id is the reporting key."""

    flow_id: str
    run: int
    question_id: str
    value: Any
    skipped: bool = False
    free_text: bool = False


@dataclass(frozen=True)
class Effect:
    """Something only the dispatcher can do (store a card, send a review statement)."""

    action: str
    flow_id: str
    run: int
    answers: dict[str, Any]
    at_reply: int = 0  # where the dispatcher should insert any replies the effect produces


class StepContext:
    """Facts from outside the engine: which topics are open for this person right now, which of them they
    have finished, how many challenge cards they could back, and whether the message got a safe reply.

    Either the values themselves or functions that find them; each function runs at most once, and only
    when a step actually needs it (most steps do not).
    """

    def __init__(
        self,
        open_topics: tuple[str, ...] = (),
        *,
        find_topics: Callable[[], tuple[str, ...]] | None = None,
        done_topics: tuple[str, ...] = (),
        find_done: Callable[[], tuple[str, ...]] | None = None,
        counts: dict[str, int] | None = None,
        find_count: Callable[[str], int] | None = None,
        flagged: bool = False,
    ) -> None:
        self._topics = None if find_topics else tuple(open_topics)
        self._find = find_topics
        self._done = None if find_done else tuple(done_topics)
        self._find_done = find_done
        self._counts = dict(counts or {})
        self._find_count = find_count
        # The risk check flagged this message: the safe reply is the whole answer (issue 23 item 4).
        self.flagged = flagged

    @property
    def done_topics(self) -> tuple[str, ...]:
        """Topics this person has already finished (shown as done, not offered as new)."""
        if self._done is None:
            self._done = self._find_done() if self._find_done else ()
        return self._done

    def with_topic(self, flow_id: str) -> StepContext:
        """The same facts with one more open topic (a flow started for the person, e.g. after joining)."""
        ctx = StepContext(find_topics=lambda: (*self.open_topics, flow_id), find_done=lambda: self.done_topics,
                          find_count=self.count, flagged=self.flagged)
        return ctx

    def count(self, name: str) -> int:
        """A named count from outside (e.g. "backable_cards"); 0 when nobody provides it."""
        if name not in self._counts:
            self._counts[name] = self._find_count(name) if self._find_count else 0
        return self._counts[name]

    @property
    def open_topics(self) -> tuple[str, ...]:
        if self._topics is None:
            self._topics = self._find() if self._find else ()
        return self._topics


@dataclass
class StepResult:
    state: ConversationState
    replies: list[Outbound] = field(default_factory=list)
    answers: list[AnswerEvent] = field(default_factory=list)
    completed: list[tuple[str, int]] = field(default_factory=list)
    started: list[tuple[str, int]] = field(default_factory=list)
    # Runs the person chose to start again: the dispatcher closes their submissions (not left "started").
    restarted: list[tuple[str, int]] = field(default_factory=list)
    effects: list[Effect] = field(default_factory=list)
    profile_changed: bool = False
    # The message got a safe reply: say nothing else (the dispatcher drops effect replies too).
    quiet: bool = False
