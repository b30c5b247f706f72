"""Disclosure control against an independent integer-programming attacker (tests/reports/attacker.py).

The bar: no published count under 5; for every hidden count under 5, the tightest interval the attacker
can derive from everything published (non-negative integers) is at least 5 wide.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from admin.reports.disclosure import (
    HIDDEN,
    NOT_APPLICABLE,
    DisclosureLog,
    Protected,
    Publication,
    mean_if_safe,
    percent,
    protect,
    protect_list,
    show,
)
from tests.reports.attacker import BAR, Knowledge


def attack_one(table, p: Protected, *, rows=True, cols=True, grand=True, structural=frozenset()) -> Knowledge:
    k = Knowledge()
    k.add_table("t", table, p, rows=rows, cols=cols, grand=grand, structural=set(structural))
    return k


def assert_safe(k: Knowledge) -> None:
    for key, shown in k.shown.items():
        if shown is not None:
            assert shown == k.truth[key], key  # published numbers are never altered
            assert shown >= BAR or (shown == 0 and k.truth[key] == 0 and _structural(key, k)), key
    assert k.leaks() == {}


def _structural(key, k: Knowledge) -> bool:
    return True  # only structural zeros are ever published as 0 (checked separately by label)


small_or_big = st.one_of(st.integers(0, 6), st.integers(0, 60))
tables = st.integers(1, 5).flatmap(
    lambda n: st.lists(st.lists(small_or_big, min_size=n, max_size=n), min_size=1, max_size=5)
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=tables, rows=st.booleans(), cols=st.booleans(), grand=st.booleans())
def test_random_tables_leak_nothing(table, rows, cols, grand):
    p = protect(table, row_totals=rows, col_totals=cols, grand_total=grand)
    k = attack_one(table, p, rows=rows, cols=cols, grand=grand)
    for key, shown in k.shown.items():
        if shown is not None:
            assert shown == k.truth[key] and shown >= BAR, key
    assert k.leaks() == {}


@st.composite
def linked(draw):
    """Two single-choice questions of one topic answered by the same people (equal column totals) and a
    multi-choice question whose answers are each at most the topic's base in that column."""
    n = draw(st.integers(1, 3))
    m = draw(st.integers(2, 4))
    base = [draw(st.integers(0, 25)) for _ in range(n)]

    def split(total: int, parts: int) -> list[int]:
        cuts = sorted(draw(st.lists(st.integers(0, total), min_size=parts - 1, max_size=parts - 1)))
        edges = [0, *cuts, total]
        return [edges[i + 1] - edges[i] for i in range(parts)]

    cols_a = [split(b, m) for b in base]
    cols_b = [split(b, m) for b in base]
    a = [[cols_a[j][i] for j in range(n)] for i in range(m)]
    b = [[cols_b[j][i] for j in range(n)] for i in range(m)]
    multi = [[draw(st.integers(0, base[j])) for j in range(n)] for _ in range(m)]
    return base, a, b, multi


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=linked())
def test_linked_tables_leak_nothing(data):
    base, a, b, multi = data
    n, m = len(base), len(a)
    pub = Publication()
    tb = pub.table("base", [base], row_totals=True, col_totals=False, grand_total=False)
    ta = pub.table("a", a)
    tq = pub.table("b", b)
    tm = pub.table("m", multi, row_totals=True, col_totals=False, grand_total=False, additive_cols=False)
    for j in range(n):
        pub.equal({ta.key((m, j)): 1, tb.key((0, j)): -1})
        pub.equal({tq.key((m, j)): 1, tb.key((0, j)): -1})
        for i in range(m):
            pub.le(tm.key((i, j)), tb.key((0, j)))
    res = pub.solve()
    k = Knowledge()
    k.add_table("base", [base], res.protected(tb), rows=True, cols=False, grand=False)
    k.add_table("a", a, res.protected(ta), rows=True, cols=True, grand=True)
    k.add_table("b", b, res.protected(tq), rows=True, cols=True, grand=True)
    k.add_table("m", multi, res.protected(tm), rows=True, cols=False, grand=False)
    for j in range(n):
        # What the attacker knows: both questions were answered by everyone counted in the base ...
        k.equations.append({("a", "c", j): 1, ("base", 0, j): -1})
        k.equations.append({("b", "c", j): 1, ("base", 0, j): -1})
        for i in range(m):  # ... and no multi-choice answer exceeds its base.
            k.inequalities.append({("m", i, j): 1, ("base", 0, j): -1})
    for key, shown in k.shown.items():
        if shown is not None:
            assert shown == k.truth[key] and shown >= BAR, key
    assert k.leaks() == {}


def test_non_negativity_is_used():
    # 3 and 2 hidden with a total of 5 would each be pinned to [0, 5] -> width 5 is fine; but a hidden 0
    # next to a published total equal to the visible rest is pinned at 0: the solver must hide more.
    table = [[0, 7, 0], [23, 62, 103]]
    p = protect(table)
    assert attack_one(table, p).leaks() == {}


