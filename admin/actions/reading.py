"""The "To read" queue actions, shared by the admin web and `ourvoice toread`: list (risk-first), open an entry
(audited), mark it read, or turn it into a safeguarding alert in one step; and when an entry is due.

Each action checks the actor's role and districts (an entry outside them is reported as not found) and writes
its one audit row. Nothing here renders HTML, prints, reads the clock or logs anything a person wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from admin.actions.policy import Actor, Forbidden, Invalid, NotFound, record
from bot.alerts import AlertNotice, new_alert_ref
from bot.settings import REVIEW_WITHIN
from bot.working_days import is_working_day, next_working_day
from storage import alerts as alert_store
from storage import participants
from storage import reading as store
from storage.reading import ReadingView

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("ourvoice.actions.reading")

READER_ROLES = frozenset({"participation_worker", "participation_manager", "safeguarding_lead"})
STAFF_CATEGORY = "raised_by_staff"  # the category of an alert raised from the queue


def due_at(created: datetime, within: str, tz: str, holidays: str = "GB-ENG") -> datetime:
    """When an entry queued at `created` must have been read (aware UTC).

    "<n> working days": the same local time n working days (Mon-Fri in `tz`, less the public holidays of
    `holidays`, see bot/working_days.py) later; an entry queued on a day off counts from the start of the
    next working day. "<n>h": n clock hours, holidays or not.
    """
    m = REVIEW_WITHIN.fullmatch(within.strip().lower())
    if m is None:
        raise ValueError(f"review window {within!r} is not like '1 working day' or '4h'")
    n = int(m.group(1))
    if m.group(2) == "h":
        return created + timedelta(hours=n)
    local = created.astimezone(ZoneInfo(tz))
    if not is_working_day(local.date(), holidays):  # a weekend or bank holiday: the clock starts next morning
        start = next_working_day(local.date(), holidays)
        local = datetime.combine(start, datetime.min.time(), tzinfo=local.tzinfo)
    day = local.date()
    for _ in range(n):
        day = next_working_day(day, holidays)
    # Rebuilt from the wall-clock time so a clock change in between keeps the same local time.
    due = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=ZoneInfo(tz))
    return due.astimezone(created.tzinfo or ZoneInfo("UTC"))


@dataclass(frozen=True)
class Entry:
    """A queue entry with its deadline, as the list pages show it (never the words)."""

    item: ReadingView
    due: datetime
    overdue: bool
    card_id: int | None = None


def _allowed(actor: Actor) -> None:
    if actor.role not in READER_ROLES:
        raise Forbidden(f"a {actor.role} cannot read young people's messages")


def _entry(s: Any, actor: Actor, entry_id: int) -> ReadingView:
    _allowed(actor)
    item = store.get(s, entry_id)
    if item is None or not actor.sees(item.district):
        raise NotFound(f"no entry {entry_id} to read")
    return item


def _with_due(
    s: Any, item: ReadingView, *, within: str, tz: str, now: datetime, holidays: str = "GB-ENG"
) -> Entry:
    due = due_at(item.created_at, within, tz, holidays)
    return Entry(item, due, item.read_at is None and now >= due, store.card_of(s, item.id))


def queue(
    s: Any, actor: Actor, *, within: str, tz: str, now: datetime, limit: int = 500, holidays: str = "GB-ENG"
) -> list[Entry]:
    """Unread entries in the actor's districts: highest risk score first, then oldest first."""
    _allowed(actor)
    items = store.unread(s, districts=actor.scope(), limit=limit)
    return [_with_due(s, i, within=within, tz=tz, now=now, holidays=holidays) for i in items]


def recently_read(
    s: Any, actor: Actor, *, within: str, tz: str, now: datetime, limit: int = 30, holidays: str = "GB-ENG"
) -> list[Entry]:
    """Entries already read or alerted in the actor's districts, latest first."""
    _allowed(actor)
    items = store.recently_read(s, districts=actor.scope(), limit=limit)
    return [_with_due(s, i, within=within, tz=tz, now=now, holidays=holidays) for i in items]


def show(
    keyring: Any, s: Any, actor: Actor, entry_id: int, *, within: str, tz: str, now: datetime, holidays: str = "GB-ENG"
) -> tuple[Entry, str]:
    """One entry with its words; writes one audit row (toread.view) per view, before the words are returned."""
    item = _entry(s, actor, entry_id)
    plain, sealed = store.words(s, entry_id)
    record(s, actor, "toread.view", target=f"toread:{entry_id}", now=now)
    words = keyring.decrypt(sealed) if sealed else (plain or "(the words are no longer kept)")
    return _with_due(s, item, within=within, tz=tz, now=now, holidays=holidays), words


def mark_read(s: Any, actor: Actor, entry_id: int, *, now: datetime) -> bool:
    """Mark an entry read (audited as toread.read); False, writing nothing, when it was already read."""
    item = _entry(s, actor, entry_id)
    if not store.mark_read(s, item.id, by=actor.username, now=now):
        return False
    record(s, actor, "toread.read", target=f"toread:{entry_id}", now=now)
    return True


def to_alert(rt: Services, s: Any, actor: Actor, entry_id: int, *, now: datetime) -> str:
    """Turn an entry into a safeguarding alert in one step; returns the alert reference.

    The alert keeps the words encrypted (as a flagged message's alert does) and the duty rota gets the
    normal alert email: references and times only, never the words. The answer is then quarantined like a
    flagged one (encrypted only, no quote, no card shown to others). Audited as toread.alert.
    """
    item = _entry(s, actor, entry_id)
    if item.alert_ref:
        return item.alert_ref
    plain, sealed = store.words(s, entry_id)
    text_enc = sealed or (rt.keyring.encrypt(plain) if plain else None)
    person = store.participant_of(s, entry_id)
    ref = new_alert_ref(now)
    alert = alert_store.create(
        s,
        alert_ref=ref,
        participant_id=person.id if person else None,
        case_ref=person.case_ref if person else None,
        channel=_channel_of(s, person),
        categories=[STAFF_CATEGORY],
        text_enc=text_enc,
        now=now,
        notified=True,
    )
    if not store.mark_alerted(s, item.id, by=actor.username, now=now, alert_ref=ref):
        raise Invalid(f"an alert was raised from entry {entry_id} by someone else a moment ago")
    # From now on these words are a disclosure: out of quotes, reports and other young people's view.
    store.quarantine(s, item.id, sealed=text_enc, by=actor.username, now=now)
    record(s, actor, "toread.alert", target=f"toread:{entry_id}", detail=f"alert={ref}", now=now)
    # Sent before the commit on purpose, like the escalation job: a duplicate email beats a missed one.
    rt.notifier.notify(
        AlertNotice(
            alert_ref=ref,
            categories=(STAFF_CATEGORY,),
            at=now.astimezone(ZoneInfo(rt.settings.timezone)).isoformat(timespec="minutes"),
            case_ref=alert.case_ref or "",
            admin_url=f"{rt.settings.public_url}/admin/alerts/{ref}",
            council_ref=person is not None and person.council_ref_enc is not None,
        )
    )
    log.warning("toread.alerted entry=%s ref=%s", entry_id, ref)
    return ref


def _channel_of(s: Any, person: Any) -> str:
    idents = participants.addresses(s, person.id) if person is not None else []
    return idents[0].channel if idents else "unknown"
