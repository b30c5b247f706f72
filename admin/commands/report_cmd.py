"""`ourvoice report` and `ourvoice quote`: participation summaries, their schedule, roll-ups and quotes.

Every export writes an audit row (report.export); every quote view or decision too. Prints only
aggregates and scrubbed, staff-facing quote text; never logs free text.
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from admin.actions.policy import ActionError, Actor, NotFound, roles_for
from admin.commands.auth_helper import guard
from admin.commands.wiring import report_wiring as wiring
from storage import report_actions
from storage.db import session

app = typer.Typer(help="Participation summaries for the Corporate Parenting Panel.", no_args_is_help=True)
quote_app = typer.Typer(
    help="Quotes from young people: list, approve or reject (scrubbed text only).", no_args_is_help=True
)
action_app = typer.Typer(help='"You said, we did" lines for the Panel update.', no_args_is_help=True)
app.add_typer(action_app, name="action")

FROM = Annotated[str, typer.Option("--from", help="first day, e.g. 2026-09-01")]
TO = Annotated[str, typer.Option("--to", help="last day (included), e.g. 2026-11-30")]
STAFF = Annotated[str, typer.Option("--staff", help="your staff username (signs you in; the audit log names you)")]


def _now() -> datetime:
    return datetime.now(UTC)


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        typer.echo(f"{name} must be a date like 2026-09-01 (got {value!r})", err=True)
        raise typer.Exit(2) from None


def _actor(staff: str) -> str:
    return staff.strip() or f"cli:{getpass.getuser()}"


def _export(
    report: str,
    since: date,
    until: date,
    fmt: str,
    out: Path,
    actor: Actor,
    *,
    meeting: date | None = None,
    bands: list[str] | None = None,
) -> None:
    from admin.actions.reports import export_report
    from admin.reports.render import FORMATS

    if fmt not in FORMATS:
        typer.echo(f"--format must be one of {', '.join(FORMATS)}", err=True)
        raise typer.Exit(2)
    if until < since:
        typer.echo("--to is before --from", err=True)
        raise typer.Exit(2)
    now = _now()
    try:
        with wiring() as rt, session(rt.engine) as s:
            produced = export_report(
                s, rt.library, actor, report, since=since, until=until, fmt=fmt, now=now,
                settings=rt.report_settings, meeting=meeting, bands=bands,
            )
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(produced.data)  # drawn here, after the transaction: chats never wait for a PDF
    log = produced.summary.log
    typer.echo(
        f"wrote {out} ({len(produced.data):,} bytes; {log.tables} tables checked, "
        f"{log.primary + log.complementary} numbers hidden)"
    )


@app.command("ocypc")
def ocypc(
    from_: FROM,
    to: TO,
    fmt: Annotated[str, typer.Option("--format", help="pdf | html | md")] = "pdf",
    out: Annotated[Path, typer.Option("--out", help="file to write")] = Path("update.pdf"),
    meeting: Annotated[str, typer.Option("--meeting", help="Panel date shown in the header")] = "",
    *,
    actor: Actor,
) -> None:
    """The OCYPC update for the Corporate Parenting Panel (audited as report.export)."""
    _export(
        "ocypc",
        _day(from_, "--from"),
        _day(to, "--to"),
        fmt,
        out,
        actor,
        meeting=_day(meeting, "--meeting") if meeting else None,
    )


@app.command("young-people")
def young_people(
    from_: FROM,
    to: TO,
    fmt: Annotated[str, typer.Option("--format", help="pdf | html | md")] = "pdf",
    out: Annotated[Path, typer.Option("--out", help="file to write")] = Path("what-you-told-us.pdf"),
    band: Annotated[
        list[str], typer.Option("--band", help="junior | teen | young_adult (repeat; default all)")
    ] = [],  # noqa: B006 - typer needs a literal default
    *,
    actor: Actor,
) -> None:
    """The one-page plain-language version for young people, one page per age band."""
    from admin.reports.catalog import YOUNG_BANDS

    bad = [b for b in band if b not in YOUNG_BANDS]
    if bad:
        typer.echo(f"--band must be one of {', '.join(YOUNG_BANDS)}", err=True)
        raise typer.Exit(2)
    _export("young-people", _day(from_, "--from"), _day(to, "--to"), fmt, out, actor, bands=band or None)


@app.command("schedule")
def schedule() -> None:
    """Upcoming report runs: the nightly roll-up and the update drafted before each Panel date."""
    from apscheduler.triggers.cron import CronTrigger

    from admin.jobs.rollup import is_done, panel_runs
    from admin.scheduler import JOBS

    with wiring() as rt:
        rs = rt.report_settings
        tz = ZoneInfo(rs.timezone)
        now = _now().astimezone(tz)
        typer.echo(f"Report jobs ({rs.timezone}):")
        for job in JOBS:
            if not job.name.startswith("reports_"):
                continue
            nxt = CronTrigger(timezone=tz, **job.cron).get_next_fire_time(None, now)
            typer.echo(f"  {job.name:<24} next {nxt:%Y-%m-%d %H:%M}  ({job.where})")
        runs = panel_runs(rs)
        if not runs:
            typer.echo("No Panel dates configured: set OURVOICE_PANEL_DATES=2026-12-10,2027-02-11,...")
            return
        typer.echo(
            f"Panel updates (drafted {rs.summary_days_before} days before; written to {rs.reports_dir}):"
        )
        today = now.date()
        for run in runs:
            if is_done(rs, run):
                state = "done"
            elif run.panel <= today:
                state = "past"
            elif run.run_on <= today:
                state = "due at the next run"
            else:
                state = "scheduled"
            typer.echo(f"  Panel {run.panel}  draft on {run.run_on}  covers {run.window.label}  [{state}]")


@app.command("rollup")
def rollup() -> None:
    """Run the nightly roll-up now (this month, last month, and any month never rolled up)."""
    from admin.jobs.rollup import nightly

    with wiring() as rt:
        typer.echo(nightly(rt, now=_now()))


@app.command("panel")
def panel(
    panel_date: Annotated[str, typer.Argument(help="a configured Panel date, e.g. 2026-12-10")],
    force: Annotated[bool, typer.Option("--force", help="rebuild even if the files exist")] = False,
    staff: STAFF = "",
) -> None:
    """Draft the update for one configured Panel date now (what the scheduled run does)."""
    from admin.jobs.rollup import is_done, panel_runs, write_panel_update

    day = _day(panel_date, "PANEL_DATE")
    with wiring() as rt:
        rs = rt.report_settings
        run = next((r for r in panel_runs(rs) if r.panel == day), None)
        if run is None:
            typer.echo(f"{day} is not in OURVOICE_PANEL_DATES", err=True)
            raise typer.Exit(1)
        if is_done(rs, run) and not force:
            typer.echo("already written (use --force to rebuild)")
            return
        for path in write_panel_update(rt, run, now=_now(), actor=_actor(staff)):
            typer.echo(f"wrote {path}")


# --- you said, we did -----------------------------------------------------------------------------------


@action_app.command("add")
def action_add(
    said: Annotated[str, typer.Option("--said", help="what young people told us")],
    did: Annotated[str, typer.Option("--did", help="what was done about it")],
    flow: Annotated[str, typer.Option("--topic", help="topic id it answers (optional)")] = "",
    band: Annotated[list[str] | None, typer.Option(
        "--band", help="only for this age group: junior (7-11), teen (11-16), young_adult (16-25); repeat for "
                       "more; leave out for everyone")] = None,
    *,
    actor: Actor,
) -> None:
    """Record a "you said, we did" line (appears in the next update; staff wording, never a child's)."""
    from admin.actions.reports import add_you_said

    try:
        with wiring() as rt, session(rt.engine) as s:
            a = add_you_said(s, actor, said=said, did=did, flow_id=flow or None, bands=tuple(band or ()),
                             now=_now())
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"added #{a.id}")


