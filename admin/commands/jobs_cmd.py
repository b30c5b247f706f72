"""`ourvoice jobs list|run`: the scheduled jobs, runnable by hand (or from cron) with the same claims."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

app = typer.Typer(help="Scheduled jobs (the scheduler in `ourvoice run` fires the same functions).",
                  no_args_is_help=True)


@app.command("list")
def list_jobs() -> None:
    """Show every job and when it fires."""
    from admin.scheduler import JOBS

    for job in JOBS:
        when = f"every {job.every_seconds}s" if job.every_seconds else "cron " + " ".join(
            f"{k}={v}" for k, v in job.cron.items()
        )
        typer.echo(f"{job.name:28} {when:40} {job.where}")


@app.command("run")
def run_job(
    name: str,
    now: str = typer.Option(None, help="ISO time to run as (default: now); for catching up or testing"),
    force: bool = typer.Option(False, help="run even if another process already claimed this occurrence"),
) -> None:
    """Run one job once, claiming its occurrence like the scheduler does."""
    from admin.commands.settings_loader import load_settings
    from admin.scheduler import JOBS
    from admin.scheduler import run_job as do_run
    from bot.runtime import build_runtime

    job = next((j for j in JOBS if j.name == name), None)
    if job is None:
        typer.echo(f"no job called {name!r}; see `ourvoice jobs list`", err=True)
        raise typer.Exit(2)
    when = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    rt = build_runtime(load_settings())
    result = do_run(rt, job, now=when, claim=not force)
    if result is None:
        typer.echo(f"{name}: this occurrence was already run by another process")
    else:
        typer.echo(f"{name}: {result}")
    rt.notifier.wait_idle()
