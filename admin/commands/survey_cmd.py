"""`ourvoice survey`: open, list, close and follow carer survey waves, and enter phone or paper responses.

Each command is a thin Typer shell over a `do_*` function taking the runtime, the signed-in Actor and `now`,
so tests drive them with an injected clock. Open, close and enter are the actions in admin/actions/waves.py
(the same ones the admin web calls): own districts only, one audit row each. List and status need sign-in too
and show what the web page shows (admin.actions.waves.visible_waves and wave_figures).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from admin.actions import waves as wave_actions
from admin.actions.policy import ActionError, Actor
from admin.commands.wiring import runtime
from bot.features.carers import WaveSettings
from storage import waves
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

app = typer.Typer(help="Carer survey waves: open, list, close, status, and staff-entered responses.",
                  no_args_is_help=True)

BUSY_MONTHS = (1, 2)  # January-February: the 2016 survey's busy season for carers


SurveyError = ActionError  # a refused command; the message is one line a person can act on



def _wave_settings(rt: Services) -> WaveSettings:
    return rt.wave_settings  # read by the composition root (bot.runtime.build_runtime)


def _wave(s: Any, wave_id: int) -> waves.WaveView:
    wave = waves.get_wave(s, wave_id)
    if wave is None:
        raise SurveyError(f"no wave {wave_id} (see `ourvoice survey list`)")
    return wave


# -- the work, testable with an injected clock ---------------------------------------------------


def do_open(
    rt: Services,
    questionnaire_id: str,
    *,
    name: str,
    opens: str,
    closes: str,
    districts: list[str] | None,
    actor: Actor,
    now: datetime,
) -> str:
    """Create a wave and its members; returns the lines to print."""
    with session(rt.engine) as s:
        wave = wave_actions.open_wave(
            s, rt.library, actor, questionnaire_id, name=name, opens=opens, closes=closes, districts=districts,
            timezone=_wave_settings(rt).timezone, now=now,
        )
    lines = [f"opened wave {wave.id} '{name}' ({questionnaire_id}) {wave.opens_on} to {wave.closes_on}: "
             f"{wave.invited} carer(s) invited"]
    busy = {d.month for d in (wave.opens_on, wave.closes_on)} & set(BUSY_MONTHS)
    if busy:
        lines.append("note: January-February is a busy time for carers; response rates were lowest then.")
    return "\n".join(lines)


def do_list(rt: Services, *, actor: Actor, now: datetime) -> str:
    """The waves the signed-in staff member may follow (admin.actions.waves.visible_waves, as the web page)."""
    from admin.reports.staff_counts import text as t

    with session(rt.engine) as s:
        rows = [(w, wave_actions.invited_shown(s, w.id)) for w in wave_actions.visible_waves(s, actor)]
    if not rows:
        return "no survey waves yet"
    # Invited as each wave's own page prints it (protected with its replies).
    out = [f"{'id':>4}  {'state':<9}  {'opens':<10}  {'closes':<10}  {'invited':>9}  questionnaire / name"]
    for w, invited in rows:
        where = f"  [{','.join(w.districts)}]" if w.districts else ""
        out.append(f"{w.id:>4}  {w.state(now):<9}  {w.opens_on}  {w.closes_on}  {t(invited):>9}  "
                   f"{w.questionnaire_id} / {w.name}{where}")
    return "\n".join(out)


def do_close(rt: Services, wave_id: int, *, actor: Actor, now: datetime) -> str:
    with session(rt.engine) as s:
        if not wave_actions.close_wave(s, actor, wave_id, now=now):
            return f"wave {wave_id} was already closed"
    return f"closed wave {wave_id}: no more reminders, and answers from now on are not counted in it"


def format_status(fig: wave_actions.WaveFigures, now: datetime) -> str:
    """The `survey status` table: one row per district the viewer covers, and the total for county-wide staff.
    The figures are the web page's (admin.actions.waves.wave_figures: one protection over the whole wave)."""
    from admin.reports.disclosure import percent
    from admin.reports.staff_counts import text as t

    w = fig.status.wave
    head = (f"wave {w.id} '{w.name}' ({w.questionnaire_id}) {w.opens_on} to {w.closes_on}, {w.state(now)}"
            + (f", districts {','.join(w.districts)}" if w.districts else ""))
    # Count columns as wide as "not shown", so hidden cells line up with shown ones.
    cols = (f"{'district':<14} {'invited':>7} {'started':>9} {'completed':>9} {'partial':>9} "
            f"{'opted out':>9} {'by staff':>9} {'rate':>9}")
    lines = [head, "", cols]
    for d in [*fig.rows, *([fig.total] if fig.total else [])]:
        lines.append(f"{d['district']:<14} {t(d['invited']):>7} {t(d['started']):>9} {t(d['completed']):>9} "
                     f"{t(d['partial']):>9} {t(d['opted_out']):>9} {t(d['staff_entered']):>9} "
                     f"{d['rate'] or t(None):>9}")
    if fig.total:
        modes = ", ".join(f"{m} {t(n)}" for m, n in fig.modes.items())
        share = percent(fig.total["staff_entered"], fig.total["completed"]) or t(None)
        lines += ["", f"entered by staff: {share} of completed ({modes})"]
    lines += ["", "started includes completed; partial = started, not finished; opted out = no reminders wanted",
              "not shown: fewer than 5, or hidden so that a smaller number cannot be worked out"]
    return "\n".join(lines)


