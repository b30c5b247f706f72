"""Requests to be contacted (issue 25), shared by the admin web and `ourvoice requests`: each team's queue,
one request, acknowledge, reply to the person through the bot, close with an outcome.

A request is filed by the `contact_requests` job when someone says Yes to a question marked `contact:` (their
consent, given in that moment). It is in one team's queue: carers' in the fostering team's, young people's in
their district's participation worker's; the participation manager sees both. A request of another team, or
outside the actor's districts, is reported as not found. Each action writes its one audit row; nothing here
renders, prints, reads the clock or logs what anyone wrote.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from admin.actions.policy import Actor, Invalid, NotFound, authorise, record
from admin.actions.reading import due_at
from bot import notify, reach
from bot.messages import Outbound
from bot.notify import NotifySettings
from bot.reach import ReachSettings
from content.schema import text_for
from storage import contact_requests as store
from storage import notify_store
from storage.contact_requests import TEAM_OF_AUDIENCE, RequestView

log = logging.getLogger("ourvoice.actions.requests")

# Which queues each role works (the participation manager covers both).
QUEUES_OF_ROLE: dict[str, tuple[str, ...]] = {
    "fostering_team": ("fostering_team",),
    "participation_worker": ("participation_worker",),
    "participation_manager": ("fostering_team", "participation_worker"),
}
TEAM_LABELS = {"fostering_team": "Fostering team", "participation_worker": "Participation workers"}
OUTCOMES: dict[str, str] = {
    "spoke_to_them": "We spoke to them",
    "replied_in_chat": "Answered in the chat",
    "no_answer": "Could not reach them",
    "no_longer_needed": "They no longer wanted contact",
    "passed_on": "Passed to another team",
}
REPLY_MAX = 1000
SKIPPED = {
    "paused": "they have paused ourvoice, so nothing is sent to them until they come back; try again later",
    "daily_cap": "they have had as many messages from ourvoice as they should get for the next two weeks",
    "too_long": "the message is too long for their chat app",
}


@dataclass(frozen=True)
class Request:
    """A request with its service level, as the queue pages show it (never who the person is)."""

    item: RequestView
    due: datetime
    overdue: bool


def team_for(audience: str) -> str | None:
    """The team whose queue a request from someone in `audience` goes to (None: nobody's, so not filed)."""
    return TEAM_OF_AUDIENCE.get(audience)


def _window(settings: Any) -> dict[str, str]:
    return {"within": settings.request_within, "tz": settings.timezone, "holidays": settings.bank_holidays}


def _with_due(item: RequestView, settings: Any, now: datetime) -> Request:
    due = due_at(item.created_at, **_window(settings))
    return Request(item, due, item.closed_at is None and item.acknowledged_at is None and now >= due)


def _request(s: Any, actor: Actor, request_id: int, action: str) -> RequestView:
    authorise(actor, action)
    item = store.get(s, request_id)
    if item is None or item.team not in QUEUES_OF_ROLE.get(actor.role, ()) or not actor.sees(item.district):
        raise NotFound(f"no request {request_id}")
    return item


def queue(s: Any, actor: Actor, settings: Any, *, now: datetime, closed: bool = False) -> list[Request]:
    """Open requests in the actor's queues and districts, oldest first, or with `closed` the closed ones,
    latest first (audited as request.list: the list says who asked, by district, and when)."""
    authorise(actor, "request.list")
    items = store.listing(
        s, teams=QUEUES_OF_ROLE.get(actor.role, ()), districts=actor.scope(), open_only=not closed
    )
    record(s, actor, "request.list", target="requests", detail="closed" if closed else "open", now=now)
    return [_with_due(i, settings, now) for i in items]


def recently_closed(s: Any, actor: Actor, settings: Any, *, now: datetime, limit: int = 30) -> list[Request]:
    """The closed requests shown under the open ones on the same page (its one request.list row covers them)."""
    authorise(actor, "request.list")
    items = store.listing(
        s, teams=QUEUES_OF_ROLE.get(actor.role, ()), districts=actor.scope(), open_only=False, limit=limit
    )
    return [_with_due(i, settings, now) for i in items]


def show(s: Any, actor: Actor, request_id: int, settings: Any, *, now: datetime) -> Request:
    """One request (audited as request.view)."""
    item = _request(s, actor, request_id, "request.view")
    record(s, actor, "request.view", target=f"request:{request_id}", now=now)
    return _with_due(item, settings, now)


def acknowledge(s: Any, actor: Actor, request_id: int, *, now: datetime) -> bool:
    """Say the team has seen it (audited as request.ack); False, writing nothing, when it already was."""
    item = _request(s, actor, request_id, "request.ack")
    if item.closed_at is not None or not store.acknowledge(s, item.id, by=actor.username, now=now):
        return False
    record(s, actor, "request.ack", target=f"request:{request_id}", now=now)
    return True


def reply(
    library: Any, s: Any, actor: Actor, request_id: int, *, message: str, now: datetime,
    reach_settings: ReachSettings | None = None, notify_settings: NotifySettings | None = None,
) -> int:
    """Write to the person through the bot, on their own channel, after a short introduction saying which team
    it is from (audited as request.reply, never the words). Returns the outbox row id. With Notify set up, a short
    note ("you have a reply: open ourvoice", never the words) also goes to the address they gave for this request,
    or else to the addresses they gave in My stuff.

    Under the one rule for messages sent first: in their quiet hours or past the daily cap it is held until it
    may go; to someone who has paused ourvoice it is refused, saying so."""
    item = _request(s, actor, request_id, "request.reply")
    message = message.strip()
    if not message:
        raise Invalid("write the message to send")
    if len(message) > REPLY_MAX:
        raise Invalid(f"keep the message under {REPLY_MAX} characters")
    if item.closed_at is not None:
        raise Invalid(f"request {request_id} is closed")
    rules = reach_settings or ReachSettings()
    person = store.participant_of(s, request_id)
    intro = text_for(library.string(f"request_reply_intro_{item.team}"), (person.band if person else None) or "default")
    payload = Outbound(text=f"{intro}\n\n{message}", meta={"kind": "notice", "notice": "staff_reply"})
    # A reply is a message sent first: the one rule (bot/reach.py) holds it through quiet hours and the daily cap.
    planned = reach.plan(s, person.id, payload, purpose="staff_reply", now=now, settings=rules) if (
        person is not None and person.id is not None) else None
    if planned is None:
        raise Invalid("this person cannot be reached through ourvoice (no longer taking part)")
    if not planned.decision.goes:
        raise Invalid(SKIPPED.get(planned.decision.reason, "ourvoice cannot send this to them now"))
    row_id = reach.queue(s, planned, payload, purpose="staff_reply", now=now)
    assert row_id is not None
    if notify_settings is not None:
        only_this = item.id if notify_store.for_request(s, item.id) else None
        notify.notify_first(s, person.id, f"reply_{item.team}", purpose="staff_reply", now=now,  # type: ignore[union-attr,arg-type]
                            reach_settings=rules, settings=notify_settings, request_id=only_this)
    store.note_reply(s, item.id, by=actor.username, now=now)
    held = planned.decision.action == "hold"
    when = f"held_until={planned.decision.at.isoformat(timespec='minutes')}" if held else "now"
    record(s, actor, "request.reply", target=f"request:{request_id}", detail=f"channel={planned.channel} {when}",
           now=now)
    log.info("request.reply_queued request=%s channel=%s", request_id, planned.channel)
    return int(row_id)


def close(s: Any, actor: Actor, request_id: int, *, outcome: str, now: datetime) -> bool:
    """Close a request with one of OUTCOMES (audited as request.close); False when it was already closed."""
    item = _request(s, actor, request_id, "request.close")
    if outcome not in OUTCOMES:
        raise Invalid(f"choose an outcome: {', '.join(OUTCOMES)}")
    if not store.close(s, item.id, by=actor.username, outcome=outcome, now=now):
        return False
    notify_store.remove_for_request(s, item.id)  # an address given for this request alone goes with it
    record(s, actor, "request.close", target=f"request:{request_id}", detail=f"outcome={outcome}", now=now)
    return True
