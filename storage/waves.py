"""Survey waves for foster carers: who is invited, who has been sent what, and live response counts.

Owns tables survey_wave, wave_member and wave_notice. Knows nothing of content or wording: flow ids are
plain strings and the reminder policy (which day, quiet hours) lives with the job that calls this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from storage.db import utc
from storage.models import Conversation, Participant, Submission, SurveyWave, WaveMember, WaveNotice

STAFF_MODES = ("phone", "paper")


class WaveConflict(Exception):
    """A wave of the same questionnaire already covers some of these dates and districts."""


@dataclass(frozen=True)
class WaveView:
    id: int
    name: str
    questionnaire_id: str
    districts: tuple[str, ...] | None
    opens_on: date
    closes_on: date
    opens_at: datetime
    closes_at: datetime
    status: str
    invited: int

    def is_live(self, now: datetime) -> bool:
        """Open for answers and notices right now."""
        return self.status == "open" and self.opens_at <= now < self.closes_at

    def state(self, now: datetime) -> str:
        """open | scheduled | ended | closed, for listings."""
        if self.status == "closed":
            return "closed"
        if now < self.opens_at:
            return "scheduled"
        return "open" if now < self.closes_at else "ended"


@dataclass(frozen=True)
class DistrictStatus:
    """Counts for one district. `started` includes those who completed; partial = started - completed."""

    district: str
    invited: int
    started: int
    completed: int
    opted_out: int
    staff_entered: int

    @property
    def partial(self) -> int:
        return self.started - self.completed

    @property
    def rate(self) -> float:
        return self.completed / self.invited if self.invited else 0.0


@dataclass(frozen=True)
class WaveStatusView:
    wave: WaveView
    districts: list[DistrictStatus]
    total: DistrictStatus
    staff_by_mode: dict[str, int]

    @property
    def staff_share(self) -> float:
        """Share of completed responses that staff entered from phone calls or paper forms."""
        return self.total.staff_entered / self.total.completed if self.total.completed else 0.0


@dataclass(frozen=True)
class NoticeCandidate:
    """A member who has not finished and has not opted out, with what they have been sent so far."""

    member_id: int
    participant_id: int
    sent: int
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    started: bool


def _aware(dt: datetime) -> datetime:
    """Times are stored as aware UTC (SQLModel's UTCDateTime refuses naive values)."""
    value = utc(dt)
    assert value is not None
    return value


def _districts(raw: str | None) -> tuple[str, ...] | None:
    return tuple(d for d in raw.split(",") if d) if raw else None


def _view(w: SurveyWave, invited: int) -> WaveView:
    return WaveView(
        id=w.id or 0,
        name=w.name,
        questionnaire_id=w.questionnaire_id,
        districts=_districts(w.districts),
        opens_on=w.opens_on,
        closes_on=w.closes_on,
        opens_at=utc(w.opens_at),  # type: ignore[arg-type]
        closes_at=utc(w.closes_at),  # type: ignore[arg-type]
        status=w.status,
        invited=invited,
    )


def _member_count(session: Session, wave_id: int) -> int:
    q = select(func.count()).select_from(WaveMember).where(WaveMember.wave_id == wave_id)
    return int(session.execute(q).scalar_one())


def open_wave(
    session: Session,
    *,
    name: str,
    questionnaire_id: str,
    opens_on: date,
    closes_on: date,
    opens_at: datetime,
    closes_at: datetime,
    districts: list[str] | None,
    created_by: str,
    now: datetime,
) -> WaveView:
    """Create a wave and make every active carer (in the given districts) a member of it.

    Raises WaveConflict when an open wave of the same questionnaire overlaps in dates and districts,
    because a carer's answers could then belong to either.
    """
    wanted = set(districts or ())
    for other in session.execute(
        select(SurveyWave).where(
            SurveyWave.questionnaire_id == questionnaire_id,
            SurveyWave.status == "open",
            SurveyWave.opens_on <= closes_on,
            SurveyWave.closes_on >= opens_on,
        )
    ).scalars():
        theirs = set(_districts(other.districts) or ())
        if not wanted or not theirs or wanted & theirs:
            raise WaveConflict(f"wave {other.id} ({other.name}) already covers these dates and districts")
    wave = SurveyWave(
        name=name,
        questionnaire_id=questionnaire_id,
        districts=",".join(sorted(wanted)) if wanted else None,
        opens_on=opens_on,
        closes_on=closes_on,
        opens_at=_aware(opens_at),
        closes_at=_aware(closes_at),
        created_by=created_by,
        created_at=_aware(now),
    )
    session.add(wave)
    session.flush()
    q = select(Participant.id, Participant.district).where(
        Participant.audience == "carer", Participant.status == "active"
    )
    if wanted:
        q = q.where(Participant.district.in_(sorted(wanted)))  # type: ignore[union-attr]
    rows = session.execute(q.order_by(Participant.id)).all()
    session.add_all(
        WaveMember(wave_id=wave.id, participant_id=pid, district=district, added_at=_aware(now))  # type: ignore[arg-type]
        for pid, district in rows
    )
    session.flush()
    return _view(wave, len(rows))


def enrol_new_carers(session: Session, wave_id: int, *, now: datetime) -> int:
    """Make carers who joined (or came back to active) since the wave opened members of it, in its districts;
    returns how many. Idempotent: the (wave, participant) key stops a second row."""
    w = session.get(SurveyWave, wave_id)
    if w is None or w.status != "open":
        return 0
    already = select(WaveMember.participant_id).where(WaveMember.wave_id == wave_id)
    q = select(Participant.id, Participant.district).where(
        Participant.audience == "carer",
        Participant.status == "active",
        Participant.id.not_in(already),  # type: ignore[union-attr]
    )
    wanted = _districts(w.districts)
    if wanted:
        q = q.where(Participant.district.in_(wanted))  # type: ignore[union-attr]
    rows = session.execute(q.order_by(Participant.id)).all()
    session.add_all(
        WaveMember(wave_id=wave_id, participant_id=pid, district=district, added_at=_aware(now))  # type: ignore[arg-type]
        for pid, district in rows
    )
    session.flush()
    return len(rows)


def get_wave(session: Session, wave_id: int) -> WaveView | None:
    w = session.get(SurveyWave, wave_id)
    return _view(w, _member_count(session, wave_id)) if w else None


def list_waves(session: Session) -> list[WaveView]:
    """Every wave, newest first, with its number of invited members."""
    counts = dict(
        session.execute(select(WaveMember.wave_id, func.count()).group_by(WaveMember.wave_id)).all()  # type: ignore[arg-type]
    )
    waves = session.execute(select(SurveyWave).order_by(SurveyWave.id.desc())).scalars()  # type: ignore[union-attr]
    return [_view(w, int(counts.get(w.id, 0))) for w in waves]


def live_waves(session: Session, *, now: datetime) -> list[WaveView]:
    """Waves accepting answers right now (open, between their dates)."""
    t = _aware(now)
    waves = session.execute(
        select(SurveyWave)
        .where(SurveyWave.status == "open", SurveyWave.opens_at <= t, SurveyWave.closes_at > t)
        .order_by(SurveyWave.id)
    ).scalars()
    return [_view(w, _member_count(session, w.id)) for w in waves]  # type: ignore[arg-type]


def close_wave(session: Session, wave_id: int, *, now: datetime) -> bool:
    """Stop a wave early (no more notices; later answers are not counted). False if already closed."""
    result = session.execute(
        update(SurveyWave)
        .where(SurveyWave.id == wave_id, SurveyWave.status == "open")
        .values(status="closed", closed_at=_aware(now))
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


def _in_window(opens_at: datetime) -> object:
    """A submission belongs to a wave that opened at `opens_at` if it started since, or was still under way
    then (started earlier, finished after the opening or not yet): it joins the wave when the wave opens."""
    return or_(
        Submission.started_at >= opens_at,
        Submission.completed_at.is_(None),  # type: ignore[union-attr]
        Submission.completed_at >= opens_at,  # type: ignore[operator]
    )


def link_submissions(session: Session, wave_id: int) -> int:
    """Set Submission.wave_id on members' chat submissions of the wave's questionnaire in its window.

    The rule (member + questionnaire + dates) is what makes a chat submission part of a wave, so no
    flow, engine or dispatcher change is needed; this writes the answer down. A submission started before
    the wave opened and still under way then joins it (see `_in_window`). Idempotent.
    """
    w = session.get(SurveyWave, wave_id)
    if w is None:
        return 0
    closes = w.closed_at if w.closed_at and w.closed_at < w.closes_at else w.closes_at
    members = select(WaveMember.participant_id).where(WaveMember.wave_id == wave_id)
    result = session.execute(
        update(Submission)
        .where(
            Submission.wave_id.is_(None),  # type: ignore[union-attr]
            Submission.flow_id == w.questionnaire_id,
            Submission.mode == "chat",
            Submission.participant_id.in_(members),  # type: ignore[union-attr]
            _in_window(w.opens_at),
            Submission.started_at < closes,
        )
        .values(wave_id=wave_id)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _sub(wave_id: int, *extra: object) -> object:
    return exists().where(
        Submission.wave_id == wave_id, Submission.participant_id == WaveMember.participant_id, *extra
    )


def wave_status(session: Session, wave_id: int, *, until: datetime | None = None) -> WaveStatusView | None:
    """Invited, started, completed, opted out and staff-entered counts per district (links submissions first).

    Members count once each, however many times they started. Responses staff entered without naming a
    member (carers who don't use chat) count as invited, started and completed in their district.
    `until` counts only what had happened before then (a report period ending while the wave is still open).
    """
    wave = get_wave(session, wave_id)
    if wave is None:
        return None
    link_submissions(session, wave_id)
    done: Any = Submission.status == "completed"
    began: Any = true()
    member_in: Any = true()
    if until is not None:
        cut: Any = utc(until)
        done = and_(done, Submission.completed_at < cut)
        began = Submission.started_at < cut
        member_in = WaveMember.added_at < cut
    staff_only = and_(
        _sub(wave_id, done, Submission.mode.in_(STAFF_MODES)),  # type: ignore[union-attr]
        ~_sub(wave_id, done, Submission.mode == "chat"),
    )
    one = 1  # case() branches
    rows: dict[str, list[int]] = {}
    for district, invited, started, completed, opted, staff in session.execute(
        select(
            WaveMember.district,
            func.count(),
            func.sum(case((_sub(wave_id, began), one), else_=0)),
            func.sum(case((_sub(wave_id, done), one), else_=0)),
            func.sum(case((WaveMember.opted_out_at.is_not(None), one), else_=0)),  # type: ignore[union-attr]
            func.sum(case((staff_only, one), else_=0)),
        )
        .where(WaveMember.wave_id == wave_id, member_in)
        .group_by(WaveMember.district)
    ).all():
        rows[district or "unknown"] = [int(invited), int(started or 0), int(completed or 0), int(opted or 0),
                                       int(staff or 0)]
    for district, n, completed in session.execute(
        select(Submission.district, func.count(), func.sum(case((done, one), else_=0)))
        .where(Submission.wave_id == wave_id, Submission.participant_id.is_(None), began)  # type: ignore[union-attr]
        .group_by(Submission.district)
    ).all():
        r = rows.setdefault(district or "unknown", [0, 0, 0, 0, 0])
        r[0] += int(n)
        r[1] += int(n)
        r[2] += int(completed or 0)
        r[4] += int(completed or 0)
    by_mode = dict(
        session.execute(  # type: ignore[arg-type]
            select(Submission.mode, func.count())
            .where(Submission.wave_id == wave_id, done, began, Submission.mode.in_(STAFF_MODES))  # type: ignore[union-attr]
            .group_by(Submission.mode)
        ).all()
    )
    districts = [DistrictStatus(d, *v) for d, v in sorted(rows.items())]
    total = DistrictStatus("total", *(sum(d[i] for d in rows.values()) for i in range(5)))
    return WaveStatusView(wave, districts, total, {m: int(n) for m, n in by_mode.items()})


def notice_candidates(session: Session, wave_id: int) -> list[NoticeCandidate]:
    """Members who may still get a notice: active, not opted out, no completed response in the wave.

    Call `link_submissions` first so chat answers given since the last call are seen. Four flat queries
    merged here: measured ~5x faster than one query with correlated subqueries per member.
    """
    members = session.execute(
        select(WaveMember.id, WaveMember.participant_id)
        .join(Participant, Participant.id == WaveMember.participant_id)
        .where(
            WaveMember.wave_id == wave_id,
            WaveMember.opted_out_at.is_(None),  # type: ignore[union-attr]
            Participant.status == "active",
        )
        .order_by(WaveMember.id)
    ).all()
    sent = {
        mid: (int(n), utc(first), utc(last))
        for mid, n, first, last in session.execute(
            select(
                WaveNotice.member_id, func.count(), func.min(WaveNotice.sent_at), func.max(WaveNotice.sent_at)
            )
            .join(WaveMember, WaveMember.id == WaveNotice.member_id)
            .where(WaveMember.wave_id == wave_id)
            .group_by(WaveNotice.member_id)
        ).all()
    }
    started: set[int] = set()
    done: set[int] = set()
    for pid, status in session.execute(
        select(Submission.participant_id, Submission.status)
        .where(Submission.wave_id == wave_id, Submission.participant_id.is_not(None))  # type: ignore[union-attr]
        .distinct()
    ).all():
        started.add(pid)
        if status == "completed":
            done.add(pid)
    out = []
    for mid, pid in members:
        if pid in done:
            continue
        n, first, last = sent.get(mid, (0, None, None))
        out.append(NoticeCandidate(mid, pid, n, first, last, pid in started))
    return out


@dataclass(frozen=True)
class Presence:
    """What a reminder must respect about someone's conversation: paused, and when it last moved."""

    paused: bool
    last_activity: datetime | None


def presence(session: Session, participant_ids: list[int]) -> dict[int, Presence]:
    """Paused flag and last activity for many participants at once (no row: never chatted)."""
    out: dict[int, Presence] = {}
    for i in range(0, len(participant_ids), 500):
        chunk = participant_ids[i:i + 500]
        for pid, raw, updated in session.execute(
            select(Conversation.participant_id, Conversation.state_json, Conversation.updated_at).where(
                Conversation.participant_id.in_(chunk)  # type: ignore[attr-defined]
            )
        ).all():
            out[pid] = Presence(bool(json.loads(raw).get("paused")), utc(updated))
    return out


def still_due(session: Session, wave_id: int, member_id: int) -> bool:
    """Re-check one member inside the sending transaction: wave open, not opted out, not finished."""
    w = session.get(SurveyWave, wave_id)
    m = session.get(WaveMember, member_id)
    if w is None or m is None or m.opted_out_at is not None or w.status != "open":
        return False
    done = session.execute(
        select(
            exists().where(
                Submission.participant_id == m.participant_id,
                Submission.flow_id == w.questionnaire_id,
                Submission.status == "completed",
                _in_window(w.opens_at),
            )
        )
    ).scalar_one()
    return not done


def last_notice_at(session: Session, participant_id: int, *, other_than_wave: int) -> datetime | None:
    """When this participant was last sent a notice (invitation or reminder) of any other wave."""
    found = session.execute(
        select(func.max(WaveNotice.sent_at))
        .join(WaveMember, WaveMember.id == WaveNotice.member_id)
        .where(WaveMember.participant_id == participant_id, WaveMember.wave_id != other_than_wave)
    ).scalar_one()
    return utc(found) if found is not None else None


def claim_notice(
    session: Session, *, member_id: int, number: int, kind: str, now: datetime
) -> WaveNotice | None:
    """Insert the (member, number) notice row; None if it exists already (another process sent it)."""
    try:
        with session.begin_nested():
            row = WaveNotice(member_id=member_id, number=number, kind=kind, sent_at=_aware(now))
            session.add(row)
            session.flush()
    except IntegrityError:
        return None
    return row


def attach_outbox(session: Session, notice: WaveNotice, outbox_id: int | None) -> None:
    notice.outbox_id = outbox_id
    session.add(notice)


def notices_of(session: Session, wave_id: int) -> list[tuple[int, int, int, str, datetime]]:
    """(member_id, participant_id, number, kind, sent_at) for every notice in a wave, for checks and tests."""
    rows = session.execute(
        select(
            WaveMember.id, WaveMember.participant_id, WaveNotice.number, WaveNotice.kind, WaveNotice.sent_at
        )
        .join(WaveNotice, WaveNotice.member_id == WaveMember.id)
        .where(WaveMember.wave_id == wave_id)
        .order_by(WaveNotice.id)
    ).all()
    return [(m, p, n, k, utc(t)) for m, p, n, k, t in rows]  # type: ignore[misc]


def opt_out(session: Session, participant_id: int, *, now: datetime) -> int:
    """Stop reminders for this participant in every live wave (open, between its dates); returns how many."""
    t = _aware(now)
    live = select(SurveyWave.id).where(
        SurveyWave.status == "open", SurveyWave.opens_at <= t, SurveyWave.closes_at > t
    )
    result = session.execute(
        update(WaveMember)
        .where(
            WaveMember.participant_id == participant_id,
            WaveMember.opted_out_at.is_(None),  # type: ignore[union-attr]
            WaveMember.wave_id.in_(live),  # type: ignore[attr-defined]
        )
        .values(opted_out_at=t)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def member_by_case_ref(session: Session, wave_id: int, case_ref: str) -> WaveMember | None:
    return session.execute(
        select(WaveMember)
        .join(Participant, Participant.id == WaveMember.participant_id)
        .where(WaveMember.wave_id == wave_id, Participant.case_ref == case_ref)
    ).scalar_one_or_none()


def start_staff_entry(
    session: Session,
    *,
    wave_id: int,
    mode: str,
    district: str | None,
    participant_id: int | None,
    now: datetime,
) -> Submission:
    """A submission for a response taken by phone or on paper, in the wave, for answers to be added to.

    Staff entries use negative run numbers so they never collide with the member's own chat runs.
    """
    if mode not in STAFF_MODES:
        raise ValueError(f"mode must be one of {STAFF_MODES}")
    wave = session.get(SurveyWave, wave_id)
    if wave is None:
        raise ValueError(f"no wave {wave_id}")
    run = -1
    if participant_id is not None:
        lowest = session.execute(
            select(func.min(Submission.run)).where(
                Submission.participant_id == participant_id, Submission.flow_id == wave.questionnaire_id
            )
        ).scalar_one()
        run = min(-1, (lowest or 0) - 1)
    sub = Submission(
        participant_id=participant_id,
        flow_id=wave.questionnaire_id,
        run=run,
        mode=mode,
        audience="carer",
        band="carer",
        district=district,
        wave_id=wave_id,
        started_at=_aware(now),
    )
    session.add(sub)
    session.flush()
    return sub

