"""admin/reports/responses.py (issue 19): one answer's people by area and band, protected once for every role,
county-wide and per district, every band. An integer-programming attacker of its own (SciPy milp, not the
disclosure module's audit) reads every view of one grid at once and must not narrow any hidden count under 5
to fewer than 5 values; with secondary suppression switched off, it does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from admin.reports import disclosure
from admin.reports import responses as r
from admin.reports.periods import PeriodRefused

ROLES = {"participation_worker": ("young_person",), "participation_manager": ("young_person", "carer"),
         "fostering_team": ("carer",)}
DISTRICTS = ("north", "south", "east")
FLOW = SimpleNamespace(id="f", bands=["junior", "teen", "carer"], audience=["young_person", "carer"])
VALUES = {("north", "junior"): 3, ("north", "teen"): 6, ("north", "carer"): 1, ("south", "junior"): 7,
          ("south", "teen"): 2, ("south", "carer"): 8, ("east", "junior"): 1, ("east", "teen"): 9,
          ("east", "carer"): 5, ("", "teen"): 2, ("north", ""): 1}


def views(grid: r.Grid) -> list[tuple[frozenset[tuple[str, str]], int | None]]:
    """Every figure any role can see: (the (district, band) cells it adds up, what is shown)."""
    out = []
    for auds in ROLES.values():
        lay = r.layer_for(FLOW, auds)
        assert lay is not None
        cols = [*lay.bands, *([""] if lay.unknown else [])]
        for scope in [None, *[(d,) for d in DISTRICTS]]:
            rows = [*DISTRICTS, ""] if scope is None else list(scope)
            for band in ["", *lay.bands]:
                cells = frozenset((d, b) for d in rows for b in ([band] if band else cols))
                out.append((cells, grid.value(lay, districts=scope, band=band)))
    return out


def narrowest(figs: list[tuple[frozenset[tuple[str, str]], int | None]]) -> list[float]:
    """Width of the attacker's interval for each hidden figure whose true value is under 5."""
    unknowns = sorted({c for f, _ in figs for c in f})
    ix = {c: i for i, c in enumerate(unknowns)}

    def vec(cells: frozenset[tuple[str, str]]) -> np.ndarray:
        a = np.zeros(len(unknowns))
        for c in cells:
            a[ix[c]] = 1
        return a

    shown = [(vec(f), v) for f, v in figs if v is not None]
    cons = [LinearConstraint(np.array([a for a, _ in shown]), [v for _, v in shown], [v for _, v in shown])]
    widths = []
    for f, v in figs:
        true = sum(VALUES.get(c, 0) for c in f)
        if v is not None or true >= 5:
            continue
        ends = []
        for sign in (1, -1):
            res = milp(sign * vec(f), constraints=cons, integrality=np.ones(len(unknowns)), bounds=Bounds(0, 50))
            assert res.status == 0, res.message
            ends.append(sign * res.fun)
        widths.append(ends[1] - ends[0])  # max - min
    return widths


def test_every_view_is_cut_from_one_result_and_the_attacker_learns_too_little() -> None:
    grid = r.protect_grid(VALUES, DISTRICTS, FLOW.bands, r.layers_for(FLOW, ROLES))
    figs = views(grid)
    for cells, v in figs:
        if v is not None:
            assert v == sum(VALUES.get(c, 0) for c in cells) and v >= 5
    widths = narrowest(figs)
    assert len(widths) > 5
    assert min(widths) >= 5


def test_without_complementary_hiding_the_attacker_pins_a_small_count(monkeypatch: pytest.MonkeyPatch) -> None:
    def primary_only(self: disclosure.Publication, **_: object) -> disclosure.Result:
        small = frozenset(k for k in self.published if self.values[k] < self.threshold)
        return disclosure.Result(self, small, frozenset())

    monkeypatch.setattr(disclosure.Publication, "solve", primary_only)
    grid = r.protect_grid(VALUES, DISTRICTS, FLOW.bands, r.layers_for(FLOW, ROLES))
    assert min(narrowest(views(grid))) < 5


def test_a_scoped_sum_needs_every_part_published() -> None:
    grid = r.protect_grid(VALUES, DISTRICTS, FLOW.bands, r.layers_for(FLOW, ROLES))
    lay = r.layer_for(FLOW, ("young_person",))
    assert lay is not None and lay.bands == ("junior", "teen") and not lay.unknown
    parts = [grid.value(lay, districts=(d,), band="teen") for d in ("north", "east")]
    both = grid.value(lay, districts=("north", "east"), band="teen")
    assert both == (None if None in parts else sum(p for p in parts if p is not None))
    assert grid.value(lay, districts=None, band="carer") is None  # not this role's band


def test_only_ended_quarters() -> None:
    settings = SimpleNamespace(timezone="Europe/London", panel_days=lambda: [], summary_days_before=10)
    now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert r.choose_quarter("", now, settings) == (date(2026, 7, 1), date(2026, 9, 30))
    assert r.choose_quarter("2026-q2", now, settings) == (date(2026, 4, 1), date(2026, 6, 30))
    for refused in ("2026-Q4", "2026-11", "soon"):
        with pytest.raises(PeriodRefused):
            r.choose_quarter(refused, now, settings)
    assert r.ended_quarters(now, "Europe/London", 2) == [(date(2026, 7, 1), date(2026, 9, 30)),
                                                         (date(2026, 4, 1), date(2026, 6, 30))]


def test_the_warm_job_solves_an_ended_quarter_once_and_views_reuse_it(tmp_path: Path) -> None:
    """`responses_warm` works every flow out for the last ended quarter; running it again, or a page's read of the
    same frozen roll-up, solves nothing more (the kept result is keyed by that roll-up's rows)."""
    from admin.actions.policy import AGGREGATE_AUDIENCES
    from admin.commands.demo_cmd import seed_demo
    from admin.jobs.responses import warm
    from admin.reports.catalog import DISTRICTS
    from storage.db import session
    from storage.migrate import create_missing_tables, upgrade
    from tests.reports.conftest import NOW, runtime

    url = f"sqlite:///{tmp_path / 'warm.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, tmp_path)
    seed_demo(rt, people=20, seed=3, months=6, now=NOW)
    first = warm(rt, now=NOW)
    assert first.startswith("quarter 2026-Q3") and not first.endswith(" 0 solved"), first
    assert warm(rt, now=NOW).endswith(" 0 solved")
    before = r.SOLVES[0]
    flow = rt.library.flows["wellbeing"]
    with session(rt.engine) as s:
        fc = r.for_flow(s, rt.library, flow, (date(2026, 7, 1), date(2026, 9, 30)), settings=rt.report_settings,
                        now=NOW, districts=DISTRICTS, role_audiences=AGGREGATE_AUDIENCES)
    assert fc.answers and r.SOLVES[0] == before
    rt.engine.dispose()
