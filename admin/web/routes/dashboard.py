"""The dashboard: people heard this period (by council, age band, district; small counts hidden), open
alerts with their age, challenge cards by state and carer wave response rates.

Every number is an aggregate computed in SQL. People heard come from a snapshot that the
`dashboard_refresh` job recomputes every five minutes (admin/jobs/dashboard.py), so the page stays fast
whatever the number of answers.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.actions.policy import Actor, districts_of, may_read
from admin.web.app import AdminRoute
from admin.web.policy import Ctx, requires
from storage import admin_views
from storage import alerts as alert_store
from storage.db import utc

router = APIRouter(route_class=AdminRoute)
NAV = "Dashboard"
THRESHOLD = 5
STALE_AFTER = timedelta(minutes=15)  # the refresh job runs every 5 minutes; recompute here if it has stopped
PERIODS = {"30": "Last 30 days", "90": "Last 90 days", "365": "Last 12 months"}
ALERT_ROLES = frozenset({"safeguarding_lead", "participation_manager"})
CARD_ROLES = frozenset({"participation_worker", "participation_manager", "panel_viewer"})
WAVE_ROLES = frozenset({"fostering_team", "participation_manager"})
POLICY = requires(
    "participation_worker",
    "participation_manager",
    "fostering_team",
    "safeguarding_lead",
    "panel_viewer",
    district_scoped=True,
)


@dataclass(frozen=True)
class Row:
    label: str
    people: int | None  # None = hidden
    hidden: str = ""  # why: "fewer than 5", or "hidden" when it would let a small count be worked out


def _protect(counter: Counter, labels: dict[str, str]) -> tuple[list[Row], int | None]:
    """Rows with small counts hidden, plus enough others that none can be worked out from the total.

    Returns the rows and the total (None when the total itself had to be hidden).
    """
    from admin.reports.catalog import label
    from admin.reports.disclosure import protect_list

    keys = sorted(counter)
    if not keys:
        return [], 0
    protected = protect_list([counter[k] for k in keys], total=True)
    total = protected.row_totals[0] if protected.row_totals else None
    rows = [
        Row(
            label(labels, k),
            protected.cells[0][i],
            "not shown",  # one label for every hidden count: it must not say which ones are small (issue #19)
        )
        for i, k in enumerate(keys)
    ]
    return rows, total


def reach_flows(library: Any) -> list[str]:
    """Flows whose answers count as 'heard' (the same list the Panel reports use)."""
    from admin.reports.catalog import reach_flows as report_reach_flows

    return report_reach_flows(library)


def summarise(cells: list, *, districts: tuple[str, ...] | None, audience: str | None = None) -> dict:
    """Margins by council, band and district from reach cells, protected for publication."""
    from admin.reports.catalog import BAND_LABELS, COUNCIL_LABELS, DISTRICT_LABELS

    by_council: Counter = Counter()
    by_band: Counter = Counter()
    by_district: Counter = Counter()
    total = 0
    for cell in cells:
        if districts is not None and cell.district not in districts:
            continue
        if audience and cell.audience != audience:
            continue
        by_council[cell.council] += cell.people
        by_band[cell.band] += cell.people
        by_district[cell.district] += cell.people
        total += cell.people
    council, t1 = _protect(by_council, COUNCIL_LABELS)
    band, t2 = _protect(by_band, {**BAND_LABELS, "": "Age not given"})
    district, t3 = _protect(by_district, DISTRICT_LABELS)
    shown = total if total >= THRESHOLD and None not in (t1, t2, t3) else None
    return {"total": shown, "council": council, "band": band, "district": district}


def refresh_period(library: Any, s: Any, days: int, now: datetime) -> tuple[datetime, list]:
    """Recompute one rolling period's people-heard cells (the slow part) and store them as its snapshot."""
    since, until = now - timedelta(days=days), now + timedelta(seconds=1)  # an answer this second counts
    cells = admin_views.reach_cells(s, since=since, until=until, flow_ids=reach_flows(library))
    admin_views.save_reach_snapshot(s, days, cells, now=now)
    return now, cells


