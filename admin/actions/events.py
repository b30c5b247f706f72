"""Council meetings and participation events (issue 20): add, list, show, invite, take a paper register,
close. One function per staff action, called by the admin web and `ourvoice event`; each writes one audit row.

District rule as for cards: an event belongs to its area; a county-wide event (no area) may be read by every
worker and changed only by staff who cover every district. Counts shown to staff pass the disclosure layer
(`protected`): never a figure under the threshold, never one that can be worked out from the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from admin.actions.policy import (
    COUNCILS,
    DISTRICTS,
    Actor,
    Invalid,
    authorise,
    districts_of,
    may_read,
    record,
    require_own_districts,
    require_scope,
)
from content.loader import current_council
from storage import events

KINDS = events.KINDS
MAX_TOPICS = 10
MAX_UNNAMED = 500  # a register of one event: more than this is a typing slip


@dataclass(frozen=True)
class EventCounts:
    """An event's counts as staff may see them (None = hidden by the disclosure rules)."""

    invited: int | None
    going: int | None
    not_going: int | None
    no_reply: int | None
    attended: int | None
    attended_named: int | None
    unnamed: int | None
    evaluations: int | None
    ratings: dict[int, int | None]


@dataclass(frozen=True)
class EventDetail:
    event: events.EventView
    summary: events.EventSummary
    counts: EventCounts


