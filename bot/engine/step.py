"""`step`: advance one participant's conversation by one inbound event.

Pure: reads the content library and the state it is given, returns the new state, the replies,
the answers to store and any effects for the dispatcher. Never touches storage or the clock.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from bot.engine.address import normalise as normalise_address
from bot.engine.progress import question_count, question_number
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
# Flows people may leave and come back to: choosing one again offers "carry on at question N of M" or "start again".
RESUMABLE_KINDS = frozenset({"topic", "survey"})
# A gap this long between two messages starts a new session (the mood check-in may be asked again).
SESSION_GAP = timedelta(hours=2)
# Faces beside scale answers by default for 7-16s only; carers and 16-25s get words unless they choose faces in
# My stuff ("Show faces with scale answers", profile key `faces`: on|off), which any band may turn on or off.
FACE_BANDS = frozenset({"junior", "teen"})
QUESTIONS = "{questions}"  # in flow text: the flow's own question count, never typed by hand


def _is_address(node: object) -> bool:
    """An email address or mobile number question: handed to the next action only, never an answer."""
    return isinstance(node, TextNode) and node.address is not None


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

    def say(
        self, text: str, choices: tuple[Choice, ...] = (), layout: str = "none", *, node: object = None,
        update: bool = False,
    ) -> None:
        """Add a reply; with `node` (the question it asks) it carries the hints channels may show: progress
        ("question 3 of 5") and whether it wants typed words."""
        if not (text or choices):
            return
        progress = None
        flow = self.flow
        if node is not None and flow is not None and flow.kind != "menu":
            number = question_number(flow, node.id)  # type: ignore[attr-defined]
            progress = (number, question_count(flow)) if number is not None else None
        self.result.replies.append(
            Outbound(
                text=text, choices=choices, layout=layout,  # type: ignore[arg-type]
                progress=progress, free_text=isinstance(node, TextNode), update=update,
            )
        )

    def words(self, text: object) -> str:
        """A node's wording for this person's band, with {questions} filled from the flow."""
        out = text_for(text, self.state.band)  # type: ignore[arg-type]
        if QUESTIONS in out and self.flow is not None:
            out = out.replace(QUESTIONS, str(question_count(self.flow)))
        return out

    # -- navigation ----------------------------------------------------------------------------
    @property
    def flow(self) -> Flow | None:
        return self.lib.flows.get(self.state.flow_id or "")

    def start_flow(self, flow_id: str) -> None:
        # Leaving a flow part-way keeps its stored answers: they count as a partial submission, and a topic or
        # survey is parked so that choosing it again can carry on where the person left off.
        st = self.state
        self.park()
        flow = self.lib.flows[flow_id]
        old = st.parked.pop(flow_id, None)
        if old is not None:  # a fresh run replaces the one left part-way: close it, not left "started"
            self.result.restarted.append((flow_id, int(old["run"])))
        st.flow_id, st.node_id = flow_id, None
        st.top_run = max(st.top_run, st.run) + 1
        st.run = st.top_run
        st.history, st.answers, st.picks = [], {}, []
        if flow.kind != "menu":
            self.result.started.append((flow_id, st.run))
        self.enter(flow.start)

    def park(self) -> None:
        """Keep the place in a topic or survey being left part-way (free text is not kept in the state)."""
        st = self.state
        flow = self.flow
        if flow is None or flow.kind not in RESUMABLE_KINDS or st.node_id is None:
            return
        if not st.history:  # nothing answered yet: nothing to carry on with, so the run is simply closed
            self.result.restarted.append((flow.id, st.run))
        else:
            answers = {
                k: "" if isinstance(flow.index.get(k), TextNode) and v is not None else v
                for k, v in st.answers.items()
            }
            st.parked[flow.id] = {
                "run": st.run, "node_id": st.node_id, "history": list(st.history), "answers": answers,
            }
        st.flow_id, st.node_id, st.history, st.answers, st.picks = None, None, [], {}, []

    def choose_flow(self, flow_id: str) -> None:
        """The person chose a flow (menu, topic list, a notice's Start): carry on, start again, or done."""
        st = self.state
        flow = self.lib.flows[flow_id]
        if st.flow_id == flow_id and st.node_id is not None:
            if not st.history:
                self.reask()  # already at its start: just ask again
                return
            self.park()
        if flow_id in st.parked:
            self.offer_resume(flow_id)
        elif flow.kind == "topic" and flow_id in self.ctx.done_topics:
            self.say(self.s("topic_done"))
            self.show_menu()
        else:
            self.start_flow(flow_id)

    def offer_resume(self, flow_id: str) -> None:
        st = self.state
        flow = self.lib.flows[flow_id]
        self.park()
        number = question_number(flow, str(st.parked[flow_id]["node_id"]))
        if number is None:
            carry = self.s("resume_carry_on_here")
        else:
            carry = self.s("resume_carry_on", number=number, total=question_count(flow))
        tok = self.lib.flow_tokens[flow_id]
        choices = (Choice(f"r.{tok}", carry), Choice(f"n.{tok}", self.s("resume_start_again")))
        self.say(self.s("resume_offer", title=text_for(flow.title, st.band)), choices, "buttons")

    def resume(self, flow_id: str) -> None:
        """Carry on a parked run at the question where the person left it (same run, same submission)."""
        st = self.state
        flow = self.lib.flows[flow_id]
        if st.flow_id != flow_id:
            self.park()
        parked = st.parked.pop(flow_id)
        node = flow.index.get(str(parked["node_id"]))
        if node is None:  # the content changed under the parked run: start again instead
            self.result.restarted.append((flow_id, int(parked["run"])))
            self.start_flow(flow_id)
            return
        st.flow_id, st.node_id, st.run = flow_id, node.id, int(parked["run"])
        st.history, st.answers, st.picks = list(parked["history"]), dict(parked["answers"]), []
        self.ask(node)

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
                self.say(self.words(node.text))
                node_id = node.next  # type: ignore[assignment]
            elif isinstance(node, ScaleNode) and node.mood and self.state.mood is not None:
                # This session's mood check-in was already given: reused, not asked again.
                value = self.state.mood.get("value")
                self.store(node, value, skipped=value is None, history=False)
                node_id = node.next  # type: ignore[assignment]
            elif isinstance(node, ChoiceNode) and node.count and self.ctx.count(node.count) == 0:
                # Nothing to choose from (no cards to back): not asked.
                node_id = node.next  # type: ignore[assignment]
            elif isinstance(node, BranchNode):
                node_id = self.branch(node)
            elif isinstance(node, ActionNode):
                self.result.effects.append(
                    Effect(node.action, flow.id, self.state.run, dict(self.state.answers), len(self.result.replies))
                )
                for nid in list(self.state.answers):  # an address goes to this action only, never into the state
                    if _is_address(flow.index.get(nid)):
                        self.state.answers[nid] = None
                if node.text:
                    self.say(self.words(node.text))
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
            self.say(self.words(node.text))
        if flow.kind != "menu":
            self.result.completed.append((flow.id, st.run))
        st.parked.pop(flow.id, None)
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
        # The mood check-in is worded the same in every flow that asks it.
        mood = isinstance(node, ScaleNode) and node.mood
        text = self.s("mood_question") if mood else self.words(node.text)  # type: ignore[attr-defined]
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
            choices = tuple(
                Choice(self.token(node.id, i), text_for(c.label, band))
                for i, c in enumerate(node.choices)
                if self._choice_visible(node, i)
            )
            self.say(text, choices + tuple(extra), "buttons", node=node)
        elif isinstance(node, MultiNode):
            self.say(text + "\n" + self.s("multi_hint"), self._multi_choices(node, extra), "multi", node=node)
        elif isinstance(node, ScaleNode):
            choices = tuple(self._scale_choice(node, v) for v in range(1, 6))
            self.say(text, choices + tuple(extra), "scale", node=node)
        elif isinstance(node, YesNoNode):
            opts = [("yes", "yes_label"), ("no", "no_label")] + (
                [("not_sure", "not_sure_label")] if node.not_sure else []
            )
            choices = tuple(Choice(self.token(node.id, i), self.s(key)) for i, (_, key) in enumerate(opts))
            self.say(text, choices + tuple(extra), "buttons", node=node)
        elif isinstance(node, TextNode):
            hint = self.s("free_text_notice") if node.notice and not node.address else ""
            body = f"{text}\n\n{hint}" if hint else text
            self.say(body, tuple(extra), "buttons", node=node)

    def _multi_choices(self, node: MultiNode, extra: list[Choice]) -> tuple[Choice, ...]:
        """Every option as a toggle (pressed, and a ✅ for channels that cannot show pressed), then Done."""
        picked = set(self.state.picks)
        band = self.state.band
        choices = tuple(
            Choice(self.token(node.id, i), ("✅ " if c.id in picked else "") + text_for(c.label, band), c.id in picked)
            for i, c in enumerate(node.choices)
        )
        return (*choices, Choice(DONE, self.s("done_label")), *extra)

    def toggled(self, node: MultiNode) -> None:
        """After a tap on a multi-select: what is picked so far and the same buttons, not the whole question."""
        band = self.state.band
        picked = [text_for(c.label, band) for c in node.choices if c.id in self.state.picks]
        text = self.s("multi_picked", picks=", ".join(picked)) if picked else self.s("multi_nothing_picked")
        extra = [Choice(BACK, self.s("back_label"))] if self.state.history else []
        if node.skip:
            extra.append(Choice(SKIP, self.s("skip_label")))
        self.say(text, self._multi_choices(node, extra), "multi", node=node, update=True)

    @property
    def faces(self) -> bool:
        """Whether scale answers carry faces: the person's own choice, else their band's default."""
        chosen = self.state.profile.get("faces")
        return chosen == "on" if chosen in ("on", "off") else self.state.band in FACE_BANDS

    def _scale_label(self, node: ScaleNode, value: int) -> str:
        """Faces only where wanted (7-16s, or anyone who chose them), and always with a word or number beside
        them (a face alone can be a blank box)."""
        band = self.state.band
        if node.labels:
            word = node.labels[value - 1]
        elif node.mood:
            word = self.s("mood_words").split("|")[value - 1].strip()
        elif band == "junior":
            word = self.s("scale_words").split("|")[value - 1].strip()
        else:
            word = str(value)
            end = node.low if value == 1 else node.high if value == 5 else ""
            if end and (band not in FACE_BANDS or not self.faces):
                word = f"{value} ({text_for(end, band)})"
        return f"{FACES[value - 1]} {word}" if self.faces else word

    def _scale_choice(self, node: ScaleNode, value: int) -> Choice:
        return Choice(self.token(node.id, value - 1), self._scale_label(node, value))

    def _choice_visible(self, node: ChoiceNode, index: int) -> bool:
        """Only the choices for the person's age band; with `count`, numbered choices ("1", "2"...) only up to that
        count (never a card that isn't there)."""
        bands = node.choices[index].bands
        if bands and self.state.band not in bands:
            return False
        if not node.count:
            return True
        label = text_for(node.choices[index].label, "default").strip()
        return not label.isdigit() or int(label) <= self.ctx.count(node.count)

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
        self.store(node, value, skipped)
        self.enter(node.next)  # type: ignore[attr-defined]

    def store(self, node: object, value: object, skipped: bool = False, history: bool = True) -> None:
        flow = self.flow
        assert flow is not None
        nid = node.id  # type: ignore[attr-defined]
        self.state.answers[nid] = value
        if history and (not self.state.history or self.state.history[-1] != nid):
            self.state.history.append(nid)
        if isinstance(node, ScaleNode) and node.mood:
            self.state.mood = {"value": value}
        if not _is_address(node):  # an address is not an answer: not stored, not read, not counted
            self.result.answers.append(
                AnswerEvent(flow.id, self.state.run, nid, value, skipped, isinstance(node, TextNode) and not skipped)
            )
        set_fields = None
        if isinstance(node, ChoiceNode) and not skipped:
            set_fields = next((c.set for c in node.choices if c.id == value), None)
        if set_fields:
            self.state.profile.update(set_fields)
            self.result.profile_changed = True

    def choose_menu(self, node: MenuNode, index: int) -> None:
        option = node.options[index]
        if option.topics:
            self.list_topics()
        elif option.flow:
            self.choose_flow(option.flow)

    def list_topics(self) -> None:
        st = self.state
        topics = [t for t in self.ctx.open_topics if t in self.lib.flows]
        if not topics:
            self.say(self.s("no_topics"))
            self.show_menu()
            return
        done = [t for t in topics if t in self.ctx.done_topics and t not in st.parked]
        new = [t for t in topics if t not in done]
        if not new:
            self.say(self.s("topics_all_done"))
            self.show_menu()
            return
        if len(new) == 1 and not done:
            self.choose_flow(new[0])
            return
        self.park()
        st.flow_id, st.node_id = None, None
        text = self.s("pick_topic")
        if done:
            titles = ", ".join(text_for(self.lib.flows[t].title, st.band) for t in done)
            text = f"{self.s('topics_done_line', titles=titles)}\n\n{text}"
        choices = tuple(
            Choice(f"t.{self.lib.flow_tokens[t]}", text_for(self.lib.flows[t].title, st.band)) for t in new
        )
        self.say(text, choices, "menu")

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
            self.toggled(node)

    def index_in_range(self, node: object, index: int) -> bool:
        if isinstance(node, MenuNode):
            return 0 <= index < len(node.options)
        if isinstance(node, ChoiceNode):
            return 0 <= index < len(node.choices) and self._choice_visible(node, index)
        if isinstance(node, MultiNode):
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
            elif node.address:
                try:
                    self.record(node, normalise_address(node.address, text))
                except ValueError:
                    self.reask(self.s("not_an_email" if node.address == "email" else "not_a_mobile"))
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
        if index is None or not self.index_in_range(node, index):  # typed words of a choice not offered to them
            self.reask(self.s("pick_a_button_number" if self.numbered(node) else "pick_a_button"))
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
        elif isinstance(node, ScaleNode):
            forms = [_label_forms(self._scale_label(node, v)) for v in range(1, 6)]
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

    def numbered(self, node: object) -> bool:
        """True when the node's buttons show numbers, so "type its number" makes sense."""
        if isinstance(node, ScaleNode):
            label = self._scale_label(node, 1)
            return (label.split(" ", 1)[-1] if self.faces else label)[:1].isdigit()
        if isinstance(node, ChoiceNode):
            return any(text_for(c.label, self.state.band).strip()[:1].isdigit() for c in node.choices)
        return False

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
    run = _Run(library, state.copy(), context or StepContext())
    _new_session(run.state, now)
    if not run.ctx.flagged:
        _advance(run, inbound)
        return run.result
    # The safe reply is the whole answer to a worrying message (issue 23 item 4): the step is taken as usual (a
    # typed answer is kept, quarantined by the dispatcher), but nothing else is said, and the flow picks up again
    # only when the person writes again.
    _advance(run, inbound)
    run.state.held = True
    run.result.replies.clear()
    run.result.quiet = True
    return run.result


def _advance(run: _Run, inbound: Inbound) -> None:
    st = run.state
    if st.held:
        st.held = False
        if inbound.kind == "text" and not st.paused and not run.ctx.flagged:
            run.reask(run.s("after_safe_reply"))
            return
    if inbound.kind == "command":
        _command(run, inbound.command, inbound.args)
        return
    if inbound.kind == "unsupported":
        run.reask(run.s("unsupported"))
        return
    if st.paused:
        st.paused = False
        if inbound.kind == "text":
            run.reask(run.s("welcome_back"))
            return
    if not st.profile.get("band") and st.flow_id != "welcome":
        run.show_menu()
        return
    if inbound.kind == "button":
        _button(run, inbound.payload)
    else:
        node = run.current()
        if node is None:
            run.show_menu()
        else:
            run.typed(node, inbound.text)


def _new_session(st: ConversationState, now: datetime) -> None:
    """A long gap since the last message starts a new session: the mood check-in may be asked again."""
    if st.seen_at:
        try:
            gap = now - datetime.fromisoformat(st.seen_at)
        except (TypeError, ValueError):
            gap = SESSION_GAP * 2
        if gap > SESSION_GAP:
            st.mood = None
    st.seen_at = now.isoformat()


def _flow_button(run: _Run, kind: str, tok: str) -> None:
    """"t." a topic from the list, "r." carry on a parked run, "n." start it again: valid from anywhere."""
    lib, st = run.lib, run.state
    flow_id = lib.flow_by_token.get(int(tok)) if tok.isdigit() else None
    flow = lib.flows.get(flow_id or "")
    if flow is None or st.audience not in flow.audience or st.band not in flow.bands:
        run.reask(run.s("stale_button"))
        return
    if flow.kind == "topic" and flow.id not in run.ctx.open_topics:
        run.reask(run.s("stale_button"))
        return
    if kind == "t":
        run.choose_flow(flow.id)
    elif flow.id not in st.parked and not (st.flow_id == flow.id and st.history):
        run.reask(run.s("stale_button"))
    elif kind == "r":
        run.resume(flow.id)
    else:
        run.park()
        run.start_flow(flow.id)  # closes the parked run ("restarted") and starts a new one


def _menu_button(run: _Run, flow: Flow, node_idx: int, index: int) -> bool:
    """A button from this person's menu, pressed after they moved on (e.g. a survey invitation's Start, with
    the menu sent straight after it): it still does what it says. False if it is not such a button."""
    st = run.state
    if flow.kind != "menu" or flow.id != run.lib.menu_for(st.audience).id or not 0 <= node_idx < len(flow.nodes):
        return False
    node = flow.nodes[node_idx]
    if not isinstance(node, MenuNode) or not 0 <= index < len(node.options):
        return False
    if not run._option_visible(node.options[index]):
        return False
    run.choose_menu(node, index)
    return True


def _button(run: _Run, payload: str) -> None:
    lib = run.lib
    if payload == SKIP:
        run.skip()
        return
    if payload == BACK:
        run.back()
        return
    if payload[:2] in ("t.", "r.", "n."):
        _flow_button(run, payload[0], payload[2:])
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
    if parsed is not None and (node is None or flow is None):
        pressed = lib.flows.get(lib.flow_by_token.get(parsed[0], ""))
        if pressed is not None and _menu_button(run, pressed, parsed[1], parsed[2]):
            return
    if parsed is None or node is None or flow is None:
        run.reask(run.s("stale_button"))
        return
    flow_tok, node_idx, index = parsed
    if lib.flow_by_token.get(flow_tok) != flow.id or flow.order.get(node.id) != node_idx:  # type: ignore[attr-defined]
        pressed = lib.flows.get(lib.flow_by_token.get(flow_tok, ""))
        if pressed is None or not _menu_button(run, pressed, node_idx, index):
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
        run.park()
        st.flow_id, st.node_id = None, None
        run.show_menu()
    elif command == "start":
        if st.flow_id and st.node_id and st.profile.get("band"):
            run.reask(run.s("welcome_back" if was_paused else "carry_on"))
        else:
            run.show_menu()
    else:
        run.reask(run.s("unknown_command"))