def do_status(rt: Services, wave_id: int, *, actor: Actor, now: datetime) -> str:
    with session(rt.engine) as s:
        fig = wave_actions.wave_figures(s, actor, wave_id)
    return format_status(fig, now)


def do_enter(rt: Services, wave_id: int, *, mode: str, district: str | None, answers: dict[str, Any], actor: Actor,
             case_ref: str | None, now: datetime) -> str:
    """Record a response taken by phone or on paper as a completed submission in the wave."""
    with session(rt.engine) as s:
        sub_id, kept, where, flagged = wave_actions.enter_response(
            s, rt.library, rt.lexicon, actor, wave_id, mode=mode, district=district, answers=answers,
            case_ref=case_ref, now=now,
        )
    msg = f"recorded {mode} response: submission {sub_id}, wave {wave_id}, {kept} answers, {where}"
    if flagged:
        msg += f"\nwarning: {flagged} comment(s) need a safeguarding check and are held back from reports"
    return msg


# -- the Typer shell -----------------------------------------------------------------------------


def _run(fn: Any, *args: Any, **kwargs: Any) -> None:
    with runtime() as rt:
        try:
            typer.echo(fn(rt, *args, now=datetime.now(UTC), **kwargs))
        except SurveyError as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(2) from None


Opt = typer.Option


@app.command("open")
def open_cmd(
    questionnaire_id: Annotated[str, typer.Argument(help="e.g. carer_annual or carer_pulse")],
    name: Annotated[str, Opt("--name", help='e.g. "Annual 2026"')],
    opens: Annotated[str, Opt("--opens", help="first day, YYYY-MM-DD")],
    closes: Annotated[str, Opt("--closes", help="last day, YYYY-MM-DD (inclusive)")],
    district: Annotated[list[str] | None, Opt("--district", help="repeat for several; default: all")] = None,
    *,
    actor: Actor,
) -> None:
    """Open a wave: every active carer (in the districts given) is invited when it opens."""
    _run(do_open, questionnaire_id, name=name, opens=opens, closes=closes, districts=district, actor=actor)


@app.command("list")
def list_cmd(*, actor: Actor) -> None:
    """List the waves you may follow, with their state and number invited."""
    _run(do_list, actor=actor)


@app.command("close")
def close_cmd(wave: int, *, actor: Actor) -> None:
    """Close a wave early: no more reminders, later answers not counted."""
    _run(do_close, wave, actor=actor)


@app.command("status")
def status_cmd(wave: int, *, actor: Actor) -> None:
    """Invited, started, completed, partial, opted out and rate per district, and the staff-entered share."""
    _run(do_status, wave, actor=actor)


@app.command("enter")
def enter_cmd(
    wave: int,
    mode: Annotated[str, Opt("--mode", help="phone | paper")],
    answers: Annotated[Path, Opt("--answers", help='JSON file: {"question_id": value, ...}')],
    district: Annotated[str | None, Opt("--district", help="the carer's district")] = None,
    case_ref: Annotated[str | None, Opt("--case-ref", help="a member who answered offline instead")] = None,
    *,
    actor: Actor,
) -> None:
    """Record a response taken by phone or on paper.

    Values: choice ids, lists of choice ids, 1-5, yes/no/not_sure, words; null leaves a question blank.
    """
    try:
        data = json.loads(answers.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        typer.echo(f"refused: cannot read {answers}: {exc}", err=True)
        raise typer.Exit(2) from None
    if not isinstance(data, dict):
        typer.echo("refused: the answers file must hold one JSON object", err=True)
        raise typer.Exit(2)
    _run(do_enter, wave, mode=mode, district=district, answers=data, actor=actor, case_ref=case_ref)