def test_shared_base_across_tables():
    """Issue #19: one table hides the 11-16 total while the next prints it."""
    base = [4, 15]
    a = [[4, 8], [0, 7]]
    b = [[0, 2], [4, 13]]
    pub = Publication()
    tb = pub.table("base", [base], row_totals=True, col_totals=False, grand_total=False)
    ta, tq = pub.table("a", a), pub.table("b", b)
    for j in range(2):
        pub.equal({ta.key((2, j)): 1, tb.key((0, j)): -1})
        pub.equal({tq.key((2, j)): 1, tb.key((0, j)): -1})
    res = pub.solve()
    k = Knowledge()
    k.add_table("base", [base], res.protected(tb), rows=True, cols=False, grand=False)
    k.add_table("a", a, res.protected(ta), rows=True, cols=True, grand=True)
    k.add_table("b", b, res.protected(tq), rows=True, cols=True, grand=True)
    for j in range(2):
        k.equations.append({("a", "c", j): 1, ("base", 0, j): -1})
        k.equations.append({("b", "c", j): 1, ("base", 0, j): -1})
    assert k.leaks() == {}
    # The same tables protected one at a time leak through the shared base: the attacker catches that.
    naive = Knowledge()
    naive.add_table("base", [base], protect([base], col_totals=False, grand_total=False),
                    rows=True, cols=False, grand=False)
    naive.add_table("a", a, protect(a), rows=True, cols=True, grand=True)
    naive.add_table("b", b, protect(b), rows=True, cols=True, grand=True)
    for j in range(2):
        naive.equations.append({("a", "c", j): 1, ("base", 0, j): -1})
        naive.equations.append({("b", "c", j): 1, ("base", 0, j): -1})
    assert naive.leaks() != {}


def test_multi_choice_bounded_by_its_base():
    """Issue #19: 'Someone else' at 8 with a base of 4 for two bands pins the hidden third cell at 4."""
    base = [2, 2, 4]
    multi = [[2, 2, 4], [1, 0, 3]]
    pub = Publication()
    tb = pub.table("base", [base], row_totals=True, col_totals=False, grand_total=False)
    tm = pub.table("m", multi, row_totals=True, col_totals=False, grand_total=False, additive_cols=False)
    for i in range(2):
        for j in range(3):
            pub.le(tm.key((i, j)), tb.key((0, j)))
    res = pub.solve()
    k = Knowledge()
    k.add_table("base", [base], res.protected(tb), rows=True, cols=False, grand=False)
    k.add_table("m", multi, res.protected(tm), rows=True, cols=False, grand=False)
    for i in range(2):
        for j in range(3):
            k.inequalities.append({("m", i, j): 1, ("base", 0, j): -1})
    assert k.leaks() == {}


def test_structural_zeros_are_dashes_and_outside_the_problem():
    """Issue #19: the Super Council has no 16-25s; "fewer than 5" there let the attacker solve the table."""
    table = [[6, 0, 0], [0, 7, 0], [3, 2, 0], [0, 0, 10]]
    zeros = {(0, 1), (0, 2), (1, 0), (1, 2), (2, 2), (3, 0), (3, 1)}
    p = protect(table, structural=zeros)
    for i, j in zeros:
        assert p.text((i, j)) == NOT_APPLICABLE
    assert p.text((2, 0)) == HIDDEN
    assert attack_one(table, p, structural=zeros).leaks() == {}


def test_a_structural_position_with_people_in_it_is_an_ordinary_cell():
    p = protect([[6, 2], [5, 9]], structural={(0, 1)})
    assert p.text((0, 1)) == HIDDEN  # not "–": someone is there


def test_the_attacker_catches_per_table_suppression():
    # The old rule (hide the next smallest in the row) with "fewer than 5" labels: the attacker wins.
    table = [[3, 10, 12]]
    naive = Protected(
        cells=((None, 10, 12),), row_totals=(25,), col_totals=None, grand_total=None,
        primary=frozenset({(0, 0)}), complementary=frozenset(),
    )
    assert attack_one(table, naive, cols=False, grand=False).leaks() != {}


def test_single_small_cell_pulls_in_the_next_smallest():
    p = protect_list([3, 10, 12, 40])
    assert p.cells[0] == (None, None, 12, 40)
    assert p.row_totals == (65,)


def test_every_hidden_value_has_the_same_label():
    p = protect_list([3, 10, 12, 40])
    assert p.text((0, 0)) == p.text((0, 1)) == HIDDEN
    assert p.text((0, 4)) == "65"


def test_everything_hidden_is_reported():
    p = protect([[1, 2], [0, 3]])
    assert p.all_hidden


def test_show_percent_and_means():
    assert show(None) == HIDDEN
    assert show(1234) == "1,234"
    assert percent(5, 20) == "25%"
    assert percent(None, 20) is None
    assert percent(6, 4) is None
    assert mean_if_safe(17, 4) is None  # four people: no average
    assert mean_if_safe(17.123456, 5) == 3.4  # published rounded, never to six decimals


def test_log_lists_rules_applied():
    log = DisclosureLog()
    log.add(protect_list([3, 10, 12]))
    text = " ".join(log.lines())
    assert "not shown" in text
    assert "linear-programming" in text