guard(action_app, "add", roles=roles_for("report.action_add"))  # signs in; the audit row names the account


@action_app.command("list")
def action_list(from_: FROM = "2000-01-01", to: TO = "2100-01-01") -> None:
    """List "you said, we did" lines recorded between two dates."""
    from admin.reports.ocypc import Window

    with wiring() as rt, session(rt.engine) as s:
        start, end = Window(_day(from_, "--from"), _day(to, "--to")).bounds(
            rt.report_settings.timezone
        )
        for a in report_actions.between(s, since=start, until=end):
            who = ",".join(a.bands) or "everyone"
            typer.echo(f"#{a.id} {a.recorded_at:%Y-%m-%d} [{a.flow_id or '-'}] for {who} said: {a.said} | did: {a.did}")


# --- the Panel paper: cover and population ----------------------------------------------------------------

cover_app = typer.Typer(help="The Panel paper's cover: the summary and recommendation for one Panel.",
                        no_args_is_help=True)
app.add_typer(cover_app, name="cover")
PANEL = Annotated[str, typer.Option("--panel", help="the Panel meeting date, e.g. 2026-12-10")]


def _paper_action(fn_name: str, actor: Actor, panel_date: str, **kw: object) -> None:
    from admin.actions import reports as report_actions_

    day = _day(panel_date, "--panel")
    try:
        with wiring() as rt, session(rt.engine) as s:
            getattr(report_actions_, fn_name)(s, actor, day, now=_now(), **kw)
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Panel of {day}: saved")


