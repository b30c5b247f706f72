"""`ourvoice event`: council meetings and participation events (add, list, show, invite, attend, close).

Signs the staff member in and calls the same actions as the admin web (admin/actions/events.py): the same
role and district rules, the same audit rows, the same protected counts. Shows no names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from admin.actions import events as actions
from admin.actions.policy import COUNCILS, DISTRICTS, ActionError, NotFound, roles_for
from admin.commands.auth_helper import StaffOpt, authenticate, refuse
from admin.commands.wiring import runtime
from admin.reports.disclosure import show as shown
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(help="Council meetings and participation events: record them, invite, take the register.",
                  no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _action() -> Iterator[tuple[Any, Any]]:
    """(runtime, session) for one action in one transaction; a refusal exits 1 (not found) or 2."""
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                yield rt, s
        except ActionError as exc:
            if isinstance(exc, NotFound):
                typer.echo(f"refused: {exc}", err=True)
                raise typer.Exit(1) from None
            raise refuse(str(exc)) from None


def check_in_link(rt: Services, code: str) -> str:
    """The link the event's QR code opens: the Telegram bot when configured, else the web chat."""
    from bot.features.events import check_in_link as link

    return link(rt.settings.public_url, code)


@app.command("add")
def add(
    kind: Annotated[str, typer.Argument(help=" | ".join(actions.KINDS))],
    on: Annotated[str, typer.Option("--on", help="the date, like 2026-12-12")],
    staff: StaffOpt = "",
    title: Annotated[str, typer.Option("--title", help="a short name (default from the kind)")] = "",
    at: Annotated[str, typer.Option("--at", help="start time, like 10:30")] = "",
    council: Annotated[str, typer.Option("--council", help=" | ".join(COUNCILS))] = "",
    bands: Annotated[str, typer.Option("--bands", help="age bands, comma-separated (default: the council's)")] = "",
    district: Annotated[str, typer.Option("--district", help=" | ".join(DISTRICTS) + " (none: county-wide)")] = "",
    place: Annotated[str, typer.Option("--place", help="where it is")] = "",
    topic: Annotated[list[str] | None, typer.Option("--topic", help="a topic discussed (repeat)")] = None,
) -> None:
    """Record a planned council meeting or event; prints its id, check-in code and link."""
    who = authenticate(staff, roles=roles_for("event.add"))
    with _action() as (rt, s):
        view = actions.add_event(
            s, who, kind=kind, title=title, held_on=on, start_time=at, council=council, bands=bands,
            district=district, place=place, topics=topic or [], now=_now(),
        )
        link = check_in_link(rt, view.short_code)
    typer.echo(f"event {view.id}: {view.title} on {view.held_on} ({view.district or 'county-wide'})")
    typer.echo(f"check-in code {view.short_code}  link {link}")


@app.command("list")
def list_events(
    staff: StaffOpt = "",
    since: Annotated[str, typer.Option("--from", help="held on or after, like 2026-04-01")] = "",
    until: Annotated[str, typer.Option("--to", help="held on or before")] = "",
) -> None:
    """Events in your districts (and county-wide ones), newest first, with protected counts."""
    who = authenticate(staff, roles=roles_for("event.list"))
    with _action() as (_rt, s):
        rows = actions.list_events(s, who, since=since or None, until=until or None, now=_now())
    if not rows:
        typer.echo("no events")
        return
    typer.echo(f"{'ID':>5} {'DATE':<10} {'KIND':<16} {'AREA':<14} {'STATUS':<9} {'CAME':>5}  TITLE")
    for v, c in rows:
        typer.echo(f"{v.id:>5} {v.held_on.isoformat():<10} {v.kind:<16} {(v.district or 'county-wide'):<14} "
                   f"{v.status:<9} {shown(c.attended):>5}  {v.title}")
    typer.echo("not shown: fewer than 5, or hidden so that a smaller number cannot be worked out")


@app.command("show")
def show(event_id: int, staff: StaffOpt = "") -> None:
    """One event: when, where, who it is for, its check-in code and link, replies, attendance, ratings."""
    who = authenticate(staff, roles=roles_for("event.view"))
    with _action() as (rt, s):
        d = actions.show_event(s, who, event_id, now=_now())
        link = check_in_link(rt, d.event.short_code)
    e, c = d.event, d.counts
    council = COUNCILS.get(e.council or "", "-")
    typer.echo(f"Event {e.id}: {e.title} ({actions.KINDS[e.kind]}), {e.status}")
    typer.echo(f"When: {e.held_on}{' at ' + e.start_time if e.start_time else ''}   Where: {e.place or '-'}, "
               f"{DISTRICTS.get(e.district or '', 'county-wide')}")
    typer.echo(f"Council: {council}   For: {', '.join(e.bands) or '-'}")
    typer.echo(f"Topics: {'; '.join(e.topics) or '-'}")
    typer.echo(f"Check-in code: {e.short_code}   link: {link}")
    typer.echo(f"Invited {shown(c.invited)}: going {shown(c.going)}, not going {shown(c.not_going)}, "
               f"no reply {shown(c.no_reply)}")
    typer.echo(f"Came: {shown(c.attended)} ({shown(c.attended_named)} on the bot, {shown(c.unnamed)} unnamed)")
    typer.echo(f"Evaluations: {shown(c.evaluations)}   How was it (1-5): "
               + ", ".join(f"{r}: {shown(n)}" for r, n in c.ratings.items()))


@app.command("invite")
def invite(event_id: int, staff: StaffOpt = "") -> None:
    """Invite everyone the event is for through the bot (sent by the job, outside quiet hours)."""
    who = authenticate(staff, roles=roles_for("event.invite"))
    with _action() as (_rt, s):
        added = actions.invite(s, who, event_id, now=_now())
    typer.echo(f"{added} new invitations queued for event {event_id}")


@app.command("attend")
def attend(
    event_id: int,
    staff: StaffOpt = "",
    ref: Annotated[list[str] | None, typer.Option("--ref", help="a young person's reference (repeat)")] = None,
    unnamed: Annotated[int | None, typer.Option("--unnamed", help="people on the register not on the bot")] = None,
) -> None:
    """Take a paper register: references of those who came, and how many unnamed people came."""
    who = authenticate(staff, roles=roles_for("event.attend"))
    with _action() as (_rt, s):
        added, _unknown = actions.attend(s, who, event_id, refs=ref or [], unnamed=unnamed, now=_now())
    typer.echo(f"register taken for event {event_id}: {added} newly counted"
               + ("" if unnamed is None else f", {unnamed} unnamed"))


@app.command("close")
def close(event_id: int, staff: StaffOpt = "") -> None:
    """Close a held event: no more check-ins (evaluations still come in)."""
    who = authenticate(staff, roles=roles_for("event.close"))
    with _action() as (_rt, s):
        view = actions.close_event(s, who, event_id, now=_now())
    typer.echo(f"event {view.id} closed")
