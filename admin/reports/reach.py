"""People heard per fixed period, protected once and shared by every view: the Panel update's headline,
the dashboard's all-districts view and every district-scoped view.

One period's figures are one `Publication`: young people by council and age band (the update's headline
table, structural zeros as "–") and by area and age band (the dashboard), sharing their band totals and
grand total. A district-scoped view shows only its own rows of that one protected result, and a sum over
several rows only when every part of it is published, so any number of views together tell an attacker
nothing the all-districts view does not. Fixed periods that overlap (the months of a quarter, a quarter
inside a Panel cycle) are protected in sequence: each period is solved with the earlier-ending periods it
overlaps already published exactly as they were (month ≤ quarter ≤ sum of its months), so a month and its
quarter cannot be differenced either. Reads frozen roll-ups only; never logs counts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from admin.reports import catalog, periods
from admin.reports.catalog import COUNCIL_LABELS, DISTRICTS, YOUNG_BANDS
from admin.reports.disclosure import Publication, Result, TableKeys
from admin.reports.settings import ReportSettings

# People with no age band or no area count in the totals only (never a row or column of their own: an
# always-empty row would cost protection for nothing, and one that came and went would say so).
Period = tuple[date, date]


def period_key(p: Period) -> str:
    """The roll-up key the Panel update uses for the same period (so both read the same frozen figures)."""
    return f"{p[0].isoformat()}..{p[1].isoformat()}"


def councils_for(cells: Iterable[object]) -> list[str]:
    """Every council always listed (a row that appeared only when someone was there would say so)."""
    base = [k for k in COUNCIL_LABELS if k] + [""]
    extra = sorted({getattr(c, "council", "") or "" for c in cells} - set(base))
    return base + extra


def districts_for(cells: Iterable[object]) -> list[str]:
    base = list(DISTRICTS)
    extra = sorted({getattr(c, "district", "") or "" for c in cells} - {*base, ""})
    return base + extra


@dataclass
class PeriodTables:
    """Where one period's two tables live in the shared Publication, and their row/column keys."""

    period: Period
    councils: list[str]
    districts: list[str]
    cb: TableKeys  # council x young band, band not given in the row totals only
    db: TableKeys  # district x young band, age not given in the row totals only
    cb_values: dict[tuple[str, str], int]
    db_values: dict[tuple[str, str], int]
    carers: object  # the key of the number of foster carers heard (one figure, the Panel update's headline)

    def keys(self) -> set[object]:
        out: set[object] = {self.carers}
        for t in (self.cb, self.db):
            for i in range(t.m + 1):
                for j in range(t.n + 1):
                    out.add(t.key((i, j)))
        return out


def _young(cells: Iterable[object]) -> list[object]:
    return [c for c in cells if getattr(c, "audience", "") != "carer"]


def _carers(cells: Iterable[object]) -> int:
    return sum(int(getattr(c, "people", 0)) for c in cells if getattr(c, "audience", "") == "carer")


def register(pub: Publication, p: Period, cells: Sequence[object]) -> PeriodTables:
    """Add one period's people-heard tables (young people) and its number of foster carers heard to `pub`,
    linked as an attacker could. The carers' figure is one count, but it overlaps the same figure for
    every other period as the young people's tables do (a month's carers are among its quarter's), so it is
    protected across periods in the same problem rather than on its own."""
    young = _young(cells)
    councils, districts = councils_for(young), districts_for(young)
    cb: dict[tuple[str, str], int] = defaultdict(int)
    rest: dict[str, int] = defaultdict(int)
    db: dict[tuple[str, str], int] = defaultdict(int)
    db_rest: dict[str, int] = defaultdict(int)
    nowhere: dict[str, int] = defaultdict(int)  # by band ("" = not given): people with no area
    for c in young:
        council, band = c.council or "", c.band or ""  # type: ignore[attr-defined]
        district = c.district or ""  # type: ignore[attr-defined]
        n = int(c.people)  # type: ignore[attr-defined]
        band = band if band in YOUNG_BANDS else ""
        if band:
            cb[(council, band)] += n
        else:
            rest[council] += n
        if not district:
            nowhere[band] += n
        elif band:
            db[(district, band)] += n
        else:
            db_rest[district] += n
    zeros = {z for z in catalog.structural_zeros(councils, list(YOUNG_BANDS)) if cb.get(z, 0) == 0}
    name = period_key(p)
    t_cb = pub.table(
        (name, "cb"),
        [[cb.get((c, b), 0) for b in YOUNG_BANDS] for c in councils],
        structural=[(i, j) for i, c in enumerate(councils) for j, b in enumerate(YOUNG_BANDS) if (c, b) in zeros],
        unpublished=[rest.get(c, 0) for c in councils],
    )
    t_db = pub.table(
        (name, "db"),
        [[db.get((d, b), 0) for b in YOUNG_BANDS] for d in districts],
        unpublished=[db_rest.get(d, 0) for d in districts],
    )
    # The same people: by band and in all, the two tables differ only by the people with no area.
    for j, b in enumerate(YOUNG_BANDS):
        nd = pub.latent((name, "nowhere", b), nowhere.get(b, 0))
        pub.equal({t_cb.key((t_cb.m, j)): 1, t_db.key((t_db.m, j)): -1, nd: -1})
    nd_rest = pub.latent((name, "nowhere", ""), nowhere.get("", 0))
    pub.equal({
        t_cb.key((t_cb.m, t_cb.n)): 1,
        t_db.key((t_db.m, t_db.n)): -1,
        nd_rest: -1,
        **{(name, "nowhere", b): -1 for b in YOUNG_BANDS},
    })
    carers = pub.count((name, "carers"), _carers(cells))
    return PeriodTables(p, councils, districts, t_cb, t_db, dict(cb), dict(db), carers)


