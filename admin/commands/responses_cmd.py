"""`ourvoice responses`: counts first (per flow, per question; small counts hidden), and an individual
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
from admin.reports.staff_counts import counts_list, text
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


@app.command("summary")
def summary(
    flow: Annotated[str, typer.Option(help="one flow id: per-question counts")] = "",
    staff: StaffOpt = "",
) -> None:
    """Started and finished per flow, or answers per question and choice for one flow (under 5 hidden)."""
    from storage.db import session

    library = _library()
    with _engine() as engine:
        actor = authenticate(staff, roles=set(AGGREGATE_AUDIENCES), engine=engine)
        if flow and not sees_flow_id(library, flow, actor):
            raise refuse(f"no flow {flow} whose answers you may see", 1)
        with session(engine) as s:
            if not flow:
                mine = AGGREGATE_AUDIENCES[actor.role]  # a shared flow counts only this role's audiences
                for c in admin_views.flow_counts(s, districts=actor.scope(), audiences=mine):
                    if not sees_flow_id(library, c.flow_id, actor):
                        continue
                    # Finished and not finished add up to started: protected together (issue #19).
                    pair, started = counts_list({"done": c.completed, "not": c.submissions - c.completed},
                                                ["done", "not"])
                    typer.echo(
                        f"{c.flow_id:<28} started {text(started):>6}  finished {text(pair['done']):>6}"
                    )
                typer.echo(NOTE)
                return
            totals = admin_views.choice_totals(
                s, flow, districts=actor.scope(), audiences=AGGREGATE_AUDIENCES[actor.role]
            )
    if not totals:
        typer.echo(f"no answers to {flow}")
        return
    node_of = getattr(library.flows.get(flow), "index", {}) or {}
    for qid, choices in totals.items():
        typer.echo(qid)
        # Every choice the question offers, zeros included (a missing row would say "none"), protected with
        # the question's total; listed by published value, hidden ones last, so order says nothing either.
        keys = [c.id for c in getattr(node_of.get(qid), "choices", None) or ()]
        keys += sorted(set(choices) - set(keys))
        shown, _ = counts_list(choices, keys)
        for choice in sorted(keys, key=lambda k: (shown[k] is None, -(shown[k] or 0), k)):
            typer.echo(f"  {choice:<26} {text(shown[choice]):>9}")
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
