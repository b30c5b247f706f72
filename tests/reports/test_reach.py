"""People heard on the dashboard (issue #19 items 1-3): fixed ended periods only, every district-scoped view
cut from one protected result, and a quarter protected with its months already published. An attacker
written here (tests/reports/attacker.py) gets every view at once and finds no hidden small count narrower
than 5; adding a person changes no figure any view shows.
"""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from admin.reports import periods, reach
from admin.reports.catalog import COUNCIL_BANDS, YOUNG_BANDS
from admin.web.routes.dashboard import summarise
from storage.db import make_engine, session
from tests.reports.attacker import BAR, Knowledge
from tests.reports.conftest import NOW, frozen_library, report_settings, runtime

MONTH = periods.month(2026, 11)
QUARTER = periods.quarter(2026, 3)


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from admin.commands.demo_cmd import seed_demo
    from storage.migrate import create_missing_tables, upgrade

    path = tmp_path_factory.mktemp("reach") / "small.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, path.parent)
    seed_demo(rt, people=60, seed=7, months=6, now=NOW)
    rt.engine.dispose()
    return url


@pytest.fixture(scope="module")
def solved(small_db: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Each period of interest solved once for the module (the dashboard does the same per process)."""
    engine = make_engine(small_db)
    settings = report_settings(tmp_path_factory.mktemp("settings"))
    out = {}
    try:
        with session(engine) as s:
            for p in (MONTH, QUARTER, *reach.months_of(QUARTER)):
                out[p] = reach.for_period(s, frozen_library(), p, settings=settings, now=NOW)
    finally:
        engine.dispose()
    return out


def _truth(sv: reach.Solved) -> dict:
    return sv.result.pub.values


def add_period(k: Knowledge, sv: reach.Solved, tag: str, views: list[tuple[str, ...] | None]) -> None:
    """Base unknowns of one period (people by area and band, by council and band; with no band, or no
    area, in the totals only) and every figure each view prints, tied to them by the sums they are."""
    t, truth = sv.tables, _truth(sv)
    db, cb = t.db, t.cb

    def base(*key: object) -> tuple:
        return ("latent", tag, *key)

    for i, d in enumerate(t.districts):
        k.unknown(base("dbrest", d), truth[(db.name, i, "rest")])
        for j, b in enumerate(YOUNG_BANDS):
            k.unknown(base("db", d, b), truth[db.key((i, j))])
    for b in (*YOUNG_BANDS, ""):
        k.unknown(base("nowhere", b), truth[(period_name(sv), "nowhere", b)])
    for i, c in enumerate(t.councils):
        k.unknown(base("rest", c), truth[(cb.name, i, "rest")])
        for j, b in enumerate(YOUNG_BANDS):
            if c in COUNCIL_BANDS and b not in COUNCIL_BANDS[c]:
                continue  # structural zero: known to be 0, no unknown at all
            k.unknown(base("cb", c, b), truth[cb.key((i, j))])
    # The same people: by band, the two breakdowns differ only by the people with no area.
    for b in YOUNG_BANDS:
        k.equations.append({**{base("db", d, b): 1 for d in t.districts}, base("nowhere", b): 1,
                            **{base("cb", c, b): -1 for c in t.councils if base("cb", c, b) in k.truth}})
    k.equations.append({**{base("dbrest", d): 1 for d in t.districts}, base("nowhere", ""): 1,
                        **{base("rest", c): -1 for c in t.councils}})

    def figure(name: tuple, shown: int | None, parts: dict) -> None:
        key = (tag, *name)
        true = sum(k.truth[p] * c for p, c in parts.items())
        if key in k.shown:
            assert k.shown[key] == shown or k.shown[key] is None or shown is None, key
            if shown is not None:
                k.shown[key] = shown
            return
        k.entry(key, true, shown)
        k.equations.append({**parts, key: -1})

    def in_area(d: str) -> dict:
        return {**{base("db", d, b): 1 for b in YOUNG_BANDS}, base("dbrest", d): 1}

    everyone = {**{base("cb", c, b): 1 for c in t.councils for b in YOUNG_BANDS if base("cb", c, b) in k.truth},
                **{base("rest", c): 1 for c in t.councils}}
    for scope in views:
        view = summarise(sv, districts=scope)
        own = [d for d in t.districts if scope is None or d in scope]
        parts = everyone if scope is None else {p: 1 for d in own for p in in_area(d)}
        figure(("total", tuple(own) if scope else "all"), view["total"], parts)
        if view["council"] is not None:
            for c, row in zip(t.councils, view["council"], strict=True):
                cells = {base("cb", c, b): 1 for b in YOUNG_BANDS if base("cb", c, b) in k.truth}
                figure(("council", c), row.people, {**cells, base("rest", c): 1})
        for b, row in zip(YOUNG_BANDS, view["band"], strict=True):
            if scope is None:
                parts = {base("cb", c, b): 1 for c in t.councils if base("cb", c, b) in k.truth}
            else:
                parts = {base("db", d, b): 1 for d in own}
            figure(("band", tuple(own) if scope else "all", b), row.people, parts)
        for d, row in zip(own, view["district"], strict=True):
            figure(("district", d), row.people, in_area(d))


def period_name(sv: reach.Solved) -> str:
    return reach.period_key(sv.tables.period)


def every_view(sv: reach.Solved) -> list[tuple[str, ...] | None]:
    ds = [d for d in sv.tables.districts if d]
    return [None, *[(d,) for d in ds], *itertools.combinations(ds, 2)]


def check(k: Knowledge) -> None:
    for key, v in k.shown.items():
        if v is not None:
            assert v == k.truth[key], key
            assert v >= BAR, key  # nothing under 5 printed, in any view
    hidden_small = [key for key, v in k.shown.items() if v is None and k.truth[key] < BAR]
    assert hidden_small, "the dataset should have small counts for the attacker to go after"
    assert k.leaks() == {}


def test_every_district_view_and_the_all_view_together_leak_nothing(solved: dict) -> None:
    sv = solved[MONTH]
    k = Knowledge()
    add_period(k, sv, "m", every_view(sv))
    check(k)


def test_the_attacker_wins_if_a_scoped_view_is_protected_on_its_own(solved: dict) -> None:
    """Shown that the test can fail: give each district's worker their band figures protected on their own
    (as the dashboard used to: one row and its total, protected alone) and the union with the all-districts
    view gives a hidden count away."""
    from admin.reports.disclosure import protect_list

    sv = solved[MONTH]
    k = Knowledge()
    add_period(k, sv, "m", [None])
    t, truth = sv.tables, _truth(sv)
    for scope in every_view(sv)[1:]:
        rows = [t.districts.index(d) for d in scope]
        row = [sum(truth[t.db.key((i, j))] for i in rows) for j in range(len(YOUNG_BANDS))]
        own = protect_list(row, total=False)
        for j, b in enumerate(YOUNG_BANDS):
            k.entry(("own", scope, b), row[j], own.cells[0][j])
            k.equations.append({("own", scope, b): 1, **{("latent", "m", "db", d, b): -1 for d in scope}})
    assert k.leaks()


def test_a_quarter_and_its_three_months_together_leak_nothing(solved: dict) -> None:
    k = Knowledge()
    add_period(k, solved[QUARTER], "q", [None])
    months = reach.months_of(QUARTER)
    for n, m in enumerate(months):
        add_period(k, solved[m], f"m{n}", [None])
    # What an attacker knows about distinct people: each month's cell is at most the quarter's, and the
    # quarter's at most the sum of its months' (only facts that hold are any use).
    q = solved[QUARTER].tables
    pairs = [("db", d, b) for d in q.districts for b in YOUNG_BANDS] + [("dbrest", d) for d in q.districts]
    pairs += [("cb", c, b) for c in q.councils for b in YOUNG_BANDS] + [("rest", c) for c in q.councils]
    for cell in pairs:
        qk = ("latent", "q", *cell)
        mk = [("latent", f"m{n}", *cell) for n in range(3)]
        if qk in k.truth:
            for one in mk:
                if k.truth[one] <= k.truth[qk]:
                    k.inequalities.append({one: 1, qk: -1})
            if k.truth[qk] <= sum(k.truth[x] for x in mk):
                k.inequalities.append({qk: 1, **{x: -1 for x in mk}})
    check(k)


def test_the_dashboard_never_changes_when_one_more_person_is_heard(small_db: str, tmp_path: Path) -> None:
    """Item 1: two views a day apart, one more young person heard in between (today, and backdated into
    the period shown): every figure is the same, because ended periods are frozen and nothing else shows."""
    from storage import participants as people
    from storage import submissions

    dst = tmp_path / "copy.db"
    shutil.copy(small_db.split("///", 1)[1], dst)
    url = f"sqlite:///{dst}"
    settings = report_settings(tmp_path)
    engine = make_engine(url)

    def view() -> dict:
        with session(engine) as s:
            sv = reach.for_period(s, frozen_library(), MONTH, settings=settings, now=NOW)
        return {str(scope): summarise(sv, districts=scope) for scope in every_view(sv)}

    try:
        first = view()
        with session(engine) as s:
            for when in (NOW, NOW - timedelta(days=5)):  # today; and inside the month already shown
                p, _ = people.create(s, key_hash=f"late-{when.isoformat()}", channel="web", address_enc=None,
                                     now=when, band="teen", district="east", council="ocypc")
                sub = submissions.get_or_start(s, p, "wellbeing", 1, now=when)
                submissions.put_answer(s, sub, "feel_safe", 4, skipped=False, free_text=False,
                                       quarantined=False, now=when)
        assert view() == first
    finally:
        engine.dispose()


def test_the_dashboard_shows_only_ended_whole_periods() -> None:
    got = reach.last_whole(NOW, "Europe/London")  # 1 December 2026
    assert got == {"month": (date(2026, 11, 1), date(2026, 11, 30)),
                   "quarter": (date(2026, 7, 1), date(2026, 9, 30))}
    for _since, until in got.values():
        assert until < NOW.date()


def test_hidden_numbers_are_worded_not_printed_as_not_shown() -> None:
    """Item 4: a hidden total is said in words, never "we heard from not shown"; and in the same words as
    every hidden number, never "too small", which would say it is under 5 (re-audit 3: with the number of
    carers in the next period, "too small" pinned September's carers to 3 or 4; and a period nobody took part
    in read as if somebody had)."""
    from admin.reports.ocypc import heard_sentence

    hidden = heard_sentence("Between 1 and 31 October 2026", "September 2026", None, "", None, None)
    assert "heard from not shown" not in hidden and "heard from **" not in hidden
    assert "too small" not in hidden and "told us" not in hidden
    assert "number of children and young people we heard from through ourvoice is not shown" in hidden
    assert "foster carers we heard from is not shown" in hidden
    shown = heard_sentence("Between 1 and 31 October 2026", "September 2026", "230", "up from 111", 10, None)
    assert "we heard from **230** children" in shown
    assert "**10** foster carers." in shown


@dataclass(frozen=True)
class _Cell:
    audience: str
    people: int
    council: str = ""
    band: str = ""
    district: str = ""


# Re-audit 3's shape: a quarter, a Panel cycle across its last month and the next, and carers heard of
# 3 (July), 0 (August), 3 (September), 6 (October): 6 in the quarter, 9 in the cycle (different carers).
JUL, AUG, SEP, OCT = (periods.month(2026, m) for m in (7, 8, 9, 10))
Q3 = periods.quarter(2026, 3)
CYCLE = (date(2026, 9, 1), date(2026, 10, 31))
CARERS = {JUL: 3, AUG: 0, SEP: 3, OCT: 6, Q3: 6, CYCLE: 9}


def _load(p: reach.Period) -> list[_Cell]:
    some_young = _Cell("young_person", 12, council=next(iter(COUNCIL_BANDS)), band=YOUNG_BANDS[1], district="")
    return [some_young, _Cell("carer", CARERS[p])]


def _carers_attacker(shown: dict[reach.Period, int | None]) -> Knowledge:
    """Every paper's carers figure at once, and what anyone knows about distinct people: a month's carers
    are among its quarter's or cycle's, and those among the sum of their months' (facts that hold only)."""
    k = Knowledge()
    for p, v in shown.items():
        k.entry(("carers", p), CARERS[p], v)
    for whole in (Q3, CYCLE):
        months = reach.months_of(whole)
        for m in months:
            k.inequalities.append({("carers", m): 1, ("carers", whole): -1})
        k.inequalities.append({("carers", whole): 1, **{("carers", m): -1 for m in months}})
    return k


def test_carers_heard_cannot_be_narrowed_from_overlapping_papers() -> None:
    """Re-audit 3: the number of foster carers heard was protected per paper on its own, so September's
    hidden 3 sat between the cycle's 9 less October's 6 and the quarter's 6. It is now one count of each
    period's people-heard problem, solved with the earlier-ending periods it overlaps already published."""

    def known(p: reach.Period) -> list[reach.Period]:
        return [q for q in (Q3, CYCLE) if q[0] <= p[1] and p[0] <= q[1]]

    shown = {p: reach.solve(p, _load, known=known).carers() for p in CARERS}
    assert shown[SEP] is None and shown[JUL] is None and shown[OCT] == 6
    for p, v in shown.items():
        assert v is None or (v == CARERS[p] and v >= BAR), p
    assert _carers_attacker(shown).leaks() == {}


def test_carers_heard_protected_per_paper_alone_gives_september_away() -> None:
    """The same papers with each carers figure protected on its own (as before): the attacker wins."""
    from admin.reports.disclosure import safe_count

    shown = {p: safe_count(v) for p, v in CARERS.items()}
    leaks = _carers_attacker(shown).leaks()
    assert ("carers", SEP) in leaks