def _link(pub: Publication, small: PeriodTables, big: PeriodTables) -> None:
    """A period inside another: nobody heard in the small one is missing from the big one (same cell)."""
    for s_t, b_t, s_rows, b_rows in ((small.cb, big.cb, small.councils, big.councils),
                                     (small.db, big.db, small.districts, big.districts)):
        for i, r in enumerate([*s_rows, None]):
            if r is not None and r not in b_rows:
                continue
            bi = b_t.m if r is None else b_rows.index(r)
            for j in range(s_t.n + 1):
                k_small, k_big = s_t.key((i, j)), b_t.key((bi, j))
                if k_small in pub.structural or k_big in pub.structural:
                    continue
                pub.fact({k_small: 1, k_big: -1})
    pub.fact({small.carers: 1, big.carers: -1})


def _sum_link(pub: Publication, parts: Sequence[PeriodTables], whole: PeriodTables) -> None:
    """Everyone heard in a period was heard in at least one of its months (same cell)."""
    for which in ("cb", "db"):
        w_t: TableKeys = getattr(whole, which)
        w_rows = whole.councils if which == "cb" else whole.districts
        for i, r in enumerate([*w_rows, None]):
            for j in range(w_t.n + 1):
                k = w_t.key((i, j))
                if k in pub.structural:
                    continue
                terms: dict[object, int] = {k: 1}
                for part in parts:
                    p_t: TableKeys = getattr(part, which)
                    p_rows = part.councils if which == "cb" else part.districts
                    if r is not None and r not in p_rows:
                        continue
                    pk = p_t.key((p_t.m if r is None else p_rows.index(r), j))
                    if pk not in pub.structural:
                        terms[pk] = terms.get(pk, 0) - 1
                pub.fact(terms)
    pub.fact({whole.carers: 1, **{part.carers: -1 for part in parts}})


def months_of(p: Period) -> list[Period]:
    out, d = [], p[0]
    while d <= p[1]:
        out.append(periods.month(d.year, d.month))
        d = out[-1][1] + timedelta(days=1)
    return out


def earlier_overlapping(p: Period, known: Sequence[Period]) -> list[Period]:
    """Fixed periods that overlap `p` and were complete before it (so may have been published first):
    its months, and any other known period that overlaps it and ends no later."""
    out = [m for m in months_of(p) if m != p]
    for q in known:
        if q != p and q not in out and q[0] <= p[1] and p[0] <= q[1] and (q[1], q[1] - q[0]) < (p[1], p[1] - p[0]):
            out.append(q)
    return out


@dataclass(frozen=True)
class Solved:
    """One period's protected people-heard figures (hidden = None), every view's only source."""

    tables: PeriodTables
    result: Result

    def shown(self, key: object) -> int | None:
        return self.result.shown(key)

    @property
    def hidden(self) -> frozenset[object]:
        return frozenset(self.result.hidden & self.tables.keys())

    def carers(self) -> int | None:
        """The number of foster carers heard in the period, or None when hidden."""
        return self.shown(self.tables.carers)

    def total(self) -> int | None:
        t = self.tables.cb
        return self.shown(t.key((t.m, t.n)))

    def by_council(self) -> list[tuple[str, int | None]]:
        t = self.tables.cb
        return [(c, self.shown(t.key((i, t.n)))) for i, c in enumerate(self.tables.councils)]

    def by_band(self) -> list[tuple[str, int | None]]:
        t = self.tables.cb
        return [(b, self.shown(t.key((t.m, j)))) for j, b in enumerate(YOUNG_BANDS)]

    def by_district(self) -> list[tuple[str, int | None]]:
        t = self.tables.db
        return [(d, self.shown(t.key((i, t.n)))) for i, d in enumerate(self.tables.districts)]

    def district_bands(self, district: str) -> list[tuple[str, int | None]]:
        t = self.tables.db
        if district not in self.tables.districts:
            return [(b, None) for b in YOUNG_BANDS]
        i = self.tables.districts.index(district)
        return [(b, self.shown(t.key((i, j)))) for j, b in enumerate(YOUNG_BANDS)]

    def district_total(self, district: str) -> int | None:
        t = self.tables.db
        if district not in self.tables.districts:
            return None
        return self.shown(t.key((self.tables.districts.index(district), t.n)))


