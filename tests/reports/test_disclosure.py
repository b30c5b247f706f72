"""Disclosure control: no published number under 5, nothing hidden recoverable by subtraction."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin.reports.disclosure import FEWER, DisclosureLog, percent, protect, protect_list, show


def _entries(table, p):
    """Every published-or-hidden entry as (key, true value, shown value)."""
    m, n = len(table), len(table[0])
    out = []
    for i in range(m):
        for j in range(n):
            out.append((("c", i, j), table[i][j], p.cells[i][j]))
    if p.row_totals is not None:
        for i in range(m):
            out.append((("r", i), sum(table[i]), p.row_totals[i]))
    if p.col_totals is not None:
        for j in range(n):
            out.append((("k", j), sum(r[j] for r in table), p.col_totals[j]))
    if p.has_grand_total:
        out.append((("g",), sum(map(sum, table)), p.grand_total))
    return out


def _equations(table, p):
    """The additive relations an attacker knows, written independently of the module."""
    m, n = len(table), len(table[0])
    eqs = []
    rows, cols = p.row_totals is not None, p.col_totals is not None
    if rows:
        for i in range(m):
            eqs.append({**{("c", i, j): 1 for j in range(n)}, ("r", i): -1})
    if cols:
        for j in range(n):
            eqs.append({**{("c", i, j): 1 for i in range(m)}, ("k", j): -1})
    if p.has_grand_total:
        eqs.append({**{("c", i, j): 1 for i in range(m) for j in range(n)}, ("g",): -1})
    return eqs


def recoverable(table, p):
    """Hidden entries pinned down by the equations: e_k in the row space <=> rank does not grow."""
    entries = _entries(table, p)
    hidden = [k for k, _, shown in entries if shown is None]
    if not hidden:
        return []
    idx = {k: x for x, k in enumerate(hidden)}
    a = np.zeros((max(1, len(_equations(table, p))), len(hidden)))
    for r, eq in enumerate(_equations(table, p)):
        for k, c in eq.items():
            if k in idx:
                a[r, idx[k]] += c
    base = np.linalg.matrix_rank(a) if a.any() else 0
    found = []
    for k, x in idx.items():
        e = np.zeros((1, len(hidden)))
        e[0, x] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == base:
            found.append(k)
    return found


def _grid_pos(key, m, n):
    kind = key[0]
    return {
        "c": lambda: (key[1], key[2]),
        "r": lambda: (key[1], n),
        "k": lambda: (m, key[1]),
        "g": lambda: (m, n),
    }[kind]()


def pinned_by_one_line(table, p):
    """Hidden entries whose value one row/column forces, knowing 'fewer than 5' means 0-4, 'not shown' 5+."""
    m, n = len(table), len(table[0])
    entries = {k: (true, shown) for k, true, shown in _entries(table, p)}
    found = []
    for eq in _equations(table, p):
        hidden = [k for k in eq if entries[k][1] is None]
        known = sum(c * entries[k][0] for k, c in eq.items() if entries[k][1] is not None)
        for k in hidden:
            # eq: sum(c*x) = 0  ->  c_k * x_k = -known - sum(others)
            others_lo = others_hi = 0
            for o in hidden:
                if o == k:
                    continue
                lo, hi = (0, 4) if _grid_pos(o, m, n) in p.primary else (5, 10**9)
                c = eq[o]
                others_lo += min(c * lo, c * hi)
                others_hi += max(c * lo, c * hi)
            c = eq[k]
            ends = sorted([(-known - others_hi) / c, (-known - others_lo) / c])
            lo, hi = (0, 4) if _grid_pos(k, m, n) in p.primary else (5, 10**9)
            if max(ends[0], lo) == min(ends[1], hi):
                found.append(k)
    return found


small_or_big = st.one_of(st.integers(0, 6), st.integers(0, 60))
tables = st.integers(1, 6).flatmap(
    lambda n: st.lists(st.lists(small_or_big, min_size=n, max_size=n), min_size=1, max_size=6)
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables, rows=st.booleans(), cols=st.booleans(), grand=st.booleans())
def test_no_small_cell_and_nothing_recoverable(table, rows, cols, grand):
    p = protect(table, row_totals=rows, col_totals=cols, grand_total=grand)
    for key, true, shown in _entries(table, p):
        if shown is not None:
            assert shown >= 5, key
            assert shown == true, key  # published numbers are never altered
        if true < 5:
            assert shown is None, key
    assert recoverable(table, p) == []
    assert pinned_by_one_line(table, p) == []


def test_the_checker_itself_catches_a_leak():
    # Naive suppression (only the 3) leaves it recoverable from the row total: the checker must say so.
    from admin.reports.disclosure import Protected

    table = [[3, 10, 12]]
    naive = Protected(
        cells=((None, 10, 12),),
        row_totals=(25,),
        col_totals=None,
        grand_total=None,
        primary=frozenset({(0, 0)}),
        complementary=frozenset(),
    )
    assert recoverable(table, naive) == [("c", 0, 0)]


def test_single_small_cell_pulls_in_the_next_smallest():
    p = protect_list([3, 10, 12, 40])
    assert p.cells[0] == (None, None, 12, 40)
    assert p.row_totals == (65,)
    assert p.complementary == frozenset({(0, 1)})


def test_rectangle_example_checks_columns_too():
    table = [[2, 20, 30], [20, 25, 30], [9, 8, 40]]
    p = protect(table)
    assert p.cells[0][0] is None
    hidden_in_col0 = sum(1 for i in range(3) if p.cells[i][0] is None)
    hidden_in_row0 = sum(1 for j in range(3) if p.cells[0][j] is None)
    assert hidden_in_col0 >= 2
    assert hidden_in_row0 >= 2
    assert recoverable(table, p) == []


def test_bridge_between_two_hidden_blocks_is_caught_by_the_audit():
    # Each row and column holds 0 or >= 2 hidden cells, yet a cell joining two blocks would be a
    # "bridge" in the row/column graph and exactly recoverable: the audit must hide more.
    table = [
        [1, 1, 50, 50, 50],
        [1, 1, 2, 50, 50],  # (1, 2) joins the two blocks of small cells
        [50, 50, 1, 1, 50],
        [50, 50, 1, 1, 50],
        [50, 50, 50, 50, 50],
    ]
    p = protect(table)
    assert p.complementary, "the row/column rule alone leaves (1, 2) recoverable"
    assert recoverable(table, p) == []


def test_hidden_zeros_next_to_an_equal_total_are_caught():
    # OCYPC row: 0, 7, 0 with total 7 would pin both zeros; the bounds check must hide more.
    table = [[0, 7, 0], [23, 62, 103]]
    p = protect(table)
    assert pinned_by_one_line(table, p) == []
    assert p.cells[0][1] is None or p.row_totals[0] is None


def test_labels_tell_small_from_hidden_for_safety():
    p = protect_list([3, 10, 12, 40])
    assert p.text((0, 0)) == "fewer than 5"
    assert p.text((0, 1)) == "not shown"
    assert p.text((0, 4)) == "65"


def test_show_and_percent():
    assert show(None) == FEWER
    assert show(1234) == "1,234"
    assert percent(5, 20) == "25%"
    assert percent(None, 20) is None
    assert percent(6, 4) is None


def test_log_lists_rules_applied():
    log = DisclosureLog()
    log.add(protect_list([3, 10, 12]))
    text = " ".join(log.lines())
    assert "fewer than 5" in text
    assert "worked out" in text
    assert log.primary == 1
    assert log.complementary == 1
