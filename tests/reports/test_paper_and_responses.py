"""Issue 19, F1: the Panel update of a whole quarter and that quarter's Responses pages, read together.

Both print people per answer for the same topic: the update by age band, the pages by area and age band with
county-wide margins. Protected apart, a count could be hidden in one and printed in the other, or the two sets of
printed figures side by side could narrow a hidden one. Two checks, the second written apart from the disclosure
code (it models what each printed figure adds up from the README's description, not from the module's equations):

1. every figure the two print for the same count is printed the same (both hidden, or the same number), and with
   the update's link to the pages switched off they differ in the seeded quarter (the check has teeth);
2. an integer-programming attacker (HiGHS `milp`) given every figure of both for each young people's topic, whole
   non-negative counts, and the fact that those who answered a question took part (per area and band; for a
   one-answer question, all its answers' people together), finds no hidden count under 5 narrower than 5, also
   when it ties every question of a flow to the same took-part unknowns per area and age band.
"""

from __future__ import annotations

import shutil
from collections import OrderedDict
from collections.abc import Iterator
from datetime import date
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from admin.actions.policy import AGGREGATE_AUDIENCES
from admin.reports import ocypc, responses
from admin.reports.catalog import DISTRICTS
from storage.db import make_engine, session
from tests.reports.conftest import FROM, NOW, TO, frozen_library, report_settings

WIDTH = 5
SMALL = 5


@pytest.fixture
def db(seeded_db: str, tmp_path: Path) -> str:
    """A private copy of the seeded database (reports write roll-ups)."""
    dst = tmp_path / "copy.db"
    shutil.copy(Path(seeded_db.split("///", 1)[1]), dst)
    return f"sqlite:///{dst}"


def _both(db: str, tmp_path: Path, quarter: tuple[date, date] = (FROM, TO)) -> Iterator[tuple[Any, Any, Any]]:
    """(topic section of the update, its flow's Responses figures, the update's true values) per topic."""
    since, until = quarter
    library = frozen_library()
    settings = report_settings(tmp_path)
    engine = make_engine(db)
    try:
        with session(engine) as s:
            summary = ocypc.build(s, library, since=since, until=until, now=NOW, settings=settings)
            truth = summary.log.values
            for section in summary.topics:
                solved = responses.for_flow(s, library, section.flow, (since, until), settings=settings, now=NOW,
                                            districts=DISTRICTS, role_audiences=AGGREGATE_AUDIENCES)
                yield section, solved, truth
    finally:
        engine.dispose()


def _mismatches(db: str, tmp_path: Path) -> list[str]:
    """Figures printed differently by the update and by the pages (a manager's county-wide view, every band)."""
    out: list[str] = []
    for section, solved, _truth in _both(db, tmp_path):
        flow = section.flow
        everyone = responses.Layer(tuple(flow.bands), True)
        grids = {(a.question_id, a.choice): a.grid for a in solved.answers}
        carer = section.audience == "carer"
        for q in section.questions:
            t = q.table
            assert t.protected is not None
            for i, choice in enumerate(t.row_keys):
                grid = grids.get((q.info.question_id, choice))
                if grid is None:
                    continue
                for j, col in enumerate(t.col_keys):
                    page = (grid.value(everyone, districts=[col], band="carer") if carer
                            else grid.value(everyone, districts=None, band=col))
                    if page != t.protected.cells[i][j]:
                        out.append(f"{flow.id} {q.info.question_id} {choice} {col}: update "
                                   f"{t.protected.cells[i][j]} pages {page}")
                if t.protected.row_totals is not None:
                    page = grid.value(everyone, districts=None)
                    if page != t.protected.row_totals[i]:
                        out.append(f"{flow.id} {q.info.question_id} {choice} all: update "
                                   f"{t.protected.row_totals[i]} pages {page}")
    return out


def test_the_update_prints_shared_figures_as_the_responses_pages_do(db: str, tmp_path: Path) -> None:
    assert _mismatches(db, tmp_path) == []