def summed(values: Iterable[int | None]) -> int | None:
    """A sum of published figures, or None when any part is hidden (a sum over hidden parts is new)."""
    vals = list(values)
    return None if any(v is None for v in vals) else sum(v for v in vals if v is not None)


Loader = Callable[[Period], Sequence[object]]

# Solved problems by their exact input (the periods and every count in them): the same frozen figures
# always give the same result, so a process works each one out once (the greedy search takes seconds).
_RESULTS: dict[tuple[object, ...], Result] = {}


def _cells_key(cells: Sequence[object]) -> tuple[object, ...]:
    return tuple(sorted(
        (str(getattr(c, "audience", "")), str(getattr(c, "council", "") or ""), str(getattr(c, "band", "") or ""),
         str(getattr(c, "district", "") or ""), int(getattr(c, "people", 0)))
        for c in cells
    ))


def solve(p: Period, load: Loader, *, known: Callable[[Period], Sequence[Period]] = lambda p: (),
          _memo: dict[Period, Solved] | None = None) -> Solved:
    """Protect period `p`, with every earlier-ending fixed period it overlaps published first, exactly as
    it is on its own (recursively, memoised). `known(q)` lists the fixed periods that may overlap q, so
    each period's result depends on that period alone, whoever asks for it."""
    memo = {} if _memo is None else _memo
    if p in memo:
        return memo[p]
    before = earlier_overlapping(p, known(p))
    earlier = {q: solve(q, load, known=known, _memo=memo) for q in before}
    pub = Publication()
    loaded = {q: load(q) for q in [*before, p]}
    tables = {q: register(pub, q, loaded[q]) for q in [*before, p]}
    mine = tables[p]
    for q in before:
        if q[0] >= p[0] and q[1] <= p[1]:
            _link(pub, tables[q], mine)
        for r in before:
            if r != q and r[0] >= q[0] and r[1] <= q[1]:
                _link(pub, tables[r], tables[q])
    for q in [p, *before]:
        parts = [tables[m] for m in months_of(q) if m in tables and m != q]
        if len(parts) == len(months_of(q)):
            _sum_link(pub, parts, tables[q])
    hidden: set[object] = set()
    fixed: set[object] = set()
    for q, s in earlier.items():
        # The same period's keys in this Publication are the same keys (named by period), so an earlier
        # result's pattern carries over as it is.
        fixed |= tables[q].keys()
        hidden |= s.hidden
    signature = (p, tuple((q, _cells_key(loaded[q])) for q in [*before, p]), tuple(sorted(hidden, key=repr)))
    result = _RESULTS.get(signature)
    if result is None:
        # On its own, the careful search (narrowest leak first); with earlier periods fixed the problem is
        # several times bigger, and mending the first leak found keeps it to seconds.
        result = pub.solve(hidden=hidden, fixed=fixed, quick=bool(before))
        if len(_RESULTS) >= 64:
            _RESULTS.pop(next(iter(_RESULTS)))
        _RESULTS[signature] = result
    memo[p] = Solved(mine, result)
    return memo[p]


def known_periods(p: Period, settings: ReportSettings) -> list[Period]:
    """The fixed periods that may overlap `p`: its months, the quarters and Panel cycles touching it."""
    out: list[Period] = []
    for m in months_of(p):
        q = periods.quarter(m[0].year, (m[0].month - 1) // 3 + 1)
        if q not in out:
            out.append(q)
    out += [c for c in periods.panel_cycles(settings) if c[0] <= p[1] and p[0] <= c[1]]
    return out


def bounds(p: Period, tz: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC: local midnight at the start, midnight after the last day (as the update)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(p[0], time(0), zone).astimezone(UTC)
    end = datetime.combine(p[1] + timedelta(days=1), time(0), zone).astimezone(UTC)
    return start, end


def for_period(session: object, library: object, p: Period, *, settings: ReportSettings, now: datetime) -> Solved:
    """The protected people-heard figures of an ended fixed period, from frozen roll-ups."""
    from storage import reporting, rollups

    reach = catalog.reach_flows(library)  # type: ignore[arg-type]

    def load(q: Period) -> Sequence[object]:
        since, until = bounds(q, settings.timezone)
        rollups.refresh(session, period_key(q), since=since, until=until, reach_flows=reach, now=now,  # type: ignore[arg-type]
                        private_flows=catalog.private_flows(library))  # type: ignore[arg-type]
        return reporting.rolled_reach(session, period_key(q))  # type: ignore[arg-type]

    return solve(p, load, known=lambda q: known_periods(q, settings))


def last_whole(now: datetime, tz: str) -> dict[str, Period]:
    """The last whole calendar month and quarter before `now` (local time): the dashboard's periods."""
    today = now.astimezone(ZoneInfo(tz)).date()
    prev_day = today.replace(day=1) - timedelta(days=1)
    q = (today.month - 1) // 3 + 1
    quarter = periods.quarter(today.year, q - 1) if q > 1 else periods.quarter(today.year - 1, 4)
    return {"month": periods.month(prev_day.year, prev_day.month), "quarter": quarter}
