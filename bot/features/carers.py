"""Foster carer survey waves, participant side: invitation and reminder wording, resume position, the
"stop reminders" effect, wave settings and checking staff-entered answers.

Builds Outbound values and reads storage through query functions; never sends anything itself (the job
writes outbox rows) and never changes a conversation's state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.crypto import Keyring
from bot.engine import ConversationState, Effect, step
from bot.messages import Choice, Inbound, Outbound
from bot.settings import BotSettings
from content.loader import YESNO_IDS, Library
from content.schema import (
    QUESTION_TYPES,
    ChoiceNode,
    Flow,
    MenuNode,
    MultiNode,
    SayNode,
    ScaleNode,
    TextNode,
    YesNoNode,
    text_for,
)
from storage import waves
from storage.db import Session
from storage.models import Participant

BAND = "carer"
SUBMIT_NODE = "submit"  # the closing "Send my answers" question: not numbered for carers
SECTION_PREFIX = "section_"


class WaveSettings(BaseSettings):
    """Reminder policy and the weekly digest (OURVOICE_SURVEY_*)."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_SURVEY_", env_file=".env", extra="ignore")

    reminder_days: str = Field(default="3,7", description="days after the invitation for each reminder")
    max_reminders: int = Field(default=2, ge=0, le=10)
    quiet_hours: str = Field(default="21:00-08:00", description="local times when nothing is sent")
    timezone: str = "Europe/London"
    min_gap_hours: int = Field(default=24, ge=0, description="at least this long between two notices")
    skip_if_active_hours: int = Field(default=6, ge=0, description="no reminder while someone is mid-chat")
    digest_to: str = Field(default="", description="comma-separated fostering team addresses")
    digest_from: str = ""

    @field_validator("reminder_days")
    @classmethod
    def _days(cls, v: str) -> str:
        try:
            days = [float(d) for d in v.split(",") if d.strip()]
        except ValueError as exc:
            raise ValueError("must look like 3,7") from exc
        if any(d <= 0 for d in days) or days != sorted(days):
            raise ValueError("must be positive and increasing, like 3,7")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if v.strip():
            try:
                start, end = v.split("-")
                time.fromisoformat(start.strip())
                time.fromisoformat(end.strip())
            except ValueError as exc:
                raise ValueError("must look like 21:00-08:00 (or be empty for none)") from exc
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        ZoneInfo(v)
        return v

    def days(self) -> list[timedelta]:
        """The reminder offsets from the invitation, capped at max_reminders."""
        offsets = [timedelta(days=float(d)) for d in self.reminder_days.split(",") if d.strip()]
        return offsets[: self.max_reminders]

    def recipients(self) -> list[str]:
        return [a.strip() for a in self.digest_to.split(",") if a.strip()]


def in_quiet_hours(now: datetime, settings: WaveSettings) -> bool:
    """True when `now` (aware) falls in the quiet hours in the council's time zone; wraps past midnight."""
    if not settings.quiet_hours.strip():
        return False
    start_s, end_s = settings.quiet_hours.split("-")
    start, end = time.fromisoformat(start_s.strip()), time.fromisoformat(end_s.strip())
    t = now.astimezone(ZoneInfo(settings.timezone)).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end


def local_midnight(day: date, tz: str) -> datetime:
    """00:00 on `day` in the council's time zone, as an aware datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


# -- where someone is in a questionnaire --------------------------------------------------------


@dataclass(frozen=True)
class Position:
    number: int  # 1-based question number, as carers count them
    total: int
    section: str  # the wording of the last section heading before the question ("" if none)


def numbered_questions(flow: Flow) -> list[str]:
    """Question ids in file order, leaving out the closing 'send' step."""
    return [n.id for n in flow.nodes if isinstance(n, QUESTION_TYPES) and n.id != SUBMIT_NODE]


def position(flow: Flow, node_id: str) -> Position | None:
    """Question number, total and section heading for a node; None if it isn't a numbered question."""
    numbered = numbered_questions(flow)
    if node_id not in numbered:
        return None
    section = ""
    for n in flow.nodes:
        if n.id == node_id:
            break
        if isinstance(n, SayNode) and n.id.startswith(SECTION_PREFIX):
            section = text_for(n.text, BAND)
    return Position(numbered.index(node_id) + 1, len(numbered), section)


# -- wording ------------------------------------------------------------------------------------


def _s(library: Library, key: str, **fmt: object) -> str:
    text = text_for(library.string(key), BAND)
    return text.format(**fmt) if fmt else text


def _title(flow: Flow) -> str:
    title = text_for(flow.title, BAND)
    return title[0].lower() + title[1:] if len(title) > 1 and title[1].islower() else title