def heard(web: Any, period: str, now: datetime, scope: tuple[str, ...] | None) -> tuple[dict, datetime]:
    """People heard, from the snapshot the refresh job keeps; computed here only when there is none
    yet or it is older than STALE_AFTER (the job has stopped)."""
    days = int(period)
    with web.db() as s:
        snap = admin_views.reach_snapshot(s, days)
    if snap is None or not timedelta(0) <= now - snap[0] < STALE_AFTER:
        with web.db() as s:
            snap = refresh_period(web.library, s, days, now)
    return summarise(snap[1], districts=scope), snap[0]


def cards_by_state(s: Any, user: Actor) -> list[tuple[str, int]] | None:
    """Cards per state, counting only cards in the viewer's districts (Kent-wide cards count for all)."""
    try:
        from storage import challenges
    except ImportError:
        return None
    cards = challenges.list_cards(s)
    if not user.all_districts:
        where = admin_views.card_districts(s, [c.id for c in cards])
        cards = [c for c in cards if may_read(user, districts_of(where.get(c.id)))]
    counts = Counter(c.state for c in cards)
    return [(st, counts.get(st, 0)) for st in challenges.STATES]


def wave_rates(s: Any, now: datetime, scope: tuple[str, ...] | None) -> list[dict] | None:
    try:
        from storage import waves
    except ImportError:
        return None
    out = []
    for w in waves.list_waves(s):
        if w.state(now) not in ("open", "scheduled", "ended"):
            continue
        if scope is not None and w.districts and not set(w.districts) & set(scope):
            continue  # another district's wave: its page answers 404 to this viewer, so it is not listed
        st = waves.wave_status(s, w.id)
        if st is None:
            continue
        rows = [d for d in st.districts if scope is None or d.district in scope]
        invited = sum(d.invited for d in rows)
        completed = sum(d.completed for d in rows)
        started = sum(d.started for d in rows)
        out.append(
            {
                "wave": w,
                "state": w.state(now),
                "invited": invited,
                "started": started if started >= THRESHOLD else None,
                "completed": completed if completed >= THRESHOLD else None,
                "rate": f"{round(100 * completed / invited)}%"
                if invited >= THRESHOLD and completed >= THRESHOLD
                else None,
            }
        )
    return out


def _alert_visible(s: Any, user: Actor, alert_ref: str) -> bool:
    """Whether the viewer's alert page for this alert would open (same rule as the alerts resolver)."""
    if user.all_districts:
        return True
    found = admin_views.alert_district(s, alert_ref)
    return found is not admin_views.MISSING and may_read(
        user, districts_of(found if isinstance(found, str) else None)
    )


@router.get("/")
def dashboard(request: Request, period: str = "90", *, ctx: Annotated[Ctx, Depends(POLICY)]) -> Response:
    web, user = ctx.web, ctx.user
    period = period if period in PERIODS else "90"
    scope = user.scope()
    counts, counted_at = heard(web, period, ctx.now, scope)
    with web.db() as s:
        alerts = None
        if user.role in ALERT_ROLES:
            alerts = [
                {
                    "ref": a.alert_ref,
                    "status": a.status,
                    "age": ctx.now - utc(a.created_at),  # type: ignore[operator]
                    "level": a.escalation_level,
                    "categories": a.categories,
                }
                for a in alert_store.all_alerts(s)
                if a.status != "closed" and _alert_visible(s, user, a.alert_ref)
            ]
        cards = cards_by_state(s, user) if user.role in CARD_ROLES else None
        waves = wave_rates(s, ctx.now, scope) if user.role in WAVE_ROLES else None
    return web.render(
        request,
        ctx,
        "dashboard.html",
        title="Dashboard",
        heard=counts,
        counted_at=counted_at,
        period=period,
        periods=PERIODS,
        alerts=alerts,
        cards=cards,
        waves=waves,
    )
