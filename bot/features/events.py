"""Council meetings and events for young people (issue 20): the invitation with going / not going buttons,
checking in on the day (the event's QR link `/start ev_CODE`, or the short code typed as a message, or
`/checkin CODE`), and saving the
two-question evaluation sent to those who came.

Wording comes from content/strings (event_* keys) for the person's age band. Counts one check-in per person.
Must not send anything itself: hooks and effects return replies; the job (admin/jobs/events.py) queues notices.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.crypto import Keyring
from bot.dispatcher import CommandHook, Detour
from bot.engine import Effect
from bot.messages import Choice, Inbound, Outbound
from bot.settings import BotSettings
from content.loader import Library
from content.schema import text_for
from storage import events
from storage.db import Session
from storage.models import Participant

CHECK_IN_PREFIX = "ev_"  # the QR link's start parameter: ev_<short code>
RSVP_PREFIX = "ev"  # button payloads ev:<event id>:going|not_going, routed to the "button:ev" hook
EVALUATION_FLOW = "event_evaluation"
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def check_in_link(public_url: str, code: str, *, telegram_bot: str = "") -> str:
    """The link an event's QR code opens: the web chat (or, given its username, the Telegram bot) with the
    check-in code as the start parameter; opening it sends /start ev_CODE, which `commands` answers."""
    if telegram_bot:
        return f"https://t.me/{telegram_bot.lstrip('@')}?start={CHECK_IN_PREFIX}{code}"
    return f"{public_url.rstrip('/')}/?start={CHECK_IN_PREFIX}{code}"


def _say(library: Library, key: str, band: str | None, **fmt: object) -> str:
    text = text_for(library.string(key), band or "teen")
    return text.format(**fmt) if fmt else text


def when_words(view: events.EventView) -> str:
    """'Saturday 12 December at 10:30': plain, no year (invitations go out weeks ahead at most)."""
    day = f"{DAY_NAMES[view.held_on.weekday()]} {view.held_on.day} {view.held_on:%B}"
    return f"{day} at {view.start_time}" if view.start_time else day


def _fmt(view: events.EventView) -> dict[str, object]:
    return {"title": view.title, "when": when_words(view), "place": view.place or "the usual place"}


def rsvp_choices(library: Library, view: events.EventView, band: str | None) -> tuple[Choice, ...]:
    return (
        Choice(f"{RSVP_PREFIX}:{view.id}:going", _say(library, "event_going_label", band)),
        Choice(f"{RSVP_PREFIX}:{view.id}:not_going", _say(library, "event_not_going_label", band)),
    )


def invitation(library: Library, view: events.EventView, band: str | None) -> Outbound:
    """The invitation: what, when, where, with going / not going buttons that stay valid (`lasting`)."""
    return Outbound(_say(library, "event_invite", band, **_fmt(view)), rsvp_choices(library, view, band),
                    "buttons", lasting=True)


def reminder(library: Library, view: events.EventView, band: str | None, *, going: bool) -> Outbound:
    """The day-before (or same-day) reminder; those who have not replied get the buttons again."""
    if going:
        return Outbound(_say(library, "event_remind_going", band, **_fmt(view)))
    return Outbound(_say(library, "event_remind", band, **_fmt(view)), rsvp_choices(library, view, band),
                    "buttons", lasting=True)


def evaluation_invite(library: Library, view: events.EventView, band: str | None) -> Outbound:
    """After the event: two quick questions, started with a lasting button that opens the evaluation flow."""
    token = library.flow_tokens.get(EVALUATION_FLOW)
    choices = (Choice(f"t.{token}", _say(library, "event_evaluate_label", band)),) if token else ()
    return Outbound(_say(library, "event_evaluate", band, **_fmt(view)), choices,
                    "buttons" if choices else "none", lasting=bool(choices))


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()


def check_in(s: Session, library: Library, p: Participant, code: str, *, source: str, now: datetime,
             tz: str) -> Outbound:
    """Count a young person at the event with this code, on the day; the reply says what happened."""
    band = p.band
    view = events.by_code(s, code) if code else None
    if view is None or view.status == "cancelled":
        return Outbound(_say(library, "event_code_unknown", band))
    if view.status == "closed" or view.held_on != local_today(now, tz):
        return Outbound(_say(library, "event_not_today", band, **_fmt(view)))
    if p.audience != "young_person":
        return Outbound(_say(library, "event_code_unknown", band))
    first = events.check_in(s, view.id, p.id or 0, source=source, now=now)
    return Outbound(_say(library, "event_checked_in" if first else "event_already_in", band, **_fmt(view)))


def commands(keyring: Keyring, library: Library, settings: BotSettings) -> dict[str, CommandHook]:
    """Hooks for known participants: /start ev_CODE (the QR link), /checkin CODE, and the RSVP buttons."""
    del keyring
    tz = settings.timezone

    def start(s: Session, p: Participant, msg: Inbound, now: datetime) -> Detour | None:
        arg = msg.args.strip()
        if not arg.lower().startswith(CHECK_IN_PREFIX):
            return None  # an ordinary /start: the engine carries on where they were
        return Detour(replies=[check_in(s, library, p, arg[len(CHECK_IN_PREFIX):], source="qr", now=now, tz=tz)])

    def checkin(s: Session, p: Participant, msg: Inbound, now: datetime) -> Detour | None:
        code = events.normalise_code(msg.args)
        if not code:
            return Detour(replies=[Outbound(_say(library, "event_checkin_how", p.band))])
        return Detour(replies=[check_in(s, library, p, code, source="code", now=now, tz=tz)])

    def rsvp(s: Session, p: Participant, msg: Inbound, now: datetime) -> Detour | None:
        parts = msg.payload.split(":")
        if len(parts) != 3 or not parts[1].isdigit() or parts[2] not in ("going", "not_going"):
            return None
        view = events.get(s, int(parts[1]))
        if view is None or view.status != "planned" or view.held_on < local_today(now, tz):
            return Detour(replies=[Outbound(_say(library, "event_rsvp_late", p.band))])
        if not events.rsvp(s, view.id, p.id or 0, parts[2], now=now):
            return Detour(replies=[Outbound(_say(library, "event_code_unknown", p.band))])
        key = "event_rsvp_going" if parts[2] == "going" else "event_rsvp_not_going"
        return Detour(replies=[Outbound(_say(library, key, p.band, **_fmt(view)))])

    def typed(s: Session, p: Participant, msg: Inbound, now: datetime) -> Detour | None:
        """A message that is just an event's short code (as on the poster) checks in; anything else is not ours."""
        code = events.normalise_code(msg.text)
        if len(code) != events.CODE_LENGTH or set(code) - set(events.CODE_ALPHABET):
            return None
        if events.by_code(s, code) is None:
            return None
        return Detour(replies=[check_in(s, library, p, code, source="code", now=now, tz=tz)])

    return {"start": start, "checkin": checkin, "text": typed, f"button:{RSVP_PREFIX}": rsvp}


def effects(keyring: Keyring, library: Library, settings: BotSettings) -> dict[str, Any]:
    """The evaluation flow's `event_evaluation_save`: keep the answers against the event they were asked about."""
    del settings

    def save(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        event_id = events.awaiting_evaluation(s, p.id or 0)
        if event_id is None:
            return []
        raw = eff.answers.get("how_was_it")
        rating = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isdigit()) else None
        words = eff.answers.get("next_time")
        held = "next_time" in eff.answers and words is None  # quarantined by the risk check: never kept here
        sealed = keyring.encrypt(words) if isinstance(words, str) and words.strip() and words != "skip" else None
        events.save_evaluation(s, event_id=event_id, participant_id=p.id or 0, rating=rating,
                               next_time_enc=sealed, quarantined=held, band=p.band, now=now)
        return []

    return {"event_evaluation_save": save}
