"""`ourvoice survey`: open, list, close and follow carer survey waves, and enter phone or paper responses.

Each command is a thin Typer shell over a `do_*` function taking the runtime and `now`, so tests drive
them with an injected clock. Every staff change (open, close, enter) writes an audit row.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from admin.commands.wiring import runtime
from bot.features.carers import WaveSettings, check_answers, local_midnight
from bot.safeguarding import assess
from storage import audit, submissions, waves
from storage.db import session

app = typer.Typer(help="Carer survey waves: open, list, close, status, and staff-entered responses.",
                  no_args_is_help=True)

KNOWN_DISTRICTS = ("north", "south", "east", "thanet", "west", "out_of_county")
BUSY_MONTHS = (1, 2)  # January-February: the 2016 survey's busy season for carers


class SurveyError(Exception):
    """A refused command; the message is one line a person can act on."""




def _wave_settings(rt: Any) -> WaveSettings:
    ws = rt.extras.get("wave_settings")
    if ws is None:
        ws = rt.extras["wave_settings"] = WaveSettings()
    return ws


def _actor(staff: str) -> str:
    if staff.strip():
        return staff.strip()
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _districts(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    found = [d.strip().lower() for v in values for d in v.split(",") if d.strip()]
    bad = [d for d in found if d not in KNOWN_DISTRICTS]
    if bad:
        raise SurveyError(f"unknown district(s) {', '.join(bad)}: use {', '.join(KNOWN_DISTRICTS)}")
    return found


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise SurveyError(f"{what} {value!r} is not a date like 2026-12-01") from None


def _wave(s: Any, wave_id: int) -> waves.WaveView:
    wave = waves.get_wave(s, wave_id)
    if wave is None:
        raise SurveyError(f"no wave {wave_id} (see `ourvoice survey list`)")
    return wave


# -- the work, testable with an injected clock ---------------------------------------------------


def do_open(
    rt: Any,
    questionnaire_id: str,
    *,
    name: str,
    opens: str,
    closes: str,
    districts: list[str] | None,
    staff: str,
    now: datetime,
) -> str:
    """Create a wave and its members; returns the lines to print."""
    flows = rt.library.flows
    flow = flows.get(questionnaire_id)
    if flow is None or flow.kind != "survey" or "carer" not in flow.audience:
        known = sorted(f.id for f in flows.values() if f.kind == "survey" and "carer" in f.audience)
        raise SurveyError(f"{questionnaire_id!r} is not a carer survey; choose one of {', '.join(known)}")
    opens_on, closes_on = _date(opens, "--opens"), _date(closes, "--closes")
    if closes_on < opens_on:
        raise SurveyError("--closes is before --opens")
    tz = _wave_settings(rt).timezone
    wanted = _districts(districts)
    actor = _actor(staff)
    with session(rt.engine) as s:
        try:
            wave = waves.open_wave(
                s, name=name, questionnaire_id=questionnaire_id, opens_on=opens_on, closes_on=closes_on,
                opens_at=local_midnight(opens_on, tz),
                closes_at=local_midnight(closes_on + timedelta(days=1), tz),
                districts=wanted, created_by=actor, now=now,
            )
        except waves.WaveConflict as exc:
            raise SurveyError(str(exc)) from None
        audit.record(s, actor=actor, action="survey.open", target=f"wave:{wave.id}",
                     detail=f"questionnaire={questionnaire_id} members={wave.invited} "
                            f"districts={','.join(wanted or ['all'])} {opens_on}..{closes_on}", now=now)
    lines = [f"opened wave {wave.id} '{name}' ({questionnaire_id}) {opens_on} to {closes_on}: "
             f"{wave.invited} carer(s) invited"]
    busy = {d.month for d in (opens_on, closes_on)} & set(BUSY_MONTHS)
    if busy:
        lines.append("note: January-February is a busy time for carers; response rates were lowest then.")
    return "\n".join(lines)


def do_list(rt: Any, *, now: datetime) -> str:
    with session(rt.engine) as s:
        rows = waves.list_waves(s)
    if not rows:
        return "no survey waves yet"
    out = [f"{'id':>4}  {'state':<9}  {'opens':<10}  {'closes':<10}  {'invited':>7}  questionnaire / name"]
    for w in rows:
        where = f"  [{','.join(w.districts)}]" if w.districts else ""
        out.append(f"{w.id:>4}  {w.state(now):<9}  {w.opens_on}  {w.closes_on}  {w.invited:>7}  "
                   f"{w.questionnaire_id} / {w.name}{where}")
    return "\n".join(out)


def do_close(rt: Any, wave_id: int, *, staff: str, now: datetime) -> str:
    actor = _actor(staff)
    with session(rt.engine) as s:
        _wave(s, wave_id)
        if not waves.close_wave(s, wave_id, now=now):
            return f"wave {wave_id} was already closed"
        audit.record(s, actor=actor, action="survey.close", target=f"wave:{wave_id}", now=now)
    return f"closed wave {wave_id}: no more reminders, and answers from now on are not counted in it"


def format_status(st: waves.WaveStatusView, now: datetime) -> str:
    """The `survey status` table: one row per district and a total."""
    w = st.wave
    head = (f"wave {w.id} '{w.name}' ({w.questionnaire_id}) {w.opens_on} to {w.closes_on}, {w.state(now)}"
            + (f", districts {','.join(w.districts)}" if w.districts else ""))
    cols = (f"{'district':<14} {'invited':>7} {'started':>7} {'completed':>9} {'partial':>7} "
            f"{'opted out':>9} {'by staff':>8} {'rate':>6}")
    lines = [head, "", cols]
    for d in [*st.districts, st.total]:
        lines.append(f"{d.district:<14} {d.invited:>7} {d.started:>7} {d.completed:>9} {d.partial:>7} "
                     f"{d.opted_out:>9} {d.staff_entered:>8} {d.rate:>6.1%}")
    modes = ", ".join(f"{m} {n}" for m, n in sorted(st.staff_by_mode.items())) or "none"
    lines += ["", f"entered by staff: {st.staff_share:.1%} of completed ({modes})",
              "started includes completed; partial = started, not finished; opted out = no reminders wanted"]
    return "\n".join(lines)


def do_status(rt: Any, wave_id: int, *, now: datetime) -> str:
    with session(rt.engine) as s:
        _wave(s, wave_id)
        st = waves.wave_status(s, wave_id)
    assert st is not None
    return format_status(st, now)


def do_enter(rt: Any, wave_id: int, *, mode: str, district: str | None, answers: dict[str, Any], staff: str,
             case_ref: str | None, now: datetime) -> str:
    """Record a response taken by phone or on paper as a completed submission in the wave."""
    if mode not in waves.STAFF_MODES:
        raise SurveyError(f"--mode must be one of {', '.join(waves.STAFF_MODES)}")
    if not staff.strip():
        raise SurveyError("--staff NAME is required: it goes in the audit log")
    wanted = _districts([district] if district else None)
    with session(rt.engine) as s:
        wave = _wave(s, wave_id)
        flow = rt.library.flows.get(wave.questionnaire_id)
        if flow is None:
            raise SurveyError(f"questionnaire {wave.questionnaire_id} is no longer in the content")
        try:
            checked = check_answers(flow, answers)
        except ValueError as exc:
            raise SurveyError(f"answers refused: {exc}") from None
        member = None
        if case_ref:
            member = waves.member_by_case_ref(s, wave_id, case_ref.strip().upper())
            if member is None:
                raise SurveyError(f"{case_ref} is not a member of wave {wave_id}")
        where = wanted[0] if wanted else (member.district if member else None)
        if where is None:
            raise SurveyError("--district is required (so the response counts in the right area)")
        if wave.districts and where not in wave.districts:
            raise SurveyError(f"wave {wave_id} covers {', '.join(wave.districts)}, not {where}")
        sub = waves.start_staff_entry(s, wave_id=wave_id, mode=mode, district=where,
                                      participant_id=member.participant_id if member else None, now=now)
        flagged = 0
        for a in checked:
            quarantined = a.free_text and assess(a.value, rt.lexicon).flagged
            flagged += int(quarantined)
            submissions.put_answer(s, sub, a.question_id, a.value, skipped=a.skipped, free_text=a.free_text,
                                   quarantined=quarantined, now=now)
        submissions.complete(s, sub, now=now)
        audit.record(s, actor=staff.strip(), action="survey.enter", target=f"wave:{wave_id}",
                     detail=f"submission={sub.id} mode={mode} district={where} answers={len(checked)}"
                            + (f" member={case_ref.strip().upper()}" if case_ref else ""), now=now)
    msg = f"recorded {mode} response: submission {sub.id}, wave {wave_id}, {len(checked)} answers, {where}"
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
    staff: Annotated[str, Opt("--staff", help="who is opening it (audit log)")] = "",
) -> None:
    """Open a wave: every active carer (in the districts given) is invited when it opens."""
    _run(do_open, questionnaire_id, name=name, opens=opens, closes=closes, districts=district, staff=staff)


@app.command("list")
def list_cmd() -> None:
    """List every wave with its state and number invited."""
    _run(do_list)


@app.command("close")
def close_cmd(wave: int, staff: Annotated[str, Opt("--staff", help="who closes it (audit)")] = "") -> None:
    """Close a wave early: no more reminders, later answers not counted."""
    _run(do_close, wave, staff=staff)


@app.command("status")
def status_cmd(wave: int) -> None:
    """Invited, started, completed, partial, opted out and rate per district, and the staff-entered share."""
    _run(do_status, wave)


@app.command("enter")
def enter_cmd(
    wave: int,
    mode: Annotated[str, Opt("--mode", help="phone | paper")],
    answers: Annotated[Path, Opt("--answers", help='JSON file: {"question_id": value, ...}')],
    staff: Annotated[str, Opt("--staff", help="who took the response (audit log)")],
    district: Annotated[str | None, Opt("--district", help="the carer's district")] = None,
    case_ref: Annotated[str | None, Opt("--case-ref", help="a member who answered offline instead")] = None,
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
    _run(do_enter, wave, mode=mode, district=district, answers=data, staff=staff, case_ref=case_ref)
