"""`ourvoice responses`: counts first (people per flow and per answer in one ended quarter, protected as the
admin's Responses page: admin/reports/responses.py), and an individual
response only where the young person or carer chose to share it (staff sign-in required, audited).

Uses the same storage queries and service functions as the admin web's Responses page.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from admin.actions.policy import AGGREGATE_AUDIENCES, SHARED_AUDIENCES, record, sees_flow
from admin.commands.auth_helper import StaffOpt, authenticate, refuse
from admin.reports.staff_counts import text
from storage import admin_views

app = typer.Typer(
    help="Responses: counts per flow and question; shared responses (audited).", no_args_is_help=True
)
THRESHOLD = 5
AUDIENCES = SHARED_AUDIENCES


@contextmanager
def _engine() -> Iterator[Any]:
    from admin.commands.settings_loader import load_settings
    from storage.db import make_engine

    engine = make_engine(load_settings().database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


NOTE = "not shown: fewer than 5, or hidden so that a smaller number cannot be worked out"


def _library() -> Any:
    from pathlib import Path

    from admin.commands.settings_loader import load_settings
    from content.loader import load_library

    settings = load_settings()
    return load_library(Path(settings.content_dir) if settings.content_dir else None)


def sees_flow_id(library: Any, flow_id: str, actor: Any) -> bool:
    """True when the flow exists and the actor's role may see its aggregates."""
    flow = library.flows.get(flow_id)
    return flow is not None and not flow.private and (actor is None or sees_flow(actor, flow))


def _report_settings() -> Any:
    from pydantic import ValidationError

    from admin.reports.settings import ReportSettings
    from bot.settings import settings_error_line

    try:
        return ReportSettings()
    except ValidationError as exc:
        typer.echo(settings_error_line(exc), err=True)
        raise typer.Exit(2) from None


@app.command("summary")
def summary(
    flow: Annotated[str, typer.Option(help="one flow id: people per answer")] = "",
    period: Annotated[str, typer.Option(help="an ended quarter, e.g. 2026-Q3 (default: the last whole one)")] = "",
    band: Annotated[str, typer.Option(help="one age band (with --flow)")] = "",
    staff: StaffOpt = "",
) -> None:
    """People per flow, or per answer of one flow, in one ended quarter (protected as the Responses page)."""
    from admin.reports import responses as counts
    from admin.reports.catalog import DISTRICTS
    from admin.reports.periods import PeriodRefused
    from storage.db import session

    library = _library()
    rs = _report_settings()
    now = _now()
    with _engine() as engine:
        actor = authenticate(staff, roles=set(AGGREGATE_AUDIENCES), engine=engine)
        try:
            quarter = counts.choose_quarter(period, now, rs)
        except PeriodRefused as exc:
            raise refuse(str(exc), 1) from None
        if flow and not sees_flow_id(library, flow, actor):
            raise refuse(f"no flow {flow} whose answers you may see", 1)
        wanted = [library.flows[flow]] if flow else counts.counted_flows(library)
        mine: list[tuple[Any, counts.Layer]] = []
        for f in wanted:
            lay = counts.layer_for(f, AGGREGATE_AUDIENCES[actor.role]) if sees_flow_id(library, f.id, actor) else None
            if lay is not None:
                mine.append((f, lay))
        with session(engine) as s:
            solved = counts.for_flows(s, library, [f for f, _ in mine], quarter, settings=rs, now=now,
                                      districts=DISTRICTS, role_audiences=AGGREGATE_AUDIENCES, answers=bool(flow))
        found = [(f, lay, solved[f.id]) for f, lay in mine]
        if flow and not found:
            raise refuse(f"no flow {flow} whose answers you may see", 1)
    typer.echo(f"people who answered in {counts.quarter_label(quarter)}")
    if not flow:
        for f, layer, fc in found:
            shown = text(fc.took_part_value(layer, f, districts=actor.scope())) if layer.unknown else "per answer"
            typer.echo(f"{f.id:<28} took part {shown:>10}")
        typer.echo(NOTE)
        return
    f, layer, fc = found[0]
    if band and band not in layer.bands:
        raise refuse(f"no age band {band} in {flow} for you: choose from {', '.join(layer.bands)}", 1)
    if not fc.answers:
        typer.echo(f"{flow} has no questions whose answers are counted")
        return
    by_question: dict[str, list[tuple[str, int | None]]] = {}
    for a in fc.answers:
        by_question.setdefault(a.question_id, []).append(
            (a.choice, a.grid.value(layer, districts=actor.scope(), band=band)))
    for qid, rows in by_question.items():
        typer.echo(qid)
        # Every choice the question offers, zeros included (a missing row would say "none"); listed by
        # published value, hidden ones last, so order says nothing either.
        for choice, n in sorted(rows, key=lambda r: (r[1] is None, -(r[1] or 0), r[0])):
            typer.echo(f"  {choice:<26} {text(n):>9}")
    typer.echo(NOTE)


@app.command("shared")
def shared(staff: StaffOpt = "") -> None:
    """List responses shared with a worker in your districts (ids and dates only)."""
    from storage.db import session

    with _engine() as engine:
        actor = authenticate(staff, roles=set(AUDIENCES), engine=engine)
        with session(engine) as s:
            rows = admin_views.shared_submissions(s, districts=actor.scope(), audiences=AUDIENCES[actor.role])
    if not rows:
        typer.echo("nothing shared with workers")
    for r in rows:
        typer.echo(
            f"{r.id:>8}  {r.flow_id:<24} {r.case_ref or 'anonymous':<10} {r.district or '-':<14} "
            f"{r.started_at:%Y-%m-%d}"
        )


def _keyring():
    """The key ring from settings: free-text answers are stored encrypted (exit 2 if keys are missing)."""
    from admin.commands.settings_loader import load_settings
    from bot.runtime import SetupError, build_keyring

    try:
        return build_keyring(load_settings())
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("show")
def show(submission_id: int, staff: StaffOpt = "") -> None:
    """Show one shared response (signs you in; the view is written to the audit log first)."""
    from storage.db import session

    with _engine() as engine:
        actor = authenticate(staff, roles=set(AUDIENCES), engine=engine)
        with session(engine) as s:
            found = admin_views.shared_submission(s, submission_id, decrypt=_keyring().decrypt)
            if (
                found is None
                or found[0].audience not in AUDIENCES[actor.role]
                or not actor.sees(found[0].district)
            ):
                raise refuse(f"no shared response {submission_id} that you may open", 1)
            record(
                s,
                actor,
                "response.view",
                target=f"submission:{submission_id}",
                detail="via=cli",
                now=datetime.now(UTC),
            )
        sub, answers = found
    who = sub.case_ref or "anonymous"
    typer.echo(f"{sub.flow_id} #{sub.id} from {who} ({sub.band or '-'}, {sub.district or '-'})")
    for a in answers:
        value = (
            "(held back by the safeguarding check)"
            if a.quarantined
            else "(skipped)"
            if a.skipped
            else (a.text if a.text is not None else a.value)
        )
        typer.echo(f"  {a.question_id}: {value}")
