"""Carer survey wave actions: list and follow waves, open one, close it, and enter a response taken by phone
or on paper.

The fostering team works only in its own districts: a new wave must lie inside them, closing needs the wave
wholly inside them, and an entered response must be for one of their districts in a wave that covers it.
Each change writes one audit row (survey.open, survey.close, survey.enter). Listing and following are
reads of counts, not of anyone's words: refused to other roles, scoped to the viewer's districts, and every
count protected once over the whole wave (`protected_wave_rows`) so the web page and `ourvoice survey status`
show exactly the same figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from admin.actions.policy import (
    DISTRICTS,
    Actor,
    Invalid,
    NotFound,
    authorise,
    districts_of,
    may_read,
    parse_districts,
    record,
    require_own_districts,
    require_scope,
)
from storage import submissions, waves


def _date(value: str | date, what: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Invalid(f"{what} {value!r} is not a date like 2026-12-01") from None


def _districts(values: list[str] | None) -> tuple[str, ...]:
    found = [d.strip().lower() for v in values or [] for d in v.split(",") if d.strip()]
    bad = [d for d in found if d not in DISTRICTS]
    if bad:
        raise Invalid(f"unknown district(s) {', '.join(bad)}: use {', '.join(DISTRICTS)}")
    return parse_districts(found)


def visible_waves(s: Any, actor: Actor) -> list[waves.WaveView]:
    """The waves the actor may follow: every one for county-wide staff, else those touching their districts.
    Not audited: counts of carers, nobody's words (reading aggregates writes no audit row)."""
    authorise(actor, "wave.list")
    return [w for w in waves.list_waves(s)
            if may_read(actor, frozenset(w.districts) if w.districts else districts_of(None))]


def invited_shown(s: Any, wave_id: int) -> int | None:
    """A wave's number invited as its own page prints it (the total of its one protection; None: not shown),
    for the lists of waves on the web and `ourvoice survey list`."""
    st = waves.wave_status(s, wave_id)
    if st is None:
        return None
    _rows, total, _modes = _protected(list(st.districts), st.total, dict(st.staff_by_mode))
    shown: int | None = total["invited"]
    return shown


@dataclass(frozen=True)
class WaveFigures:
    """What a viewer may see of one wave: its rows cut to their districts, the total for county-wide staff."""

    status: waves.WaveStatusView
    rows: list[dict[str, Any]]
    total: dict[str, Any] | None
    modes: dict[str, int | None]


def protected_wave_rows(
    districts: list[Any], total: Any, staff_by_mode: dict[str, int] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The wave's counts of carers as published, protected as one problem over every district (a scoped view
    protected on its own could be put beside the all-districts view to work a hidden count out). Invited is
    the team's own list of carers asked, always shown."""
    return _protected(districts, total, staff_by_mode)[:2]


def _protected(
    districts: list[Any], total: Any, staff_by_mode: dict[str, int] | None
) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, int | None]]:
    from dataclasses import asdict

    from admin.reports.staff_counts import wave

    pw = wave(districts, total, staff_by_mode or {})
    return [asdict(r) for r in pw.rows], asdict(pw.total), pw.modes


def wave_figures(s: Any, actor: Actor, wave_id: int) -> WaveFigures:
    """One wave's counts for the web page and `ourvoice survey status` alike (NotFound outside the actor's
    districts, like a wave that does not exist). Not audited: protected counts, nobody's words."""
    authorise(actor, "wave.view")
    require_scope(actor, wave_districts(s, wave_id), f"wave {wave_id}", change=False)
    st = waves.wave_status(s, wave_id)
    if st is None:
        raise NotFound(f"no wave {wave_id}")
    rows, total, modes = _protected(list(st.districts), st.total, dict(st.staff_by_mode))
    mine = [r for r in rows if actor.all_districts or r["district"] in actor.districts]
    return WaveFigures(st, mine, total if actor.all_districts else None, modes)


def wave_districts(s: Any, wave_id: int) -> frozenset[str] | None:
    """The wave's districts (ALL = every district), or None when there is no such wave."""
    wave = waves.get_wave(s, wave_id)
    if wave is None:
        return None
    return frozenset(wave.districts) if wave.districts else districts_of(None)