def test_without_the_link_the_two_print_the_same_count_differently(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Teeth: the seeded quarter has counts the update alone hides and the pages print (or the reverse)."""
    monkeypatch.setattr(ocypc, "_same_as_responses", lambda *a, **k: 0)
    assert _mismatches(db, tmp_path) != []


# -- the attacker ------------------------------------------------------------------------------------------------


class Model:
    """Unknowns: people per (question, answer, area, band) and people who took part per (area, band); "" = not
    given. Facts: every printed figure as a sum of unknowns, answers inside took part.

    `shared`: one set of took-part unknowns for the whole flow (the people who answered each question in an area
    and band are among the same people who took part there); otherwise each question gets its own copy, bound
    only by the printed took-part figures (each question's answers fit inside took part, questions not tied)."""

    def __init__(self, flow: Any, questions: list[tuple[str, list[str], bool]], *, shared: bool) -> None:
        self.areas = [*DISTRICTS, ""]
        self.bands = [*flow.bands, ""]
        self.index: dict[tuple[object, ...], int] = {}
        for q, choices, _multi in questions:
            for ch, a, b in product(choices, self.areas, self.bands):
                self.index[("x", q, ch, a, b)] = len(self.index)
        self.copies = [""] if shared else [q for q, _c, _m in questions]
        for copy in self.copies:
            for a, b in product(self.areas, self.bands):
                self.index[("took", copy, a, b)] = len(self.index)
        self.rows: list[tuple[dict[int, int], float, float]] = []
        self.targets: list[tuple[str, dict[int, int]]] = []  # hidden figures under 5, to narrow
        for q, choices, multi in questions:
            for a, b in product(self.areas, self.bands):
                took = self.index[("took", "" if self.copies == [""] else q, a, b)]
                if multi:
                    for ch in choices:
                        self.rows.append(({self.index[("x", q, ch, a, b)]: 1, took: -1}, -np.inf, 0))
                else:
                    terms = {self.index[("x", q, ch, a, b)]: 1 for ch in choices}
                    terms[took] = -1
                    self.rows.append((terms, -np.inf, 0))

    def expr(self, kind: str, *parts: object, areas: list[str] | None = None, bands: list[str] | None = None
             ) -> dict[int, int]:
        return {self.index[(kind, *parts, a, b)]: 1
                for a in (areas if areas is not None else self.areas)
                for b in (bands if bands is not None else self.bands)}

    def figure(self, name: str, terms: dict[int, int], shown: int | None, true: int) -> None:
        if shown is not None:
            assert shown == true, name
            self.rows.append((terms, shown, shown))
        elif true < SMALL:
            self.targets.append((name, terms))

    def widths(self) -> Iterator[tuple[str, float]]:
        """Each hidden small figure's tightest interval width, one at a time (the caller may stop at a leak)."""
        n = len(self.index)
        a = np.zeros((len(self.rows), n))
        lo, hi = np.zeros(len(self.rows)), np.zeros(len(self.rows))
        for r, (terms, low, high) in enumerate(self.rows):
            for k, c in terms.items():
                a[r, k] = c
            lo[r], hi[r] = low, high
        cons = LinearConstraint(a, lo, hi)
        seen: set[tuple[tuple[int, int], ...]] = set()
        for name, terms in self.targets:
            sig = tuple(sorted(terms.items()))
            if sig in seen:
                continue
            seen.add(sig)
            c = np.zeros(n)
            for k, v in terms.items():
                c[k] = v
            ends = []
            for sign in (1, -1):
                res = milp(sign * c, constraints=cons, integrality=np.ones(n), bounds=Bounds(0, np.inf))
                assert res.status == 0, (name, res.message)
                ends.append(sign * res.fun)
            yield name, ends[1] - ends[0]


def _attack(db: str, tmp_path: Path, *, shared: bool, quarter: tuple[date, date] = (FROM, TO)
            ) -> tuple[int, str | None]:
    """How many hidden small figures were tried, and the first one narrowed below 5 (None when none was)."""
    checked = 0
    for section, solved, truth in _both(db, tmp_path, quarter):
        if section.audience == "carer":
            continue  # carers' tables are by area, with no band to tie them to the pages' cells: left to check 1
        flow = section.flow
        everyone = responses.Layer(tuple(flow.bands), True)
        grids = {(a.question_id, a.choice): a.grid for a in solved.answers}
        questions = []
        for q in section.questions:
            choices = [c for c in q.table.row_keys if (q.info.question_id, c) in grids]
            questions.append((q.info.question_id, choices, q.info.kind == "multi"))
        m = Model(flow, questions, shared=shared)
        bands = list(flow.bands)
        # The pages: every answer by area and band, the county-wide band columns, each area's and the county's total.
        for (qid, ch), grid in grids.items():
            if ("x", qid, ch, "", "") not in m.index:
                continue
            for a, b in product(DISTRICTS, bands):
                m.figure(f"pages {qid}/{ch} {a} {b}", m.expr("x", qid, ch, areas=[a], bands=[b]),
                         grid.shown(("c", a, b)), grid.true_value(("c", a, b)))
            for b in bands:
                m.figure(f"pages {qid}/{ch} all {b}", m.expr("x", qid, ch, bands=[b]),
                         grid.shown(("col", b)), grid.true_value(("col", b)))
            for a in [*DISTRICTS, None]:
                key = responses.total_key(everyone, a)
                m.figure(f"pages {qid}/{ch} {a} total", m.expr("x", qid, ch, areas=[a] if a else None),
                         grid.shown(key), grid.true_value(key))
        if solved.took_part is not None:
            took = solved.took_part
            for a in [*DISTRICTS, None]:
                key = responses.total_key(responses.ALL_OF_FLOW, a)
                for copy in m.copies:
                    m.figure(f"pages took part {a}", m.expr("took", copy, areas=[a] if a else None),
                             took.shown(key), took.true_value(key))
        # The update: answers by band with totals, and people who took part by band.
        for q in section.questions:
            t, keys = q.table, q.table.keys
            assert t.protected is not None and keys is not None
            qid = q.info.question_id
            for i, ch in enumerate(t.row_keys):
                if ("x", qid, ch, "", "") not in m.index:
                    continue
                for j, b in enumerate(t.col_keys):
                    m.figure(f"update {qid}/{ch} {b}", m.expr("x", qid, ch, bands=[b]),
                             t.protected.cells[i][j], truth[keys.key((i, j))])
                if keys.row_totals:
                    m.figure(f"update {qid}/{ch} total", m.expr("x", qid, ch),
                             t.protected.row_totals[i] if t.protected.row_totals else None,
                             truth[keys.key((i, keys.n))])
        base = section.base
        assert base.protected is not None and base.keys is not None
        for j, b in enumerate(base.col_keys):
            for copy in m.copies:
                m.figure(f"update took part {b}", m.expr("took", copy, bands=[b]), base.protected.cells[0][j],
                         truth[base.keys.key((0, j))])
        if base.keys.row_totals:  # all ages, those who gave no age included (re-audit 5)
            for copy in m.copies:
                m.figure("update took part all ages", m.expr("took", copy),
                         base.protected.row_totals[0] if base.protected.row_totals else None,
                         truth[base.keys.key((0, base.keys.n))])
        for name, width in m.widths():
            checked += 1
            if width < WIDTH:
                return checked, f"{flow.id}: {name} narrowed to {width:g} (after {checked} hidden figures)"
    return checked, None


@pytest.mark.parametrize("quarter", [(FROM, TO), (date(2026, 4, 1), date(2026, 6, 30))], ids=["Q3", "Q2"])
def test_an_attacker_with_the_update_and_the_pages_together_narrows_no_small_count(
    db: str, tmp_path: Path, quarter: tuple[date, date]
) -> None:
    checked, narrow = _attack(db, tmp_path, shared=False, quarter=quarter)
    assert narrow is None, narrow
    assert checked > 0  # the seeded quarter does hide small counts for the attacker to work on


def test_with_each_answer_protected_on_its_own_the_attacker_narrows_one(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Teeth: as the pages were before 2026-12-06, each answer solved alone, apart from took part."""
    def one_by_one(answers: Any, **kw: Any) -> dict[str, Any]:
        return {c: responses.protect_grid(v, kw["districts"], kw["bands"], kw["layers"]) for c, v in answers.items()}

    monkeypatch.setattr(responses, "protect_question", one_by_one)
    monkeypatch.setattr(responses, "_MEMO", OrderedDict())  # figures solved the new way are kept per process
    _checked, narrow = _attack(db, tmp_path, shared=False)
    assert narrow is not None


def test_tying_every_question_to_the_same_took_part_narrows_nothing(db: str, tmp_path: Path) -> None:
    """The attacker ties every question of a flow to the same unknown people per area and age band (those who
    answered one question in an east 16-25 cell are among the same people who took part there). The pages
    protect a flow's questions as one problem with that tie (responses.FlowProblem), so nothing narrows."""
    checked, narrow = _attack(db, tmp_path, shared=True)
    assert narrow is None, narrow
    assert checked > 0


def test_with_each_question_protected_apart_the_tied_attacker_narrows_one(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Teeth: as the pages were before 2026-12-06 (each question solved on its own beside took part by area),
    the same attacker narrows a hidden answer below 5 in the seeded quarter."""
    real = responses.answer_grids

    def apart(*args: Any, **kw: Any) -> Any:
        kw["took_by_area_band"] = None
        return real(*args, **kw)

    monkeypatch.setattr(responses, "answer_grids", apart)
    monkeypatch.setattr(responses, "_MEMO", OrderedDict())
    _checked, narrow = _attack(db, tmp_path, shared=True)
    assert narrow is not None
