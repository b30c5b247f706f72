"""The audit's machinery gives the answers a fresh, simple computation gives (issue 20, speed without a weaker
bar): the LPs kept loaded in HiGHS and re-solved from the last basis find the same optimal values as a fresh
SciPy `linprog` per question, also after bounds were held and let go again; components grown as counts are
hidden are those a plain search over the constraints finds; and a fresh solve of the same problem hides the
same counts every time."""

from __future__ import annotations

import math
import random
from collections import defaultdict

import pytest

from admin.reports import disclosure
from admin.reports.disclosure import Auditor, Publication, _Block, _components, _unknowns


def _linked_problem(seed: int) -> Publication:
    """Two tables sharing their column totals (the same people counted two ways) and a latent base, with
    many small counts: a problem of the paper's shape, small enough to check every count against."""
    rng = random.Random(seed)
    pub = Publication()
    small = [0, 1, 2, 3, 4, 6, 8, 11, 17]
    a = [[rng.choice(small) for _ in range(4)] for _ in range(5)]
    ta = pub.table("a", a)
    b_cols = [sum(a[i][j] for i in range(5)) for j in range(4)]
    # b: the same column totals split another way (rows of b add up to b's column totals)
    b = []
    for j in range(4):
        left = b_cols[j]
        col = []
        for _ in range(2):
            v = rng.randint(0, left)
            col.append(v)
            left -= v
        col.append(left)
        b.append(col)
    tb = pub.table("b", [[b[j][i] for j in range(4)] for i in range(3)])
    for j in range(4):
        pub.equal({ta.key((ta.m, j)): 1, tb.key((tb.m, j)): -1})
    base = pub.latent("base", sum(map(sum, a)) + 3)
    pub.fact({ta.key((ta.m, ta.n)): 1, base: -1})
    return pub


def _fresh_lp(block: _Block, key: object, sign: float, fixed: dict[int, float]) -> float:
    import numpy as np
    from scipy.optimize import linprog

    goal = np.zeros(len(block.order))
    goal[block.idx[key]] = sign
    bounds = [(fixed[i], fixed[i]) if i in fixed else (0.0, None) for i in range(len(block.order))]
    res = linprog(goal, A_ub=block.a_ub, b_ub=block.b_ub, A_eq=block.a_eq, b_eq=block.b_eq, bounds=bounds,
                  method="highs-ds")
    if res.status == 3:
        return math.inf
    assert res.status == 0
    return float(sign * res.fun)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_warm_started_lps_give_the_same_optimal_values_as_fresh_ones(seed: int) -> None:
    pub = _linked_problem(seed)
    rng = random.Random(seed)
    hide = {k for k in pub.published if pub.values[k] < 5 or rng.random() < 0.2}
    unknown = frozenset(_unknowns(pub, hide))
    block = _Block(pub, unknown)
    keys = sorted(unknown, key=repr)
    asked = 0
    for _ in range(3):  # the same model asked again and again, with held bounds coming and going
        for key in rng.sample(keys, min(12, len(keys))):
            held = {block.idx[k]: float(block.true[block.idx[k]]) for k in rng.sample(keys, 3) if k != key}
            for sign in (1.0, -1.0):
                for fixed in (held, {}):
                    warm, _ = block.lp(key, sign, fixed)
                    assert warm == pytest.approx(_fresh_lp(block, key, sign, fixed), abs=1e-7), (key, sign, fixed)
                    asked += 1
    assert asked >= 100


def _plain_components(pub: Publication, hide: set[object]) -> dict[object, frozenset[object]]:
    """Components by a breadth-first search over the constraints (the definition, slowly)."""
    unknown = _unknowns(pub, hide)
    near: dict[object, set[object]] = defaultdict(set)
    for eq in pub.equations + pub.inequalities:
        ks = [k for k in eq if k in unknown]
        for k in ks:
            near[k].update(ks)
    out: dict[object, frozenset[object]] = {}
    for start in unknown:
        if start in out:
            continue
        seen, todo = {start}, [start]
        while todo:
            for o in near[todo.pop()]:
                if o not in seen:
                    seen.add(o)
                    todo.append(o)
        comp = frozenset(seen)
        for k in comp:
            out[k] = comp
    return out


def test_components_grown_as_counts_are_hidden_match_a_plain_search() -> None:
    pub = _linked_problem(5)
    auditor = Auditor(pub)
    rng = random.Random(5)
    hide: set[object] = {k for k in pub.published if pub.values[k] < 5}
    order = sorted(pub.published - hide, key=repr)
    rng.shuffle(order)
    for extra in [None, *order[:15]]:
        if extra is not None:
            hide.add(extra)  # the search's one set, grown in place
        want = _plain_components(pub, hide)
        for k in want:
            assert auditor.component(k, hide) == want[k]
        assert _components(pub, hide) == want
    trial = hide - {order[0]}  # a give-back trial: a new, smaller set
    want = _plain_components(pub, trial)
    for k in want:
        assert auditor.component(k, trial) == want[k]


def test_a_fresh_solve_of_the_same_problem_hides_the_same_counts() -> None:
    first = _linked_problem(9).solve()
    disclosure.SOLVED.clear()  # not from memory: solved again from nothing
    again = _linked_problem(9).solve()
    assert first.secondary  # the problem needed more than its small counts hidden
    assert (first.primary, first.secondary) == (again.primary, again.secondary)
