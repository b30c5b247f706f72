"""`ourvoice report theme set|show`: staff-written theme summaries shown above a question's quotes.

Calls the same action as the admin's Themes page (admin.actions.themes.write_theme, audited as theme.write).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import typer

from admin.actions.policy import ActionError, Actor, roles_for
from admin.commands.auth_helper import guard

app = typer.Typer(help="Theme summaries: a few sentences shown above a question's quotes.", no_args_is_help=True)
PERIOD = Annotated[str, typer.Option("--period", help="a quarter like 2026-Q4")]


def _period(value: str) -> tuple[date, date]:
    from admin.reports.periods import PeriodRefused, parse

    try:
        return parse(value)
    except PeriodRefused as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("set")
def theme_set(
    topic: Annotated[str, typer.Option("--topic", help="the topic (flow) id")],
    question: Annotated[str, typer.Option("--question", help="the question id")],
    period: PERIOD,
    summary: Annotated[str, typer.Option("--summary", help="the summary in staff words; empty removes it")],
    *,
    actor: Actor,
) -> None:
    """Write (or replace) the theme summary for one question in one calendar quarter."""
    from admin.actions.themes import write_theme
    from admin.commands.wiring import report_wiring as wiring
    from storage.db import session

    since, until = _period(period)
    try:
        with wiring() as rt, session(rt.engine) as s:
            stored = write_theme(
                s, rt.library, actor, topic_id=topic, question_id=question, since=since, until=until,
                summary=summary, settings=rt.report_settings, now=datetime.now(UTC),
            )
    except ActionError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{topic}/{question} {since} to {until}: {'saved' if stored else 'removed'}")


guard(app, "set", roles=roles_for("theme.write"))


@app.command("show")
def theme_show(period: PERIOD, topic: Annotated[str, typer.Option("--topic", help="one topic only")] = "") -> None:
    """The theme summaries written for one quarter (staff words only, no counts)."""
    from admin.commands.wiring import report_wiring as wiring
    from storage import themes
    from storage.db import session

    since, until = _period(period)
    with wiring() as rt, session(rt.engine) as s:
        rows = themes.for_period(s, (since, until), topic or None)
    if not rows:
        typer.echo(f"no theme summaries for {since} to {until}")
    for r in rows:
        typer.echo(f"{r.topic_id}/{r.question_id} ({r.written_by}, {r.written_at:%Y-%m-%d}): {r.summary}")


guard(app, "show", roles=roles_for("report.export"))