def _date(value: str | date, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{what} {value!r} is not a date like 2026-12-01") from None


def _time(value: str | None) -> str | None:
    if not value or not value.strip():
        return None
    raw = value.strip()
    try:
        hh, mm = (int(x) for x in raw.split(":"))
    except ValueError:
        raise Invalid(f"time {raw!r} is not like 10:30") from None
    if not (0 <= hh < 24 and 0 <= mm < 60):
        raise Invalid(f"time {raw!r} is not like 10:30")
    return f"{hh:02d}:{mm:02d}"


def event_districts(s: Any, event_id: int) -> frozenset[str] | None:
    """The event's districts (ALL when county-wide), or None when there is no such event."""
    found = events.get(s, event_id)
    return districts_of(found.district) if found else None


def _bands(council: str | None, raw: list[str] | tuple[str, ...] | str | None) -> tuple[str, ...]:
    """The audience: bands named, else the council's own bands (from the council file)."""
    items = raw.split(",") if isinstance(raw, str) else list(raw or [])
    wanted = tuple(dict.fromkeys(b.strip() for b in items if b and b.strip()))
    known = {b for group in current_council().councils.values() for b in group.bands}
    bad = [b for b in wanted if b not in known]
    if bad:
        raise Invalid(f"unknown age band(s) {', '.join(bad)}: choose from {', '.join(sorted(known))}")
    if wanted:
        return wanted
    if council:
        return tuple(current_council().councils[council].bands)
    raise Invalid("choose a council or the age bands the event is for")


def add_event(
    s: Any,
    actor: Actor,
    *,
    kind: str,
    title: str,
    held_on: str | date,
    start_time: str | None = None,
    council: str | None = None,
    bands: list[str] | tuple[str, ...] | str | None = None,
    district: str | None = None,
    place: str = "",
    topics: list[str] | tuple[str, ...] | str | None = None,
    now: datetime,
) -> events.EventView:
    """Record a planned meeting or event (audited as event.add); returns it with its check-in short code."""
    authorise(actor, "event.add")
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    council = (council or "").strip() or None
    if council is not None and council not in COUNCILS:
        raise Invalid(f"unknown council {council}: choose from {', '.join(COUNCILS)}")
    if kind == "council_meeting" and council is None:
        raise Invalid("a council meeting needs its council")
    district = (district or "").strip().lower() or None
    if district is not None and district not in DISTRICTS:
        raise Invalid(f"unknown district {district}: choose from {', '.join(DISTRICTS)}")
    require_own_districts(actor, [district] if district else [], "this event")
    name = " ".join((title or "").split())
    if not name:
        name = f"{COUNCILS[council]} meeting" if council and kind == "council_meeting" else KINDS[kind].capitalize()
    raw_topics = topics.split("\n") if isinstance(topics, str) else list(topics or [])
    cleaned = tuple(t for t in (" ".join(x.split())[:120] for x in raw_topics) if t)
    if len(cleaned) > MAX_TOPICS:
        raise Invalid(f"list at most {MAX_TOPICS} topics")
    view = events.create(
        s, kind=kind, title=name, held_on=_date(held_on, "date"), start_time=_time(start_time), council=council,
        bands=_bands(council, bands), district=district, place=" ".join(place.split()), topics=cleaned,
        created_by=actor.username, now=now,
    )
    record(
        s, actor, "event.add", target=f"event:{view.id}",
        detail=f"kind={kind} on={view.held_on} district={district or 'all'} council={council or '-'}", now=now,
    )
    return view


def list_events(
    s: Any, actor: Actor, *, since: str | date | None = None, until: str | date | None = None, now: datetime
) -> list[tuple[events.EventView, EventCounts]]:
    """Events in the actor's districts (and county-wide ones), newest first (audited as event.list)."""
    authorise(actor, "event.list")
    start = _date(since, "--from") if since else None
    end = _date(until, "--to") if until else None
    views = events.list_events(s, districts=actor.scope(), start=start, end=end)
    views = [v for v in views if may_read(actor, districts_of(v.district))]
    summaries = events.summarise(s, views)
    record(s, actor, "event.list", target="events", detail=f"n={len(views)}", now=now)
    return [(v, protected(sm)) for v, sm in zip(views, summaries, strict=True)]


def show_event(s: Any, actor: Actor, event_id: int, *, now: datetime) -> EventDetail:
    """One event with its protected counts (audited as event.view); NotFound outside the actor's districts."""
    authorise(actor, "event.view")
    require_scope(actor, event_districts(s, event_id), f"event {event_id}", change=False)
    view = events.get(s, event_id)
    assert view is not None
    summary = events.summarise(s, [view])[0]
    record(s, actor, "event.view", target=f"event:{event_id}", now=now)
    return EventDetail(view, summary, protected(summary))


def invite(s: Any, actor: Actor, event_id: int, *, now: datetime) -> int:
    """Invite everyone the event is for (its bands, in its area); the job sends the invitations within
    office hours. Returns how many are new (audited as event.invite)."""
    authorise(actor, "event.invite")
    require_scope(actor, event_districts(s, event_id), f"event {event_id}", change=True)
    view = events.get(s, event_id)
    assert view is not None
    if view.status != "planned" or view.held_on < now.date():
        raise Invalid("invite people only to a planned event that has not happened yet")
    added = events.invite(s, event_id, events.eligible(s, view), now=now)
    record(s, actor, "event.invite", target=f"event:{event_id}", detail=f"new={added}", now=now)
    return added


def attend(
    s: Any, actor: Actor, event_id: int, *, refs: list[str] | str | None, unnamed: int | None, now: datetime
) -> tuple[int, list[str]]:
    """Take a paper register: the pseudonymous references of people who came (each counted once, however
    they also checked in), and the number of people on the register who are not on the bot.

    Returns (people newly counted, references not found). Audited as event.attend."""
    authorise(actor, "event.attend")
    require_scope(actor, event_districts(s, event_id), f"event {event_id}", change=True)
    view = events.get(s, event_id)
    assert view is not None
    if view.status == "cancelled":
        raise Invalid("this event was cancelled")
    items = refs.replace(",", " ").split() if isinstance(refs, str) else list(refs or [])
    if unnamed is not None and not 0 <= unnamed <= MAX_UNNAMED:
        raise Invalid(f"the number of unnamed people must be between 0 and {MAX_UNNAMED}")
    if not items and unnamed is None:
        raise Invalid("give the references of people who came, or the number of unnamed people, or both")
    added, unknown = 0, []
    for ref in dict.fromkeys(r.strip().upper() for r in items if r.strip()):
        pid = events.participant_by_ref(s, ref)
        if pid is None:
            unknown.append(ref)
            continue
        added += int(events.check_in(s, event_id, pid, source="register", now=now))
    if unknown:
        raise Invalid(f"no young person with reference {', '.join(unknown)}: nothing was recorded")
    if unnamed is not None:
        events.set_unnamed(s, event_id, unnamed)
    record(
        s, actor, "event.attend", target=f"event:{event_id}",
        detail=f"named_new={added} unnamed={'-' if unnamed is None else unnamed}", now=now,
    )
    return added, unknown


def close_event(s: Any, actor: Actor, event_id: int, *, now: datetime) -> events.EventView:
    """Close a held event: check-in ends; evaluations still arrive (audited as event.close)."""
    authorise(actor, "event.close")
    require_scope(actor, event_districts(s, event_id), f"event {event_id}", change=True)
    try:
        view = events.close(s, event_id, now=now)
    except events.EventError as exc:
        raise Invalid(str(exc)) from None
    record(s, actor, "event.close", target=f"event:{event_id}", now=now)
    return view


def protected(sm: events.EventSummary) -> EventCounts:
    """The event's counts through the disclosure layer, as one publication: replies add up to invited,
    named plus unnamed add up to attended, ratings add up to evaluations."""
    from admin.reports.disclosure import Publication

    pub = Publication()
    no_reply = max(0, sm.invited - sm.going - sm.not_going)
    replies = pub.table("replies", [[sm.going, sm.not_going, no_reply]], row_totals=True, col_totals=False,
                        grand_total=False)
    came = pub.table("came", [[sm.attended_named, sm.unnamed_attendees]], row_totals=True, col_totals=False,
                     grand_total=False)
    rated = pub.table("rated", [[sm.ratings.get(r, 0) for r in events.RATINGS]], row_totals=True,
                      col_totals=False, grand_total=False)
    # What anyone knows of how these relate (issue 19, F6): "How was it?" goes only to young people who came, so the
    # ratings never outnumber those who came (named, through the bot); and those who came by name are at most
    # those who came. Added as facts only where they hold, and the solve protects hidden counts against them.
    evaluations, named_key, attended = rated.key((0, rated.n)), came.key((0, 0)), came.key((0, came.n))
    pub.fact({evaluations: 1, named_key: -1})
    pub.fact({evaluations: 1, attended: -1})
    solved = pub.solve()
    r, c, g = solved.protected(replies), solved.protected(came), solved.protected(rated)
    going, declined, silent = r.cells[0]
    named, unnamed = c.cells[0]
    return EventCounts(
        invited=r.row_totals[0] if r.row_totals else None,
        going=going, not_going=declined, no_reply=silent,
        attended=c.row_totals[0] if c.row_totals else None, attended_named=named, unnamed=unnamed,
        evaluations=g.row_totals[0] if g.row_totals else None,
        ratings=dict(zip(events.RATINGS, g.cells[0], strict=True)),
    )
