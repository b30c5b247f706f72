"""The dashboard: people heard in the last whole month or quarter (by council, age band, district; every
count through the one disclosure layer), open alerts with their age, challenge cards by state and carer
wave response rates.

People heard cover fixed periods that have ended, from their frozen roll-ups, protected once per period
(admin/reports/reach.py) with every district-scoped view cut from that one result: a figure never changes
between two visits, so no two views can be differenced. The `dashboard_refresh` job works the figures out
ahead (admin/jobs/dashboard.py) so the page stays fast.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from weakref import WeakKeyDictionary

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from admin.actions.policy import Actor, districts_of, may_read
from admin.web.policy import Ctx, requires
from admin.web.routing import AdminRoute
from storage import admin_views
from storage import alerts as alert_store
from storage.db import utc

router = APIRouter(route_class=AdminRoute)
NAV = "Dashboard"
PERIODS = {"month": "Last whole month", "quarter": "Last whole quarter"}
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
    hidden: str = "not shown"  # one label for every hidden count: it must not say which ones are small


def _rows(pairs: list[tuple[str, int | None]], labels: Mapping[str, str]) -> list[Row]:
    from admin.reports.catalog import label

    return [Row(label(labels, k), v) for k, v in pairs]


def summarise(solved: Any, *, districts: tuple[str, ...] | None) -> dict:
    """What one viewer sees of a period's one protected result: everything for all-districts staff; for
    district-scoped staff their own districts' rows, and sums of them only when every part is published
    (a sum over a hidden part would be a new figure; a sum of published ones tells nothing new)."""
    from admin.reports.catalog import BAND_LABELS, COUNCIL_LABELS, DISTRICT_LABELS, YOUNG_BANDS
    from admin.reports.reach import summed

    bands = BAND_LABELS
    if districts is None:
        return {
            "total": solved.total(),
            "council": _rows(solved.by_council(), COUNCIL_LABELS),
            "band": _rows(solved.by_band(), bands),
            "district": _rows(solved.by_district(), DISTRICT_LABELS),
        }
    own = [d for d in solved.tables.districts if d in districts]
    per = {d: dict(solved.district_bands(d)) for d in own}
    return {
        "total": summed(solved.district_total(d) for d in own) if own else None,
        "council": None,  # councils by district are not published: not something a scoped view can cut out
        "band": _rows([(b, summed(per[d][b] for d in own) if own else None) for b in YOUNG_BANDS], bands),
        "district": _rows([(d, solved.district_total(d)) for d in own], DISTRICT_LABELS),
    }


def reach_flows(library: Any) -> list[str]:
    """Flows whose answers count as 'heard' (the same list the Panel reports use)."""
    from admin.reports.catalog import reach_flows as report_reach_flows

    return report_reach_flows(library)


# engine -> (council, period) -> result: one service serves several councils (issue 26), each its own figures.
_SOLVED: WeakKeyDictionary[Any, dict[tuple[str, tuple[date, date]], Any]] = WeakKeyDictionary()


def solved_period(engine: Any, library: Any, settings: Any, key: str, now: datetime) -> tuple[Any, tuple[date, date]]:
    """The protected people-heard figures of the last whole month or quarter before `now`.

    An ended period's roll-up is frozen, so its protected result never changes: worked out once per
    process (the refresh job does it ahead) and kept."""
    from admin.reports import reach
    from storage import tenancy
    from storage.db import session

    period = reach.last_whole(now, settings.timezone)[key]
    memo = _SOLVED.setdefault(engine, {})
    mine = (tenancy.current(), period)
    if mine not in memo:
        with session(engine) as s:
            memo[mine] = reach.for_period(s, library, period, settings=settings, now=now)
    return memo[mine], period


def heard(web: Any, period: str, now: datetime, scope: tuple[str, ...] | None) -> tuple[dict, tuple[date, date]]:
    """People heard in the chosen fixed period, as this viewer may see them."""
    solved, span = solved_period(web.engine, web.library, web.rt.report_settings, period, now)
    return summarise(solved, districts=scope), span


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
    """Each wave's counts protected once over all its districts (admin.reports.staff_counts.wave); a scoped
    viewer sees sums of their own districts' published figures only (a hidden part hides the sum)."""
    try:
        from storage import waves
    except ImportError:
        return None
    from admin.reports.disclosure import percent
    from admin.reports.reach import summed
    from admin.reports.staff_counts import wave as protected_wave

    out = []
    for w in waves.list_waves(s):
        if w.state(now) not in ("open", "scheduled", "ended"):
            continue
        if scope is not None and w.districts and not set(w.districts) & set(scope):
            continue  # another district's wave: its page answers 404 to this viewer, so it is not listed
        st = waves.wave_status(s, w.id)
        if st is None:
            continue
        counts = protected_wave(st.districts, st.total)
        if scope is None:
            invited, started, completed = counts.total.invited, counts.total.started, counts.total.completed
        else:
            rows = [r for r in counts.rows if r.district in scope]
            invited = summed(r.invited for r in rows) if rows else None
            started = summed(r.started for r in rows) if rows else None
            completed = summed(r.completed for r in rows) if rows else None
        out.append(
            {
                "wave": w,
                "state": w.state(now),
                "invited": invited,
                "started": started,
                "completed": completed,
                "rate": percent(completed, invited),
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
def dashboard(request: Request, period: str = "month", *, ctx: Annotated[Ctx, Depends(POLICY)]) -> Response:
    web, user = ctx.web, ctx.user
    period = period if period in PERIODS else "month"
    scope = user.scope()
    counts, span = heard(web, period, ctx.now, scope)
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
        span=span,
        period=period,
        periods=PERIODS,
        alerts=alerts,
        cards=cards,
        waves=waves,
    )