@cover_app.command("set")
def cover_set(
    panel_date: PANEL,
    summary: Annotated[str, typer.Option("--summary", help="what the paper is about, in two or three sentences")] = "",
    recommendation: Annotated[
        str, typer.Option("--recommendation", help='e.g. "The Panel is asked to NOTE the report."')
    ] = "",
    *,
    actor: Actor,
) -> None:
    """Write the summary and/or recommendation on one Panel paper's cover (staff wording)."""
    _paper_action("set_cover", actor, panel_date, summary=summary or None, recommendation=recommendation or None)


guard(cover_app, "set", roles=roles_for("report.paper"))


@app.command("population")
def population(
    panel_date: PANEL,
    children_in_care: Annotated[
        int | None, typer.Option("--children-in-care", help="children in care in the period")
    ] = None,
    care_leavers: Annotated[int | None, typer.Option("--care-leavers", help="care leavers in the period")] = None,
    *,
    actor: Actor,
) -> None:
    """How many children in care and care leavers the period had: the paper's reach is shown against them."""
    _paper_action("set_population", actor, panel_date, children_in_care=children_in_care, care_leavers=care_leavers)


guard(app, "population", roles=roles_for("report.paper"))


# --- quotes ---------------------------------------------------------------------------------------------


@quote_app.command("list")
def quote_list(
    status: Annotated[str, typer.Option(help="pending | approved | rejected | all")] = "pending",
    *,
    actor: Actor,
) -> None:
    """Show scrubbed quotes waiting for a decision (the view is audited)."""
    from admin.actions.approvals import list_quotes

    try:
        with wiring() as rt, session(rt.engine) as s:
            rows = list_quotes(s, actor, status=status, now=_now())
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    if not rows:
        typer.echo(f"no {status} quotes")
    for q in rows:
        typer.echo(f"#{q.id} [{q.status}] {q.flow_id}/{q.question_id} ({q.band or '-'}): {q.text}")


def _decide(quote_id: int, approve: bool, actor: Actor, text: str | None = None) -> None:
    from admin.actions.approvals import decide_quote
    from admin.quote_safety import QuoteGuard

    try:
        with wiring() as rt, session(rt.engine) as s:
            view = decide_quote(
                s, actor, quote_id, approve=approve, text=text, now=_now(), guard=QuoteGuard.from_settings(rt.settings)
            )
    except NotFound as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    if getattr(view, "status", "") == "withdrawn":
        typer.echo(f"#{quote_id} withdrawn, not approved: the risk check flagged its wording and raised an alert")
        raise typer.Exit(3)
    typer.echo(f"#{quote_id} {'approved' if approve else 'rejected'}")


@quote_app.command("approve")
def quote_approve(
    quote_id: int,
    text: Annotated[str, typer.Option("--text", help="shortened wording (scrubbed again)")] = "",
    *,
    actor: Actor,
) -> None:
    """Approve a quote for reports (optionally with shortened wording)."""
    _decide(quote_id, True, actor, text or None)


@quote_app.command("reject")
def quote_reject(quote_id: int, *, actor: Actor) -> None:
    """Reject a quote: it will never appear in a report."""
    _decide(quote_id, False, actor)


@quote_app.command("collect")
def quote_collect(from_: FROM, to: TO) -> None:
    """Scrub new consented free-text answers in a period into pending quotes (the nightly job does too)."""
    from admin.reports.ocypc import Window
    from admin.reports.quoting import collect

    with wiring() as rt, session(rt.engine) as s:
        start, end = Window(_day(from_, "--from"), _day(to, "--to")).bounds(
            rt.report_settings.timezone
        )
        n = collect(s, since=start, until=end, now=_now())
    typer.echo(f"{n} new pending quotes")


def _themes() -> typer.Typer:
    """`ourvoice report theme set|show` (issue 19, 6): its own module, so this one stays about reports."""
    from admin.commands.theme_cmd import app as theme_app

    return theme_app


app.add_typer(_themes(), name="theme")