def _closes(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def minutes_for(flow: Flow) -> int:
    """A fair estimate of how long the questionnaire takes (about 20 seconds a question)."""
    return max(2, round(len(numbered_questions(flow)) * 0.3))


def start_token(library: Library, flow_id: str) -> str | None:
    """The carer menu's button token that starts `flow_id`, so a notice can carry a working Start button."""
    menu = library.flows.get("menu_carer")
    if menu is None:
        return None
    for node in menu.nodes:
        if isinstance(node, MenuNode):
            for i, opt in enumerate(node.options):
                if opt.flow == flow_id:
                    return f"{library.flow_tokens[menu.id]}.{menu.order[node.id]}.{i}"
    return None


def _start_choices(library: Library, flow_id: str) -> tuple[Choice, ...]:
    token = start_token(library, flow_id)
    return (Choice(token, _s(library, "survey_start_label")),) if token else ()


def _fmt(library: Library, wave: waves.WaveView) -> dict[str, object]:
    flow = library.flows[wave.questionnaire_id]
    return {"title": _title(flow), "closes": _closes(wave.closes_on), "minutes": minutes_for(flow)}


def invitation(library: Library, wave: waves.WaveView) -> Outbound:
    """The first notice of a wave: what it is, until when, how long, and a Start button.

    The Start button is `lasting`: it starts the survey from the carer menu, so it stays valid however many
    messages come after it (a carer often reads the invitation days later, below other replies)."""
    choices = _start_choices(library, wave.questionnaire_id)
    text = _s(library, "survey_invite", **_fmt(library, wave))
    return Outbound(text, choices, "buttons" if choices else "none", lasting=bool(choices))


def reminder(
    library: Library,
    wave: waves.WaveView,
    state_json: Mapping[str, Any] | None,
    *,
    started: bool,
    now: datetime,
) -> tuple[str, Outbound]:
    """(kind, message) for a reminder: 'resume' re-asks the exact question someone stopped at, with its
    buttons; 'restart' is for someone who left the questionnaire part-way; 'start' for someone who hasn't
    begun."""
    fmt = _fmt(library, wave)
    flow = library.flows[wave.questionnaire_id]
    state = ConversationState.from_json(dict(state_json) if state_json else None)
    if state.flow_id == flow.id and state.node_id and not state.paused:
        pos = position(flow, state.node_id)
        if pos is not None:
            state.profile.setdefault("band", BAND)
            state.profile.setdefault("audience", "carer")
            # The engine's own re-ask (as for /start) gives the question with buttons that answer it.
            result = step(library, state, Inbound("notice", "", "", "command", command="start"), now=now)
            asked = result.replies[-1]
            body = asked.text
            carry_on = _s(library, "carry_on")
            if body.startswith(carry_on):
                body = body[len(carry_on):].lstrip()
            section = pos.section or _title(flow)
            head = _s(library, "survey_remind_resume", number=pos.number, total=pos.total, section=section,
                      **fmt)
            return "resume", Outbound(f"{head}\n\n{body}", asked.choices, asked.layout)
    choices = _start_choices(library, flow.id)
    layout = "buttons" if choices else "none"
    lasting = bool(choices)  # a menu Start, valid after later messages (as on the invitation)
    if started:
        return "restart", Outbound(_s(library, "survey_remind_restart", **fmt), choices, layout, lasting=lasting)
    return "start", Outbound(_s(library, "survey_remind_start", **fmt), choices, layout, lasting=lasting)


# -- the "stop reminders" menu option -----------------------------------------------------------


def effects(keyring: Keyring, library: Library, settings: BotSettings) -> dict[str, Any]:
    """Effect handlers this feature contributes to the dispatcher."""
    del keyring, settings

    def reminders_off(s: Session, participant: Participant, effect: Effect, now: datetime) -> list[Outbound]:
        del effect
        changed = waves.opt_out(s, participant.id, now=now)  # type: ignore[arg-type]
        key = "survey_reminders_off_done" if changed else "survey_reminders_off_none"
        return [Outbound(_s(library, key))]

    return {"survey_reminders_off": reminders_off}


# -- answers taken by phone or on paper ---------------------------------------------------------


@dataclass(frozen=True)
class StaffAnswer:
    question_id: str
    value: Any
    skipped: bool
    free_text: bool


def check_answers(flow: Flow, data: Mapping[str, Any]) -> list[StaffAnswer]:
    """Validate a {question_id: value} mapping against a questionnaire; raise ValueError naming every problem.

    Values: choice id (choice), list of choice ids (multi), 1-5 (scale), yes/no/not_sure (yesno),
    words (text); null or "skip" means the carer left it blank. Unknown question ids are refused.
    """
    problems: list[str] = []
    out: list[StaffAnswer] = []
    questions = {n.id: n for n in flow.nodes if isinstance(n, QUESTION_TYPES) and n.id != SUBMIT_NODE}
    for qid in data:
        if qid not in questions:
            problems.append(f"{qid}: not a question in {flow.id}")
    for qid, node in questions.items():
        if qid not in data:
            continue
        value = data[qid]
        if value is None or value == "skip":
            out.append(StaffAnswer(qid, None, True, False))
            continue
        if isinstance(node, ChoiceNode):
            ok = isinstance(value, str) and value in {c.id for c in node.choices}
        elif isinstance(node, MultiNode):
            ids = [c.id for c in node.choices]
            ok = isinstance(value, list) and bool(value) and all(v in ids for v in value)
            if ok:
                value = sorted(set(value), key=ids.index)
        elif isinstance(node, ScaleNode):
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 5
        elif isinstance(node, YesNoNode):
            ok = value in (YESNO_IDS if node.not_sure else YESNO_IDS[:2])
        elif isinstance(node, TextNode):
            ok = isinstance(value, str) and bool(value.strip()) and len(value) <= node.max_length
        else:  # pragma: no cover - QUESTION_TYPES is exhaustive
            ok = False
        if not ok:
            kind = type(node).__name__.removesuffix("Node").lower()
            problems.append(f"{qid}: {value!r} is not a valid {kind} answer")
            continue
        out.append(StaffAnswer(qid, value, False, isinstance(node, TextNode)))
    if problems:
        raise ValueError("; ".join(problems))
    return out
