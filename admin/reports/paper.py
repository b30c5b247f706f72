"""The committee-paper parts of the Panel update: the cover, reach against the number of children in care and
care leavers, and each challenge card followed to its outcome.

The real Panel papers open with From, To, Subject, Classification, a summary and a recommendation, and follow
each card to who accepted it, what was decided, what happened next and what the Panel resolved. This module
builds those view models from staff-written data (storage.panel_papers) and already-protected numbers; it never
publishes a count of its own and never reads a clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from admin.reports.disclosure import percent
from admin.reports.settings import ReportSettings

DEFAULT_RECOMMENDATION = (
    "The Panel is asked to NOTE what children and young people in care and care leavers told us, and to "
    "CONSIDER and COMMENT ON the challenge cards and the actions taken in response."
)


def long_date(d: date) -> str:
    return f"{d.day} {d.strftime('%B')} {d.year}"


@dataclass
class Cover:
    """The block at the top of a committee paper."""

    sender: str
    to: str
    subject: str
    classification: str
    summary: str
    recommendation: str
    contact: str
    background: list[str]
    written: bool  # the manager wrote the summary for this Panel (otherwise it is the standard wording)


def cover(
    settings: ReportSettings, paper: object | None, *, meeting: date | None, period_label: str
) -> Cover:
    """The cover from settings plus what the manager wrote for this Panel (standard wording otherwise)."""
    to = settings.paper_to + (f" \u2013 {long_date(meeting)}" if meeting else "")
    summary = getattr(paper, "summary", None) or (
        f"This paper tells the Panel what children in care and care leavers said through ourvoice and the "
        f"councils from {period_label}: who we heard from, what the councils did, the challenge cards they "
        "raised and what happened to them, and what foster carers told us."
    )
    return Cover(
        sender=settings.paper_from,
        to=to,
        subject=f"Voice of children in care and care leavers: participation update, {period_label}",
        classification=settings.paper_classification,
        summary=summary,
        recommendation=getattr(paper, "recommendation", None) or DEFAULT_RECOMMENDATION,
        contact=settings.paper_contact,
        background=[b.strip() for b in settings.paper_background.split(";") if b.strip()],
        written=bool(getattr(paper, "summary", None)),
    )


@dataclass
class ReachRow:
    group: str
    heard: str
    population: str
    share: str


@dataclass
class Reach:
    rows: list[ReachRow]
    note: str


def reach_against_population(
    heard_by_band: dict[str, int | None], heard_total: int | None, paper: object | None
) -> Reach:
    """People heard against the number of children in care and care leavers the manager entered for this
    Panel. Only published (protected) counts are used; a share is given only when percent() allows it."""
    cic = getattr(paper, "children_in_care", None)
    leavers = getattr(paper, "care_leavers", None)
    if not cic and not leavers:
        return Reach([], "The number of children in care and care leavers for the period has not been entered "
                         "yet (ourvoice report population), so no share is given.")
    rows: list[ReachRow] = []
    junior, teen = heard_by_band.get("junior"), heard_by_band.get("teen")
    if cic:
        under16 = junior + teen if junior is not None and teen is not None else None
        rows.append(ReachRow(
            "Children in care (we heard from those aged 7 to 16)", f"{under16:,}" if under16 is not None else
            "not shown", f"{cic:,}", percent(under16, cic) or "no share: a figure is not shown",
        ))
    if cic and leavers:
        rows.append(ReachRow(
            "Children in care and care leavers together (every age we heard from)",
            f"{heard_total:,}" if heard_total is not None else "not shown", f"{cic + leavers:,}",
            percent(heard_total, cic + leavers) or "no share: a figure is not shown",
        ))
    elif leavers:
        older = heard_by_band.get("young_adult")
        rows.append(ReachRow(
            "Care leavers (we heard from those aged 16 to 25)", f"{older:,}" if older is not None else "not shown",
            f"{leavers:,}", percent(older, leavers) or "no share: a figure is not shown",
        ))
    return Reach(rows, "Children in care include those under 7 and aged 16 or 17, whom the first line leaves "
                       "out, so its share is a little lower than the true one. Shares are worked out from the "
                       "published figures only.")


# --- challenge cards to their outcome --------------------------------------------------------------------

BEFORE_OWNER = "Participation team (no senior owner until it is accepted)"


@dataclass
class CardOutcome:
    challenge: str
    council: str
    state: str
    owner: str
    raised: str
    decision: str  # what was decided and when ("" while none yet)
    follow_up: list[str]  # dated progress notes
    resolution: str  # the Panel's resolution(s), dated
    last_update: str
    days_open: str
    is_open: bool
    steps: list[str] = field(default_factory=list)


def card_outcome(
    card: object, resolutions: Sequence[object], *, now: datetime, tz: str, state_label: str, council_label: str,
    challenge: str,
) -> CardOutcome:
    """One card followed through its events: who owns it, what was decided, follow-up and the Panel's word."""
    zone = ZoneInfo(tz)

    def day(dt: datetime) -> str:
        return long_date(dt.astimezone(zone).date())

    events = list(getattr(card, "events", ()) or ())
    owner = getattr(card, "owner_role", None) or next(
        (e.owner_role for e in reversed(events) if getattr(e, "owner_role", None)), None
    )
    decision = ""
    follow: list[str] = []
    for e in events:
        note = " ".join((e.note or "").split())
        if e.to_state == "accepted":
            decision = f"Accepted by {e.owner_role or owner or 'a senior officer'} on {day(e.at)}" + (
                f": {note}" if note else ""
            )
        elif e.to_state == "declined":
            decision = f"Declined on {day(e.at)}" + (f": {note}" if note else "")
        elif e.to_state in ("progress_update", "closed") and note:
            follow.append(f"{day(e.at)}: {note}")
        elif e.to_state == "closed":
            follow.append(f"{day(e.at)}: done")
    created: datetime = card.created_at  # type: ignore[attr-defined]
    updated: datetime = getattr(card, "updated_at", None) or created
    is_open = bool(getattr(card, "is_open", True))
    stop = now if is_open else updated
    res = "; ".join(f"Panel of {long_date(r.panel_date)}: {r.resolution}" for r in resolutions)  # type: ignore[attr-defined]
    return CardOutcome(
        challenge=challenge,
        council=council_label,
        state=state_label,
        owner=owner or BEFORE_OWNER,
        raised=day(created),
        decision=decision,
        follow_up=follow,
        resolution=res,
        last_update=day(updated),
        days_open=str(max(0, (stop - created).days)),
        is_open=is_open,
    )
