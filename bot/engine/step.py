"""`step`: advance one participant's conversation by one inbound event.

Pure: reads the content library and the state it is given, returns the new state, the replies,
the answers to store and any effects for the dispatcher. Never touches storage or the clock.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from bot.engine.state import AnswerEvent, ConversationState, Effect, StepContext, StepResult
from bot.engine.text import clean, fold, has_words, label_key
from bot.messages import Choice, Inbound, Outbound
from content.loader import Library
from content.schema import (
    QUESTION_TYPES,
    ActionNode,
    BranchNode,
    ChoiceNode,
    EndNode,
    Flow,
    MenuNode,
    MultiNode,
    SayNode,
    ScaleNode,
    TextNode,
    YesNoNode,
    text_for,
)

SKIP, BACK, DONE = "skip", "back", "done"
FACES = ("😢", "🙁", "😐", "🙂", "😀")
YES_WORDS = {"yes", "y", "yeah", "yep", "yup", "ok", "sure"}
NO_WORDS = {"no", "n", "nope", "nah"}
NOT_SURE_WORDS = {"not sure", "dunno", "idk", "maybe", "don't know", "dont know"}
MAX_AUTO_STEPS = 200  # guards against a loop of say/branch nodes in content


@lru_cache(maxsize=4096)
def _label_forms(label: str) -> tuple[str, str]:
    """`fold` and then `label_key` of a button label: labels are content, so each is worked out once, not per step.

    Only content goes in here, never what a participant typed (a process-wide cache must not hold their words).
    """
    folded = fold(label)
    return folded, label_key(folded)


class _Run:
    """Mutable working set for one step; keeps helper signatures short."""

    def __init__(self, lib: Library, state: ConversationState, ctx: StepContext) -> None:
        self.lib = lib
        self.state = state
        self.ctx = ctx
        self.result = StepResult(state=state)

    # -- wording -------------------------------------------------------------------------------
    def s(self, key: str, **fmt: object) -> str:
        text = text_for(self.lib.string(key), self.state.band)
        return text.format(**fmt) if fmt else text

    def say(self, text: str, choices: tuple[Choice, ...] = (), layout: str = "none") -> None:
        if text or choices:
            self.result.replies.append(Outbound(text=text, choices=choices, layout=layout))  # type: ignore[arg-type]

    # -- navigation ----------------------------------------------------------------------------
    @property
    def flow(self) -> Flow | None:
        return self.lib.flows.get(self.state.flow_id or "")

    def start_flow(self, flow_id: str) -> None:
        # Leaving a flow part-way keeps its stored answers: they count as a partial submission.
        st = self.state
        flow = self.lib.flows[flow_id]
        st.flow_id, st.node_id = flow_id, None
        st.run += 1
        st.history, st.answers, st.picks = [], {}, []
        if flow.kind != "menu":
            self.result.started.append((flow_id, st.run))
        self.enter(flow.start)

    def show_menu(self) -> None:
        if not self.state.profile.get("band"):
            self.start_flow("welcome")
            return
        self.start_flow(self.lib.menu_for(self.state.audience).id)

    def enter(self, node_id: str) -> None:
        """Run say/branch/action nodes until a node that waits for the participant."""
        flow = self.flow
        assert flow is not None
        for _ in range(MAX_AUTO_STEPS):
            node = flow.index[node_id]
            self.state.node_id = node_id
            self.state.picks = []
            if isinstance(node, SayNode):
                self.say(text_for(node.text, self.state.band))
                node_id = node.next  # type: ignore[assignment]
            elif isinstance(node, BranchNode):
                node_id = self.branch(node)
            elif isinstance(node, ActionNode):
                self.result.effects.append(
                    Effect(node.action, flow.id, self.state.run, dict(self.state.answers), len(self.result.replies))
                )
                if node.text:
                    self.say(text_for(node.text, self.state.band))
                node_id = node.next  # type: ignore[assignment]
            elif isinstance(node, EndNode):
                self.finish(node)
                return
            else:
                self.ask(node)
                return
        raise RuntimeError(f"flow {flow.id} loops without asking anything")

    def branch(self, node: BranchNode) -> str:
        for rule in node.rules:
            if all(self._matches(self.state.answers.get(q), allowed) for q, allowed in rule.when.items()):
                return rule.goto
        return node.otherwise

    @staticmethod
    def _matches(value: object, allowed: list[str]) -> bool:
        if value is None:
            return "skip" in allowed
        if isinstance(value, list):
            return any(str(v) in allowed for v in value)
        return str(value) in allowed

    def finish(self, node: EndNode) -> None:
        st = self.state
        flow = self.flow
        assert flow is not None
        if node.text:
            self.say(text_for(node.text, st.band))
        if flow.kind != "menu":
            self.result.completed.append((flow.id, st.run))
        st.flow_id, st.node_id, st.history, st.answers, st.picks = None, None, [], {}, []
        if node.then == "menu" and flow.kind != "menu":
            self.show_menu()

    # -- asking --------------------------------------------------------------------------------
    def token(self, node_id: str, index: int) -> str:
        flow = self.flow
        assert flow is not None
        return f"{self.lib.flow_tokens[flow.id]}.{flow.order[node_id]}.{index}"

    def ask(self, node: object, prefix: str = "") -> None:
        band = self.state.band
        text = text_for(node.text, band)  # type: ignore[attr-defined]
        if prefix:
            text = f"{prefix}\n\n{text}" if text else prefix
        extra: list[Choice] = []
        if self.state.history:
            extra.append(Choice(BACK, self.s("back_label")))
        if isinstance(node, MenuNode):
            choices = tuple(
                Choice(self.token(node.id, i), text_for(o.label, band))
                for i, o in enumerate(node.options)
                if self._option_visible(o)
            )
            self.say(text, choices, "menu")
            return
        if isinstance(node, QUESTION_TYPES) and node.skip:
            extra.append(Choice(SKIP, self.s("skip_label")))
        if isinstance(node, ChoiceNode):
            choices = tuple(Choice(self.token(node.id, i), text_for(c.label, band)) for i, c in enumerate(node.choices))
            self.say(text, choices + tuple(extra), "buttons")
        elif isinstance(node, MultiNode):
            picked = set(self.state.picks)
            choices = tuple(
                Choice(self.token(node.id, i), ("✅ " if c.id in picked else "") + text_for(c.label, band))
                for i, c in enumerate(node.choices)
            )
            self.say(
                text + "\n" + self.s("multi_hint"), (*choices, Choice(DONE, self.s("done_label")), *extra), "multi"
            )
        elif isinstance(node, ScaleNode):
            self.say(text, tuple(self._scale_choice(node, v) for v in range(1, 6)) + tuple(extra), "scale")
        elif isinstance(node, YesNoNode):
            opts = [("yes", "yes_label"), ("no", "no_label")] + (
                [("not_sure", "not_sure_label")] if node.not_sure else []
            )
            choices = tuple(Choice(self.token(node.id, i), self.s(key)) for i, (_, key) in enumerate(opts))
            self.say(text, choices + tuple(extra), "buttons")
        elif isinstance(node, TextNode):
            hint = self.s("free_text_notice") if node.notice else ""
            body = f"{text}\n\n{hint}" if hint else text
            self.say(body, tuple(extra), "buttons")

    def _scale_choice(self, node: ScaleNode, value: int) -> Choice:
        face = FACES[value - 1]
        label = face if self.state.band == "junior" else f"{face} {value}"
        return Choice(self.token(node.id, value - 1), label)

    def _option_visible(self, option: object) -> bool:
        bands = getattr(option, "bands", None)
        if bands and self.state.band not in bands:
            return False
        return not (getattr(option, "topics", False) and not self.ctx.open_topics)

    def reask(self, prefix: str = "") -> None:
        flow = self.flow
        if flow is None or self.state.node_id is None:
            if prefix:
                self.say(prefix)
            self.show_menu()
            return
        node = flow.index[self.state.node_id]
        picks = list(self.state.picks)
        self.ask(node, prefix)
        self.state.picks = picks

    # -- answering -----------------------------------------------------------------------------
    def record(self, node: object, value: object, skipped: bool = False) -> None:
        flow = self.flow
        assert flow is not None
        nid = node.id  # type: ignore[attr-defined]
        self.state.answers[nid] = value
        if not self.state.history or self.state.history[-1] != nid:
            self.state.history.append(nid)
        self.result.answers.append(
            AnswerEvent(flow.id, self.state.run, nid, value, skipped, isinstance(node, TextNode) and not skipped)
        )
        set_fields = None
        if isinstance(node, ChoiceNode) and not skipped:
            set_fields = next((c.set for c in node.choices if c.id == value), None)
        if set_fields:
            self.state.profile.update(set_fields)
            self.result.profile_changed = True
        self.enter(node.next)  # type: ignore[attr-defined]

    def choose_menu(self, node: MenuNode, index: int) -> None:
        option = node.options[index]
        if option.topics:
            self.list_topics()
        elif option.flow:
            self.start_flow(option.flow)

    def list_topics(self) -> None:
        topics = [t for t in self.ctx.open_topics if t in self.lib.flows]
        if not topics:
            self.say(self.s("no_topics"))
            self.show_menu()
            return
        if len(topics) == 1:
            self.start_flow(topics[0])
            return
        st = self.state
        st.flow_id, st.node_id = None, None
        choices = tuple(
            Choice(f"t.{self.lib.flow_tokens[t]}", text_for(self.lib.flows[t].title, st.band)) for t in topics
        )
        self.say(self.s("pick_topic"), choices, "menu")

    def answer_index(self, node: object, index: int) -> None:
        if isinstance(node, MenuNode):
            self.choose_menu(node, index)
        elif isinstance(node, ChoiceNode):
            self.record(node, node.choices[index].id)
        elif isinstance(node, ScaleNode):
            self.record(node, index + 1)
        elif isinstance(node, YesNoNode):
            self.record(node, ("yes", "no", "not_sure")[index])
        elif isinstance(node, MultiNode):
            cid = node.choices[index].id
            picks = self.state.picks
            if cid in picks:
                picks.remove(cid)
            elif node.max_picks is None or len(picks) < node.max_picks:
                picks.append(cid)
            self.reask()

    def index_in_range(self, node: object, index: int) -> bool:
        if isinstance(node, MenuNode):
            return 0 <= index < len(node.options)
        if isinstance(node, ChoiceNode | MultiNode):
            return 0 <= index < len(node.choices)
        if isinstance(node, ScaleNode):
            return 0 <= index < 5
        if isinstance(node, YesNoNode):
            return 0 <= index < (3 if node.not_sure else 2)
        return False

    def typed(self, node: object, raw: str) -> None:
        """Understand a typed answer: free text, a button label, or a number."""
        text = clean(raw)
        if isinstance(node, TextNode):
            if not has_words(text):
                self.reask(self.s("empty"))
            elif len(text) > node.max_length:
                self.reask(self.s("too_long", limit=node.max_length, length=len(text)))
            else:
                self.record(node, text)
            return
        if not has_words(text):
            self.reask(self.s("empty" if not text else "pick_a_button"))
            return
        folded = fold(text)
        if isinstance(node, MultiNode) and folded in {DONE, "finished", "that's all"}:
            self.finish_multi(node)
            return
        index = self.match_typed(node, folded)
        if index is None:
            self.reask(self.s("pick_a_button"))
        else:
            self.answer_index(node, index)

    def match_typed(self, node: object, folded: str) -> int | None:
        band = self.state.band
        if isinstance(node, YesNoNode):
            for i, words in enumerate((YES_WORDS, NO_WORDS, NOT_SURE_WORDS)):
                if folded in words and (i < 2 or node.not_sure):
                    return i
            return None
        forms: list[tuple[str, str]] = []
        if isinstance(node, MenuNode):
            forms = [_label_forms(text_for(o.label, band)) for o in node.options]
        elif isinstance(node, ChoiceNode | MultiNode):
            forms = [_label_forms(text_for(c.label, band)) for c in node.choices]
        labels = [lbl for lbl, _ in forms]
        if folded in labels:
            return labels.index(folded)
        loose = [key for _, key in forms]
        key = label_key(folded)
        if key and key in loose:
            return loose.index(key)
        if folded.isdigit():
            index = int(folded) - 1
            return index if self.index_in_range(node, index) else None
        return None

    def finish_multi(self, node: MultiNode) -> None:
        picks = list(self.state.picks)
        if not picks:
            self.reask(self.s("multi_none"))
            return
        order = [c.id for c in node.choices]
        self.record(node, sorted(picks, key=order.index))

    def skip(self) -> None:
        node = self.current()
        if node is None or not isinstance(node, QUESTION_TYPES) or not node.skip:
            self.reask(self.s("nothing_to_skip"))
            return
        self.record(node, None, skipped=True)

    def back(self) -> None:
        st = self.state
        if not st.history:
            self.reask(self.s("nothing_to_go_back_to"))
            return
        previous = st.history.pop()
        st.answers.pop(previous, None)
        st.node_id = previous
        flow = self.flow
        assert flow is not None
        self.ask(flow.index[previous])

    def current(self) -> object | None:
        flow = self.flow
        if flow is None or self.state.node_id is None:
            return None
        return flow.index.get(self.state.node_id)


def _parse_token(token: str) -> tuple[int, int, int] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1]), int(parts[2])


def step(
    library: Library,
    state: ConversationState,
    inbound: Inbound,
    *,
    now: datetime,
    context: StepContext | None = None,
) -> StepResult:
    """Advance a conversation by one inbound event.

    The given state is not modified; the result holds a new one. `now` is accepted so that
    time-dependent rules stay testable without a clock inside the engine.
    """
    del now  # no rule reads the time yet; kept in the signature so callers always pass it
    run = _Run(library, state.copy(), context or StepContext())
    st = run.state
    if inbound.kind == "command":
        _command(run, inbound.command, inbound.args)
        return run.result
    if inbound.kind == "unsupported":
        run.reask(run.s("unsupported"))
        return run.result
    if st.paused:
        st.paused = False
        if inbound.kind == "text":
            run.reask(run.s("welcome_back"))
            return run.result
    if not st.profile.get("band") and st.flow_id != "welcome":
        run.show_menu()
        return run.result
    if inbound.kind == "button":
        _button(run, inbound.payload)
    else:
        node = run.current()
        if node is None:
            run.show_menu()
        else:
            run.typed(node, inbound.text)
    return run.result


def _button(run: _Run, payload: str) -> None:
    lib, st = run.lib, run.state
    if payload == SKIP:
        run.skip()
        return
    if payload == BACK:
        run.back()
        return
    if payload.startswith("t."):
        tok = payload[2:]
        topic = lib.flow_by_token.get(int(tok)) if tok.isdigit() else None
        if topic and topic in run.ctx.open_topics and st.flow_id is None:
            run.start_flow(topic)
        else:
            run.reask(run.s("stale_button"))
        return
    node = run.current()
    if payload == DONE:
        if isinstance(node, MultiNode):
            run.finish_multi(node)
        else:
            run.reask(run.s("stale_button"))
        return
    parsed = _parse_token(payload)
    flow = run.flow
    if parsed is None or node is None or flow is None:
        run.reask(run.s("stale_button"))
        return
    flow_tok, node_idx, index = parsed
    if lib.flow_by_token.get(flow_tok) != flow.id or flow.order.get(node.id) != node_idx:  # type: ignore[attr-defined]
        run.reask(run.s("stale_button"))
        return
    if not run.index_in_range(node, index):
        run.reask(run.s("stale_button"))
        return
    run.answer_index(node, index)


def _command(run: _Run, command: str, args: str) -> None:
    st = run.state
    if command == "stop":
        st.paused = True
        run.say(run.s("paused"))
        return
    was_paused = st.paused
    st.paused = False
    if command == "help":
        run.reask(run.s("help"))
    elif command == "skip":
        run.skip()
    elif command == "back":
        run.back()
    elif command == "menu":
        st.flow_id, st.node_id = None, None
        run.show_menu()
    elif command == "start":
        if st.flow_id and st.node_id and st.profile.get("band"):
            run.reask(run.s("welcome_back" if was_paused else "carry_on"))
        else:
            run.show_menu()
    else:
        run.reask(run.s("unknown_command"))
