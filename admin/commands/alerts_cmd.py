"""`ourvoice alerts`: list, acknowledge, close and read safeguarding alerts from the command line.

Uses the same storage functions as the admin web (closing without name, outcome and time is refused
there, not here); reading an alert's text writes an audit row first. Never logs the text.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from admin.commands.wiring import runtime
from storage import alerts as alert_store
from storage import audit
from storage.alerts import AlertCloseRefused
from storage.db import session, utc

app = typer.Typer(help="Safeguarding alerts: list, acknowledge, close, read (audited).", no_args_is_help=True)




def _now() -> datetime:
    return datetime.now(UTC)


def _local(rt: Any, dt: datetime | None) -> str:
    value = utc(dt)
    return value.astimezone(ZoneInfo(rt.settings.timezone)).strftime("%Y-%m-%d %H:%M") if value else "-"


def _find(s: Any, ref: str) -> Any:
    alert = alert_store.get(s, ref.strip().upper())
    if alert is None:
        typer.echo(f"no alert {ref}", err=True)
        raise typer.Exit(1)
    return alert


def _refused(exc: AlertCloseRefused) -> typer.Exit:
    typer.echo(f"refused: {exc}", err=True)
    return typer.Exit(2)


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
    show_all: Annotated[bool, typer.Option("--all", help="include closed alerts")] = False,
) -> None:
    """Open and acknowledged alerts (with --all, closed ones too), newest first. Never shows the text."""
    with runtime() as rt, session(rt.engine) as s:
        rows = [a for a in alert_store.all_alerts(s) if show_all or a.status != "closed"]
        if not rows:
            typer.echo("no alerts" if show_all else "no open or acknowledged alerts")
            return
        typer.echo(f"{'REF':<18} {'STATUS':<13} {'RAISED':<17} {'LVL':>3} {'CASE':<10} {'BY':<16} CATEGORIES")
        for a in rows:
            by = a.closed_by or a.acknowledged_by or "-"
            typer.echo(
                f"{a.alert_ref:<18} {a.status:<13} {_local(rt, a.created_at):<17} {a.escalation_level:>3} "
                f"{a.case_ref or '-':<10} {by[:16]:<16} {a.categories}"
            )


@app.command("ack")
def ack(ref: str, staff: Annotated[str, typer.Option(help="your name (required)")] = "") -> None:
    """Acknowledge an alert: stops escalation and queues the follow-up to the young person."""
    from admin.jobs.alerts import queue_followups

    now = _now()
    with runtime() as rt:
        try:
            with session(rt.engine) as s:
                alert = _find(s, ref)
                changed = alert_store.acknowledge(s, alert, staff=staff, now=now)
                if changed:
                    audit.record(s, actor=staff.strip(), action="alert.ack", target=alert.alert_ref, now=now)
                queue_followups(rt, s, now=now)
                status = alert.status
        except AlertCloseRefused as exc:
            raise _refused(exc) from None
    typer.echo(f"{ref}: acknowledged by {staff.strip()}" if changed else f"{ref}: already {status}")


@app.command("close")
def close(
    ref: str,
    staff: Annotated[str, typer.Option(help="your name (required)")] = "",
    outcome: Annotated[str, typer.Option(help="what was done (required)")] = "",
    at: Annotated[str, typer.Option(help="when it was dealt with (ISO; council local if no offset)")] = "now",
) -> None:
    """Close an alert with a named staff member, an outcome and a time (all required)."""
    from admin.jobs.alerts import queue_followups

    now = _now()
    with runtime() as rt:
        closed_at = parse_at(at, rt.settings.timezone, now)
        try:
            with session(rt.engine) as s:
                alert = _find(s, ref)
                alert_store.close(s, alert, staff=staff, outcome=outcome, closed_at=closed_at)
                audit.record(
                    s, actor=staff.strip(), action="alert.close", target=alert.alert_ref,
                    detail=f"closed_at={closed_at.isoformat() if closed_at else ''}", now=now,
                )
                queue_followups(rt, s, now=now)
        except AlertCloseRefused as exc:
            raise _refused(exc) from None
    typer.echo(f"{ref}: closed by {staff.strip()}")


@app.command("show")
def show(
    ref: str, staff: Annotated[str, typer.Option(help="your name (required: the read is audited)")] = ""
) -> None:
    """Show an alert with the young person's words; writes an audit row before showing them."""
    if not staff.strip():
        typer.echo("refused: reading an alert needs your name (--staff); the read is audited", err=True)
        raise typer.Exit(2)
    now = _now()
    with runtime() as rt:
        with session(rt.engine) as s:
            alert = _find(s, ref)
            audit.record(s, actor=staff.strip(), action="alert.read_text", target=alert.alert_ref, now=now)
            text = rt.keyring.decrypt(alert.text_enc) if alert.text_enc else "(no text kept)"
        # Shown only after the audit row has committed.
        typer.echo(f"Alert {alert.alert_ref} ({alert.status}), case {alert.case_ref or 'unknown'}")
        typer.echo(f"Raised {_local(rt, alert.created_at)} on {alert.channel}")
        typer.echo(f"Categories: {alert.categories}")
        typer.echo(f"Escalation level {alert.escalation_level}, notified {alert.notified_count} time(s)")
        if alert.acknowledged_by:
            typer.echo(f"Acknowledged by {alert.acknowledged_by} at {_local(rt, alert.acknowledged_at)}")
        if alert.closed_by:
            typer.echo(f"Closed by {alert.closed_by} at {_local(rt, alert.closed_at)}: {alert.outcome}")
        typer.echo("")
        typer.echo("Message:")
        typer.echo(text)


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
