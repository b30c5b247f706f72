"""Statistical disclosure control for published tables: pure functions, no I/O, no database.

Primary suppression hides every count under the threshold (5 people); complementary suppression
hides more cells until no hidden cell can be worked out from the published cells and totals by
adding and subtracting (checked exactly with rational Gaussian elimination, not just by rule of thumb).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

THRESHOLD = 5
FEWER = "fewer than 5"
HIDDEN = "not shown"  # a number of 5 or more hidden only so that a smaller one cannot be worked out

Pos = tuple[int, int]


@dataclass(frozen=True)
class Protected:
    """A table ready to publish: None marks a hidden value. Margins are None when not published at all.

    `row_totals[i]`, `col_totals[j]` and `grand_total` are None either because the margin is not part
    of the table or because it was hidden; `hidden_totals` tells which.
    """

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...] | None
    col_totals: tuple[int | None, ...] | None
    grand_total: int | None
    primary: frozenset[Pos]
    complementary: frozenset[Pos]
    has_grand_total: bool = False

    @property
    def suppressed(self) -> int:
        return len(self.primary) + len(self.complementary)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0]) if self.cells else 0

    def text(self, pos: Pos) -> str:
        """Printable value at a grid position; margins are row m / column n (see `_Grid`)."""
        m, n = self.shape
        i, j = pos
        if i < m and j < n:
            v = self.cells[i][j]
        elif i < m:
            v = self.row_totals[i] if self.row_totals else None
        elif j < n:
            v = self.col_totals[j] if self.col_totals else None
        else:
            v = self.grand_total
        if v is not None:
            return f"{v:,}"
        return HIDDEN if pos in self.complementary else FEWER


@dataclass
class _Grid:
    """The table with its margins as one (m+1) x (n+1) grid; margins live in row m / column n."""

    m: int
    n: int
    values: dict[Pos, int]
    equations: list[list[tuple[Pos, int]]] = field(default_factory=list)


def _build(table: Sequence[Sequence[int]], row_totals: bool, col_totals: bool, grand_total: bool) -> _Grid:
    m = len(table)
    n = len(table[0]) if m else 0
    if any(len(r) != n for r in table):
        raise ValueError("every row needs the same number of cells")
    if any(v < 0 for r in table for v in r):
        raise ValueError("counts cannot be negative")
    values: dict[Pos, int] = {(i, j): int(table[i][j]) for i in range(m) for j in range(n)}
    g = _Grid(m, n, values)
    if row_totals:
        for i in range(m):
            values[(i, n)] = sum(table[i])
            g.equations.append([*(((i, j), 1) for j in range(n)), ((i, n), -1)])
    if col_totals:
        for j in range(n):
            values[(m, j)] = sum(table[i][j] for i in range(m))
            g.equations.append([*(((i, j), 1) for i in range(m)), ((m, j), -1)])
    if grand_total:
        values[(m, n)] = sum(sum(r) for r in table)
        if row_totals:
            g.equations.append([*(((i, n), 1) for i in range(m)), ((m, n), -1)])
        if col_totals:
            g.equations.append([*(((m, j), 1) for j in range(n)), ((m, n), -1)])
        # Every cell adds up to the grand total too: implied by the others for exact recovery, but
        # the bounds check needs it spelled out.
        g.equations.append([*(((i, j), 1) for i in range(m) for j in range(n)), ((m, n), -1)])
    return g


def _is_margin(g: _Grid, p: Pos) -> bool:
    return p[0] == g.m or p[1] == g.n


def _pick(g: _Grid, candidates: Sequence[Pos], hidden: set[Pos]) -> Pos | None:
    """The next-smallest visible entry among candidates, cells before totals, ties by position."""
    free = [p for p in candidates if p not in hidden]
    if not free:
        return None
    return min(free, key=lambda p: (_is_margin(g, p), g.values[p], p))


def determined(equations: Sequence[Sequence[tuple[Pos, int]]], hidden: set[Pos]) -> set[Pos]:
    """Hidden entries whose value follows exactly from the equations and the visible entries.

    An unknown is determined iff its unit vector lies in the row space of the equations restricted
    to the unknowns; after full (Gauss-Jordan) elimination that means some row has it as its only
    non-zero. Exact, fraction-free integer arithmetic (rows divided by their gcd to stay small).
    """
    unknowns = sorted(hidden)
    index = {p: k for k, p in enumerate(unknowns)}
    rows: list[list[int]] = []
    for eq in equations:
        row = [0] * len(unknowns)
        for p, coef in eq:
            k = index.get(p)
            if k is not None:
                row[k] += coef
        if any(row):
            rows.append(row)
    pivot_row = 0
    for col in range(len(unknowns)):
        sel = next((r for r in range(pivot_row, len(rows)) if rows[r][col]), None)
        if sel is None:
            continue
        rows[pivot_row], rows[sel] = rows[sel], rows[pivot_row]
        prow = rows[pivot_row]
        a = prow[col]
        for r in range(len(rows)):
            b = rows[r][col]
            if r != pivot_row and b:
                new = [a * x - b * y for x, y in zip(rows[r], prow, strict=True)]
                g = math.gcd(*new)
                rows[r] = [x // g for x in new] if g > 1 else new
        pivot_row += 1
        if pivot_row == len(rows):
            break
    out: set[Pos] = set()
    for row in rows[:pivot_row]:
        nz = [k for k, x in enumerate(row) if x]
        if len(nz) == 1:
            out.add(unknowns[nz[0]])
    return out


_INF = float("inf")


def _bounds(p: Pos, primary: set[Pos], threshold: int) -> tuple[float, float]:
    """What a reader knows about a hidden entry from its label: under the threshold, or at least it."""
    return (0, threshold - 1) if p in primary else (threshold, _INF)


def _ceil(x: float) -> float:
    return x if math.isinf(x) else math.ceil(x - 1e-9)


def _floor(x: float) -> float:
    return x if math.isinf(x) else math.floor(x + 1e-9)


def bounded(
    equations: Sequence[Sequence[tuple[Pos, int]]],
    values: dict[Pos, int],
    hidden: set[Pos],
    primary: set[Pos],
    threshold: int = THRESHOLD,
) -> set[Pos]:
    """Hidden entries pinned to one value by the equations plus what each label says (0-4, or 5+).

    Interval propagation to a fixed point: e.g. a row total of 7 next to a visible 7 pins both hidden
    neighbours to 0; two "fewer than 5" cells adding up to 8 must both be 4.
    """
    lo: dict[Pos, float] = {}
    hi: dict[Pos, float] = {}
    for p in hidden:
        lo[p], hi[p] = _bounds(p, primary, threshold)
    lines = []
    for eq in equations:
        unknown = [(p, c) for p, c in eq if p in hidden]
        if unknown:
            lines.append((unknown, -sum(c * values[p] for p, c in eq if p not in hidden)))
    for _ in range(100):
        changed = False
        for unknown, rhs in lines:
            for p, c in unknown:
                rest_lo = rest_hi = 0.0
                for q, d in unknown:
                    if q != p:
                        rest_lo += min(d * lo[q], d * hi[q])
                        rest_hi += max(d * lo[q], d * hi[q])
                a, b = (rhs - rest_hi) / c, (rhs - rest_lo) / c
                new_lo = max(lo[p], _ceil(min(a, b)))
                new_hi = min(hi[p], _floor(max(a, b)))
                if new_lo > lo[p] or new_hi < hi[p]:
                    lo[p], hi[p] = new_lo, new_hi
                    changed = True
        if not changed:
            break
    return {p for p in hidden if lo[p] >= hi[p]}


def protect(
    table: Sequence[Sequence[int]],
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    grand_total: bool = True,
    threshold: int = THRESHOLD,
) -> Protected:
    """Hide small counts and enough others that no hidden value can be recovered by subtraction.

    1. primary: every cell or total below `threshold` (including 0) is hidden;
    2. complementary: any row or column (with its published total) holding exactly one hidden entry
       gets its next-smallest visible cell hidden too (the total itself if no cell is left); repeat
       until stable;
    3. audit: if the exact linear check (all rows and columns together) or the bounds check (one row or
       column plus "under 5" / "5 or more" labels) still pins a hidden entry to one value, hide the
       smallest visible cell in its row or column (or anywhere) and go back to 2.
    """
    g = _build(table, row_totals, col_totals, grand_total)
    primary = {p for p, v in g.values.items() if v < threshold}
    hidden = set(primary)
    members = [[p for p, _ in eq] for eq in g.equations]
    while True:
        changed = True
        while changed:
            changed = False
            for eq in members:
                if sum(1 for p in eq if p in hidden) == 1:
                    p = _pick(g, eq, hidden)
                    if p is not None:
                        hidden.add(p)
                        changed = True
        leaks = determined(g.equations, hidden) or bounded(g.equations, g.values, hidden, primary, threshold)
        if not leaks:
            break
        leak = min(leaks)
        near = [p for p in g.values if p[0] == leak[0] or p[1] == leak[1]]
        p = _pick(g, near, hidden) or _pick(g, list(g.values), hidden)
        if p is None:  # everything hidden: nothing left to recover from
            break
        hidden.add(p)
    m, n = g.m, g.n

    def shown(p: Pos) -> int | None:
        return None if p in hidden else g.values[p]

    cells = tuple(tuple(shown((i, j)) for j in range(n)) for i in range(m))
    return Protected(
        cells=cells,
        row_totals=tuple(shown((i, n)) for i in range(m)) if row_totals else None,
        col_totals=tuple(shown((m, j)) for j in range(n)) if col_totals else None,
        grand_total=shown((m, n)) if grand_total else None,
        primary=frozenset(primary),
        complementary=frozenset(hidden - primary),
        has_grand_total=grand_total,
    )


def protect_list(values: Sequence[int], *, total: bool = True, threshold: int = THRESHOLD) -> Protected:
    """One row of counts with (optionally) its total: the same rules as `protect`."""
    return protect([list(values)], row_totals=total, col_totals=False, grand_total=False, threshold=threshold)


def safe_count(value: int, *, threshold: int = THRESHOLD) -> int | None:
    """A lone count with no related totals: hidden when under the threshold."""
    return None if value < threshold else value


def show(value: int | None, *, hidden: str = FEWER) -> str:
    """How a protected count is printed: thousands separators, or the words for a hidden value."""
    return hidden if value is None else f"{value:,}"


def percent(numerator: int | None, denominator: int | None, *, threshold: int = THRESHOLD) -> str | None:
    """A percentage only when both parts are published and neither is under the threshold."""
    if numerator is None or denominator is None or denominator < threshold or numerator < threshold:
        return None
    return f"{round(100 * numerator / denominator)}%"


def mean_if_safe(total: float, people: int, *, threshold: int = THRESHOLD) -> float | None:
    """An average over at least `threshold` people, else nothing."""
    return None if people < threshold else total / people


RULES = {
    "threshold": "Any number of fewer than 5 people is shown as \u201cfewer than 5\u201d, in tables, text "
    "and charts.",
    "complementary": "Where a hidden number could be worked out from a total, we also hid the next smallest "
    "number in that row or column (shown as \u201cnot shown\u201d), and checked every table until nothing "
    "hidden could be worked out.",
    "people_once": "Each person is counted once in each cell, however many times they answered.",
    "percentages": "Percentages are shown only when both the number and the group it comes from are 5 "
    "or more.",
    "quarantined": "Messages held back by the safeguarding check are never counted, quoted or shown.",
    "quotes": "Quotes appear only when the young person said we could share their words and a member of "
    "staff approved them; names, schools, places, dates and numbers are taken out first.",
    "rag": "Red, amber and green ratings are not given when fewer than 5 people were asked.",
    "means": "Averages are given only when 5 or more people answered.",
}


@dataclass
class DisclosureLog:
    """Which rules were applied while building one document (listed in the document itself)."""

    tables: int = 0
    primary: int = 0
    complementary: int = 0
    used: set[str] = field(default_factory=lambda: {"threshold", "people_once", "percentages", "quarantined"})

    def add(self, p: Protected) -> Protected:
        self.tables += 1
        self.primary += len(p.primary)
        self.complementary += len(p.complementary)
        if p.complementary:
            self.used.add("complementary")
        return p

    def use(self, rule: str) -> None:
        self.used.add(rule)

    def lines(self) -> list[str]:
        order = list(RULES)
        return [RULES[r] for r in sorted(self.used, key=order.index)]