def open_wave(
    s: Any,
    library: Any,
    actor: Actor,
    questionnaire_id: str,
    *,
    name: str,
    opens: str | date,
    closes: str | date,
    districts: list[str] | None,
    timezone: str,
    now: datetime,
) -> Any:
    """Create a wave and its members (audited as survey.open); returns the wave."""
    from bot.features.carers import local_midnight

    authorise(actor, "wave.open")
    flows = library.flows
    flow = flows.get(questionnaire_id)
    if flow is None or flow.kind != "survey" or "carer" not in flow.audience:
        known = sorted(f.id for f in flows.values() if f.kind == "survey" and "carer" in f.audience)
        raise Invalid(f"{questionnaire_id!r} is not a carer survey; choose one of {', '.join(known)}")
    opens_on, closes_on = _date(opens, "--opens"), _date(closes, "--closes")
    if closes_on < opens_on:
        raise Invalid("--closes is before --opens")
    wanted = _districts(districts)
    require_own_districts(actor, wanted, "this wave")
    try:
        wave = waves.open_wave(
            s, name=name, questionnaire_id=questionnaire_id, opens_on=opens_on, closes_on=closes_on,
            opens_at=local_midnight(opens_on, timezone),
            closes_at=local_midnight(closes_on + timedelta(days=1), timezone),
            districts=list(wanted) or None, created_by=actor.username, now=now,
        )
    except waves.WaveConflict as exc:
        raise Invalid(str(exc)) from None
    record(
        s, actor, "survey.open", target=f"wave:{wave.id}",
        detail=f"questionnaire={questionnaire_id} members={wave.invited} "
        f"districts={','.join(wanted) or 'all'} {opens_on}..{closes_on}",
        now=now,
    )
    return wave


def close_wave(s: Any, actor: Actor, wave_id: int, *, now: datetime) -> bool:
    """Close a wave early (audited as survey.close); False (nothing written) when it was already closed."""
    authorise(actor, "wave.close")
    require_scope(actor, wave_districts(s, wave_id), f"wave {wave_id}", change=True)
    if not waves.close_wave(s, wave_id, now=now):
        return False
    record(s, actor, "survey.close", target=f"wave:{wave_id}", now=now)
    return True


def enter_response(
    s: Any,
    library: Any,
    lexicon: Any,
    actor: Actor,
    wave_id: int,
    *,
    mode: str,
    district: str | None,
    answers: dict[str, Any],
    case_ref: str | None,
    now: datetime,
) -> tuple[int, int, str, int]:
    """Record a response taken by phone or on paper as a completed submission (audited as survey.enter).

    Returns (submission id, answers kept, district, comments held back by the safeguarding check).
    """
    from bot.features.carers import check_answers
    from bot.safeguarding import assess

    authorise(actor, "wave.enter")
    require_scope(actor, wave_districts(s, wave_id), f"wave {wave_id}", change=False)
    if mode not in waves.STAFF_MODES:
        raise Invalid(f"--mode must be one of {', '.join(waves.STAFF_MODES)}")
    wanted = _districts([district] if district else None)
    wave = waves.get_wave(s, wave_id)
    assert wave is not None
    flow = library.flows.get(wave.questionnaire_id)
    if flow is None:
        raise NotFound(f"questionnaire {wave.questionnaire_id} is no longer in the content")
    try:
        checked = check_answers(flow, answers)
    except ValueError as exc:
        raise Invalid(f"answers refused: {exc}") from None
    member = None
    if case_ref:
        member = waves.member_by_case_ref(s, wave_id, case_ref.strip().upper())
        if member is None:
            raise Invalid(f"{case_ref} is not a member of wave {wave_id}")
    where = wanted[0] if wanted else (member.district if member else None)
    if where is None:
        raise Invalid("--district is required (so the response counts in the right area)")
    if not actor.sees(where):
        raise Invalid("choose one of your own districts")
    if wave.districts and where not in wave.districts:
        raise Invalid(f"wave {wave_id} covers {', '.join(wave.districts)}, not {where}")
    sub = waves.start_staff_entry(
        s, wave_id=wave_id, mode=mode, district=where,
        participant_id=member.participant_id if member else None, now=now,
    )
    flagged = 0
    for a in checked:
        quarantined = a.free_text and assess(a.value, lexicon).flagged
        flagged += int(quarantined)
        submissions.put_answer(
            s, sub, a.question_id, a.value, skipped=a.skipped, free_text=a.free_text,
            quarantined=quarantined, now=now,
        )
    submissions.complete(s, sub, now=now)
    record(
        s, actor, "survey.enter", target=f"wave:{wave_id}",
        detail=f"submission={sub.id} mode={mode} district={where} answers={len(checked)}"
        + (f" member={case_ref.strip().upper()}" if case_ref else ""),
        now=now,
    )
    return sub.id, len(checked), where, flagged
