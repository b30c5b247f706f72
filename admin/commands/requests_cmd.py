"""`ourvoice requests`: requests to be contacted from the command line (list, show, ack, reply, close).

Signs the staff member in and calls the same actions as the admin web (admin/actions/requests.py): the same
role, team and district rules, the same audit rows. Shows no names and no answers.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from admin.actions import requests as actions
from admin.actions.policy import ActionError, NotFound, roles_for
from admin.commands.auth_helper import StaffOpt, authenticate, refuse
from admin.commands.wiring import runtime
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(help="Requests to be contacted: people who said yes to \"may someone get in touch?\".",
                  no_args_is_help=True)
TEAMS = roles_for("request.list")


def _now() -> datetime:
    return datetime.now(UTC)


def _local(rt: Services, dt: datetime | None) -> str:
    return dt.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M") if dt else "-"


def _refused(exc: ActionError) -> typer.Exit:
    """Exit 1 for a request that is not there (or not yours to see), 2 for any other refusal."""
    if isinstance(exc, NotFound):
        typer.echo(str(exc), err=True)
        return typer.Exit(1)
    return refuse(str(exc))


@app.command("list")
def list_requests(
    staff: StaffOpt = "",
    closed: Annotated[bool, typer.Option("--closed", help="the closed ones, latest first")] = False,
) -> None:
    """Open requests in your team's queue and districts, oldest first."""
    who = authenticate(staff, roles=TEAMS)
    now = _now()
    with runtime() as rt, session(rt.engine) as s:
        rows = actions.queue(s, who, rt.settings, now=now, closed=closed)
        if not rows:
            typer.echo("no requests" if closed else "no open requests")
            return
        typer.echo(f"{'ID':>6} {'TEAM':<21} {'RECEIVED':<17} {'ACK BY':<17} {'DISTRICT':<14} {'STATUS':<13} FROM")
        for r in rows:
            status = "OVERDUE" if r.overdue else r.item.status
            typer.echo(
                f"{r.item.id:>6} {r.item.team:<21} {_local(rt, r.item.created_at):<17} {_local(rt, r.due):<17} "
                f"{(r.item.district or '-'):<14} {status:<13} {r.item.flow_id}/{r.item.question_id}"
            )


@app.command("show")
def show(request_id: int, staff: StaffOpt = "") -> None:
    """One request and what has happened to it (audited)."""
    who = authenticate(staff, roles=TEAMS)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                r = actions.show(s, who, request_id, rt.settings, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
        i = r.item
        typer.echo(f"Request {i.id} ({'OVERDUE' if r.overdue else i.status}) for {actions.TEAM_LABELS[i.team]}")
        typer.echo(f"From {i.flow_id}/{i.question_id}, district {i.district or 'unknown'}")
        typer.echo(f"Received {_local(rt, i.created_at)}, to be acknowledged by {_local(rt, r.due)}")
        if i.acknowledged_at:
            typer.echo(f"Acknowledged by {i.acknowledged_by} at {_local(rt, i.acknowledged_at)}")
        if i.replies:
            typer.echo(f"Replies: {i.replies}, the last at {_local(rt, i.last_reply_at)}")
        if i.closed_at:
            outcome = actions.OUTCOMES.get(i.outcome or "", i.outcome)
            typer.echo(f"Closed by {i.closed_by} at {_local(rt, i.closed_at)}: {outcome}")


@app.command("ack")
def ack(request_id: int, staff: StaffOpt = "") -> None:
    """Acknowledge a request (audited)."""
    who = authenticate(staff, roles=TEAMS)
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                changed = actions.acknowledge(s, who, request_id, now=_now())
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"request {request_id}: acknowledged" if changed else f"request {request_id}: already acknowledged")


@app.command("reply")
def reply(
    request_id: int,
    message: Annotated[str, typer.Option("--message", "-m", help="what to send them, in plain words")],
    staff: StaffOpt = "",
) -> None:
    """Write to the person through ourvoice, in their own chat (audited, never the words)."""
    who = authenticate(staff, roles=TEAMS)
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                actions.reply(rt.library, s, who, request_id, message=message, now=_now(),
                              reach_settings=rt.reach_settings, notify_settings=rt.notify_settings)
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"request {request_id}: reply queued to their chat")


@app.command("close")
def close(
    request_id: int,
    outcome: Annotated[str, typer.Option("--outcome", help=", ".join(actions.OUTCOMES))],
    staff: StaffOpt = "",
) -> None:
    """Close a request with its outcome (audited)."""
    who = authenticate(staff, roles=TEAMS)
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                changed = actions.close(s, who, request_id, outcome=outcome, now=_now())
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"request {request_id}: closed ({outcome})" if changed else f"request {request_id}: already closed")
