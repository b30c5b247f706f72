"""`ourvoice alerts`: list, acknowledge, close, read, break glass and reply to safeguarding alerts.

Every command signs the staff member in (`--staff USERNAME`, password from a prompt or
$OURVOICE_STAFF_PASSWORD) and calls the same actions as the admin web (admin/actions/alerts.py), so the
role and district rules and the audit rows are the same. Never logs a young person's words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated
from zoneinfo import ZoneInfo

import typer

from admin.actions import alerts as actions
from admin.actions.policy import ActionError, NotFound
from admin.commands.auth_helper import StaffOpt, authenticate, read_password, refuse
from admin.commands.wiring import runtime
from storage.db import session, utc

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(help="Safeguarding alerts: list, acknowledge, close, read (audited).", no_args_is_help=True)

QUEUE = tuple(sorted(actions.QUEUE_ROLES))
LEAD = tuple(sorted(actions.LEAD_ROLES))


def _now() -> datetime:
    return datetime.now(UTC)


def _local(rt: Services, dt: datetime | None) -> str:
    value = utc(dt)
    return value.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M") if value else "-"


def _refused(exc: ActionError) -> typer.Exit:
    """Exit 1 for an alert that is not there (or not in your districts), 2 for any other refusal."""
    if isinstance(exc, NotFound):
        typer.echo(str(exc), err=True)
        return typer.Exit(1)
    return refuse(str(exc))


def parse_at(value: str, tz: str, now: datetime) -> datetime | None:
    """`now`, an ISO time (local to the council when it has no offset), or None when blank."""
    value = value.strip()
    if not value:
        return None
    if value == "now":
        return now
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        typer.echo(f"--at {value!r} is not an ISO time such as 2026-11-24T10:30", err=True)
        raise typer.Exit(2) from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)


@app.command("list")
def list_alerts(
    staff: StaffOpt = "",
    show_all: Annotated[bool, typer.Option("--all", help="include closed alerts")] = False,
) -> None:
    """Open and acknowledged alerts in your districts (with --all, closed ones too), newest first.

    Never shows the words, nor any council case reference."""
    who = authenticate(staff, roles=QUEUE)
    with runtime() as rt, session(rt.engine) as s:
        rows = actions.list_alerts(s, who, include_closed=show_all)
        if not rows:
            typer.echo("no alerts" if show_all else "no open or acknowledged alerts")
            return
        typer.echo(f"{'REF':<18} {'STATUS':<13} {'RAISED':<17} {'LVL':>3} {'CASE':<10} {'BY':<16} CATEGORIES")
        for a in rows:
            by = a.closed_by or a.acknowledged_by or "-"
            typer.echo(
                f"{a.ref:<18} {a.status:<13} {_local(rt, a.created_at):<17} {a.level:>3} "
                f"{a.case_ref or '-':<10} {by[:16]:<16} {a.categories}"
            )


@app.command("ack")
def ack(ref: str, staff: StaffOpt = "") -> None:
    """Acknowledge an alert: stops escalation and queues the follow-up to the young person."""
    who = authenticate(staff, roles=QUEUE)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                changed = actions.acknowledge_alert(rt, s, who, ref, now=now)
                status = actions.alert_facts(s, who, ref).status
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"{ref}: acknowledged by {who.username}" if changed else f"{ref}: already {status}")


@app.command("close")
def close(
    ref: str,
    staff: StaffOpt = "",
    handled_by: Annotated[str, typer.Option("--by", help="who dealt with it (default: you)")] = "",
    outcome: Annotated[str, typer.Option(help="what was done (required)")] = "",
    at: Annotated[str, typer.Option(help="when it was dealt with (ISO; council local if no offset)")] = "now",
) -> None:
    """Close an alert with who dealt with it, an outcome and a time (all required)."""
    who = authenticate(staff, roles=QUEUE)
    now = _now()
    with runtime() as rt:
        closed_at = parse_at(at, rt.settings.timezone, now)
        by = handled_by.strip() or who.username
        try:
            with session(rt.engine) as s:
                actions.close_alert(rt, s, who, ref, handled_by=by, outcome=outcome, closed_at=closed_at, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"{ref}: closed by {by}")


@app.command("show")
def show(ref: str, staff: StaffOpt = "") -> None:
    """Show an alert with the young person's words (safeguarding leads only, as on the web); audited first."""
    who = authenticate(staff, roles=LEAD)
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                a = actions.alert_facts(s, who, ref)
                text = actions.read_alert_text(rt.keyring, s, who, ref, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
        # Shown only after the audit row has committed.
        typer.echo(f"Alert {a.ref} ({a.status}), ourvoice reference {a.case_ref or 'unknown'}")
        typer.echo(f"Raised {_local(rt, a.created_at)} on {a.channel}")
        typer.echo(f"Categories: {a.categories}")
        typer.echo(f"Escalation level {a.level}, notified {a.notified} time(s)")
        typer.echo(_invite_line(rt, a))
        typer.echo(
            "Council case reference: "
            + ("on record (reveal: ourvoice alerts reveal REF --reason ...)" if a.has_council_ref else "none on record")
        )
        if a.acknowledged_by:
            typer.echo(f"Acknowledged by {a.acknowledged_by} at {_local(rt, a.acknowledged_at)}")
        if a.closed_by:
            typer.echo(f"Closed by {a.closed_by} at {_local(rt, a.closed_at)}: {a.outcome}")
        typer.echo("")
        typer.echo("Message:")
        typer.echo(text)


def _invite_line(rt: Services, a: actions.AlertFacts) -> str:
    if a.invited_by is None:
        return "Invite: not known (joined before invites were recorded, or not a participant)"
    return f"Invite issued by {a.invited_by} on {_local(rt, a.invited_at)}"


@app.command("reveal")
def reveal(
    ref: str,
    staff: StaffOpt = "",
    reason: Annotated[str, typer.Option(help="why you need the case reference (kept in the audit log)")] = "",
) -> None:
    """Break glass: show the young person's council case reference (safeguarding leads; password again)."""
    who = authenticate(staff, roles=LEAD)
    now = _now()
    password = read_password(f"Password for {who.username} again, to reveal the case reference")
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                result = actions.reveal_council_ref(
                    rt.keyring, s, who, ref, password=password, reason=reason, ip="cli", now=now
                )
        except ActionError as exc:
            raise _refused(exc) from None
    _print_reveal(ref, result)


@app.command("reveal-review")
def reveal_review(
    ref: str,
    staff: StaffOpt = "",
    reason: Annotated[str, typer.Option(help="why you need the case reference (kept in the audit log)")] = "",
) -> None:
    """Break glass on a review statement's reference (P-...): the council case reference (safeguarding leads)."""
    from admin.actions.review_refs import reveal_review_ref

    who = authenticate(staff, roles=LEAD)
    now = _now()
    password = read_password(f"Password for {who.username} again, to reveal the case reference")
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                result = reveal_review_ref(rt.keyring, s, who, ref, password=password, reason=reason, ip="cli",
                                           now=now)
        except ActionError as exc:
            raise _refused(exc) from None
    _print_reveal(ref, result)


def _print_reveal(ref: str, result: actions.Reveal) -> None:
    """The answer to a break-glass reveal, the same for an alert's reference and a review statement's."""
    if result.reason in ("invalid", "locked"):
        raise refuse(
            "that password did not match" if result.reason == "invalid" else "too many attempts: wait 15 minutes"
        )
    if not result.ok:
        typer.echo(f"{ref}: no council case reference was given with this young person's invite")
        return
    typer.echo(f"{ref}: council case reference {result.value}")
    typer.echo("Your reveal and reason were recorded in the audit log.")


@app.command("reply")
def reply(
    ref: str,
    staff: StaffOpt = "",
    message: Annotated[str, typer.Option(help="what to say (else read from stdin)")] = "",
) -> None:
    """Write back to the young person through the bot, one to one (safeguarding leads; audited)."""
    who = authenticate(staff, roles=LEAD)
    text = message or typer.get_text_stream("stdin").read()
    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                row = actions.reply(rt, s, who, ref, message=text, now=now)
        except ActionError as exc:
            raise _refused(exc) from None
    typer.echo(f"{ref}: message queued for the young person (outbox {row}); the reply was recorded in the audit log")


@app.command("escalate")
def escalate_now(wait: Annotated[float, typer.Option(help="seconds to wait for the emails")] = 30.0) -> None:
    """Run one tick of the escalation job now (for cron, if the scheduler is not running)."""
    from admin.scheduler import JOBS, run_job

    job = next(j for j in JOBS if j.name == "alerts_escalate")
    with runtime() as rt:
        result = run_job(rt, job, now=_now())
        rt.notifier.wait_idle(wait)
        rt.notifier.stop()
    typer.echo(result or "another process already ran this minute's tick")
