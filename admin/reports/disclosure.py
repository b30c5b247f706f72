"""Statistical disclosure control for everything ourvoice publishes: pure functions, no I/O, no database.

Every count of one output (a report, a page, a CLI listing, a digest) goes into one `Publication`
together with what an attacker knows about how the counts relate (totals, shared bases, multi-choice
answers bounded by their base, structural zeros). `Publication.solve()` hides every count under 5
(primary suppression) and then, guided by a linear-programming audit (SciPy/HiGHS), hides further
counts (secondary suppression) until, for every hidden count under 5, the tightest interval an attacker
can derive by integer programming over everything published is at least `WIDTH` wide. Hidden counts
all carry one label, so the label itself says nothing about the size. Never logs values.
"""

from __future__ import annotations

import math
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

THRESHOLD = 5  # counts of fewer than this many people are never published
WIDTH = 5  # the attacker's interval for a hidden count under THRESHOLD must be at least this wide
HIDDEN = "not shown"  # every hidden count, small or not: the label must not tell them apart
FEWER = "fewer than 5"  # only for a lone count that adds up with nothing else published (a digest line)
NOT_APPLICABLE = "\u2013"  # a structural zero: this combination cannot happen (e.g. Super Council, 16-25)

TOTAL_COST = 10.0**6  # a margin's cost: the search hides a total only when no cell will do
# Solved problems of this process, newest last (see Publication.solve); SOLVED_HITS counts answers given from it.
SOLVED: OrderedDict[tuple[object, ...], tuple[frozenset[Hashable], frozenset[Hashable]]] = OrderedDict()
SOLVED_MAX = 64
SOLVED_HITS = [0]

Key = Hashable
Pos = tuple[int, int]
Terms = Mapping[Key, int]


@dataclass(frozen=True)
class Interval:
    lo: float
    hi: float

    @property
    def width(self) -> float:
        return self.hi - self.lo


class Publication:
    """All counts of one output and the linear facts that link them (what an attacker could use).

    Keys are any hashable values. `count` registers a publishable count; `latent` a quantity the attacker
    may reason about but that is never published (e.g. the number of people who answered a multi-choice
    question); `structural` a combination that cannot happen (shown as "–", fixed at zero and left out of
    the problem). Constraints: `equal` (sum of coef*x == 0), `at_most` (sum of coef*x <= 0).
    """

    def __init__(self, *, threshold: int = THRESHOLD, width: int = WIDTH) -> None:
        self.threshold = threshold
        self.width = width
        self.values: dict[Key, int] = {}
        self.published: set[Key] = set()
        self.structural: set[Key] = set()
        self.cost: dict[Key, float] = {}
        self.equations: list[dict[Key, int]] = []
        self.inequalities: list[dict[Key, int]] = []
        self._cache: dict[tuple[Key, frozenset[Key], bool], Interval] = {}
        self._cache_version: tuple[int, int, int] = (0, 0, 0)

    # -- building ---------------------------------------------------------------------------------

    def count(self, key: Key, value: int, *, cost: float | None = None, structural: bool = False) -> Key:
        """A count that may be published; `structural` when it can only ever be zero."""
        value = int(value)
        if value < 0:
            raise ValueError("counts cannot be negative")
        if key in self.values:
            raise ValueError(f"count {key!r} registered twice")
        self.values[key] = value
        if structural and value == 0:
            self.structural.add(key)
        else:
            self.published.add(key)
        self.cost[key] = float(value if cost is None else cost)
        return key

    def latent(self, key: Key, value: int) -> Key:
        """A true quantity that is never published but that the attacker may reason about."""
        if key in self.values:
            raise ValueError(f"count {key!r} registered twice")
        self.values[key] = int(value)
        return key

    def _check(self, terms: Terms) -> dict[Key, int]:
        out = {k: int(c) for k, c in terms.items() if c}
        missing = [k for k in out if k not in self.values]
        if missing:
            raise KeyError(f"unknown count(s) {missing!r}")
        return out

    def equal(self, terms: Terms) -> None:
        """sum(coef * x) == 0 holds for the true values (checked)."""
        t = self._check(terms)
        if sum(c * self.values[k] for k, c in t.items()) != 0:
            raise ValueError("equation does not hold for the true values")
        self.equations.append(t)

    def at_most(self, terms: Terms) -> None:
        """sum(coef * x) <= 0 holds for the true values (checked)."""
        t = self._check(terms)
        if sum(c * self.values[k] for k, c in t.items()) > 0:
            raise ValueError("inequality does not hold for the true values")
        self.inequalities.append(t)

    def total(self, total: Key, parts: Iterable[Key]) -> None:
        """total == sum(parts)."""
        terms: dict[Key, int] = defaultdict(int)
        for p in parts:
            terms[p] += 1
        terms[total] -= 1
        self.equal(terms)

    def le(self, small: Key, big: Key) -> None:
        """small <= big."""
        self.at_most({small: 1, big: -1})

    def link(self, a: Key, b: Key) -> None:
        """a <= b, and a == b when that is true (an attacker may well know it is, so we assume so)."""
        if self.values[a] == self.values[b]:
            self.equal({a: 1, b: -1})
        else:
            self.le(a, b)

    def fact(self, terms: Terms, *, promote: bool = False) -> bool:
        """Add sum(coef*x) <= 0 only if it holds for these values (a fact that does not hold is no use to an
        attacker). With `promote`, a fact that holds with equality is added as an equation: for links an
        attacker may plausibly know to be tight (everyone who took part answered this question)."""
        t = self._check(terms)
        lhs = sum(c * self.values[k] for k, c in t.items())
        if lhs > 0:
            return False
        (self.equations if promote and lhs == 0 else self.inequalities).append(t)
        return True

    def table(
        self,
        name: Hashable,
        cells: Sequence[Sequence[int]],
        *,
        row_totals: bool = True,
        col_totals: bool = True,
        grand_total: bool = True,
        structural: Iterable[Pos] = (),
        additive_cols: bool = True,
        unpublished: Sequence[int] | None = None,
    ) -> TableKeys:
        """Register a grid with its margins as one block; margins sit at row m / column n.

        `additive_cols=False` (multi-choice answers) keeps column totals out of the problem entirely.
        `unpublished[i]` counts people in row i who belong to no published column (e.g. age not given):
        part of the row total, never shown (latent key (name, i, "rest")).
        """
        m = len(cells)
        n = len(cells[0]) if m else 0
        if any(len(r) != n for r in cells):
            raise ValueError("every row needs the same number of cells")
        zeros = set(structural)
        keys = TableKeys(name, m, n, row_totals, col_totals and additive_cols, grand_total and additive_cols)
        total_cost = TOTAL_COST  # hide a total only when no cell will do
        for i in range(m):
            for j in range(n):
                self.count((name, i, j), cells[i][j], structural=(i, j) in zeros)
        rest = list(unpublished or [0] * m)
        if unpublished is not None:
            for i in range(m):
                self.latent((name, i, "rest"), rest[i])
        if row_totals:
            for i in range(m):
                v = sum(cells[i]) + rest[i]
                self.count((name, i, n), v, cost=total_cost + v)
                extra = [(name, i, "rest")] if unpublished is not None else []
                self.total((name, i, n), [*((name, i, j) for j in range(n)), *extra])
        if keys.col_totals:
            for j in range(n):
                v = sum(cells[i][j] for i in range(m))
                self.count((name, m, j), v, cost=total_cost + v)
                self.total((name, m, j), [(name, i, j) for i in range(m)])
        if keys.grand_total:
            v = sum(map(sum, cells)) + sum(rest)
            extra = [(name, i, "rest") for i in range(m)] if unpublished is not None else []
            self.count((name, m, n), v, cost=2 * total_cost + v)
            self.total((name, m, n), [*((name, i, j) for i in range(m) for j in range(n)), *extra])
            if row_totals:
                self.total((name, m, n), [(name, i, n) for i in range(m)])
            if keys.col_totals and unpublished is None:
                self.total((name, m, n), [(name, m, j) for j in range(n)])
        return keys

    # -- solving ----------------------------------------------------------------------------------

    def solve(self, *, hidden: Iterable[Key] = (), fixed: Iterable[Key] = (), quick: bool = False) -> Result:
        """Primary suppression, then secondary suppression guided by the LP audit until nothing leaks.

        `fixed` counts were published already (an earlier output): they stay exactly as they were, hidden
        when in `hidden` and shown otherwise, and only the other counts may be hidden to protect them.
        `quick` mends the first leak found (in a fixed order) instead of the narrowest one, so each round
        solves one interval rather than all of them: for big linked problems (several periods at once).

        The answer is a function of the problem alone, so an identical problem solved before in this process
        (the Panel job drawing PDF, HTML and Markdown of one period; a second download) is answered from
        SOLVED without running the audit again: the same counts hidden, byte for byte the same output."""
        hidden, fixed = frozenset(hidden), frozenset(fixed)
        key = self._fingerprint(hidden, fixed, quick)
        if key in SOLVED:
            SOLVED.move_to_end(key)
            SOLVED_HITS[0] += 1
            primary, secondary = SOLVED[key]
            return Result(self, primary, secondary)
        result = self._solve(hidden=hidden, fixed=fixed, quick=quick)
        SOLVED[key] = (result.primary, result.secondary)
        while len(SOLVED) > SOLVED_MAX:
            SOLVED.popitem(last=False)
        return result

    def _fingerprint(self, hidden: frozenset[Key], fixed: frozenset[Key], quick: bool) -> tuple[object, ...]:
        """Everything the solve reads, in the order it reads it (equations and inequalities keep theirs)."""
        return (
            self.threshold, self.width, quick, hidden, fixed,
            frozenset(self.values.items()), frozenset(self.published), frozenset(self.structural),
            frozenset(self.cost.items()),
            tuple(tuple(eq.items()) for eq in self.equations),
            tuple(tuple(eq.items()) for eq in self.inequalities),
        )

    def _solve(self, *, hidden: Iterable[Key], fixed: Iterable[Key], quick: bool) -> Result:
        frozen = set(fixed)
        primary = {k for k in self.published if self.values[k] < self.threshold and k not in frozen}
        primary |= {k for k in frozen & set(hidden) if self.values[k] < self.threshold}
        hide = set(primary) | set(hidden)
        if quick:
            return self._give_back(self._solve_quick(primary, hide, frozen), frozen)
        passed: set[Key] = set()  # hiding more only widens intervals: a count that passed stays passed
        for _ in range(10 * len(self.published) + 10):
            leaks = audit(self, hide, primary - passed)
            passed |= primary - set(leaks)
            if not leaks:
                break
            extra = None
            for key in sorted(leaks, key=lambda k: (leaks[k].width, repr(k))):
                extra = self._choose(key, hide, frozen)
                if extra is not None:
                    break
            if extra is None:
                break  # nothing visible is linked to any leak: hiding more cannot widen them
            hide.add(extra)
        return self._give_back(Result(self, frozenset(primary), frozenset(hide - primary)), frozen)

    def _give_back(self, result: Result, fixed: set[Key]) -> Result:
        """Show again any total the greedy search hid when the cells hidden after it protect enough on their
        own (a total is hidden only when no cell will do): most expensive first, each checked by the audit
        of the counts it is linked to."""
        hide = set(result.hidden)
        for k in sorted(result.secondary, key=lambda k: (-self.cost[k], repr(k))):
            if self.cost[k] < TOTAL_COST or k in fixed:
                continue
            trial = hide - {k}
            comps = _components(self, trial)
            near = {x for eq in self.equations + self.inequalities if k in eq for x in eq if x in comps}
            linked = set().union(*(comps[x] for x in near)) if near else set()
            if not audit(self, trial, result.primary & linked):
                hide = trial
        return Result(self, result.primary, frozenset(hide - result.primary))

    def _solve_quick(self, primary: set[Key], hide: set[Key], frozen: set[Key]) -> Result:
        pending = sorted(primary, key=repr)
        for _ in range(10 * len(self.published) + 10 + len(pending)):
            if not pending:
                break
            key = pending[0]
            if _interval(self, key, hide).width >= self.width:
                pending.pop(0)  # hiding more only widens intervals: it stays wide enough
                continue
            extra = self._choose(key, hide, frozen)
            if extra is None:
                pending.pop(0)  # nothing visible is linked to it: hiding more cannot widen it
            else:
                hide.add(extra)
        return Result(self, frozenset(primary), frozenset(hide - primary))

    def _choose(self, leak: Key, hide: set[Key], fixed: set[Key] | frozenset[Key] = frozenset()) -> Key | None:
        """The cheapest visible count whose hiding widens `leak` most (LP relaxation, its component only)."""
        comp = _component(self, leak, hide)
        cands = sorted(
            {
                k
                for eq, _ in _rows(self, comp)
                for k in eq
                if k in self.published and k not in hide and k not in fixed
            },
            key=lambda k: (self.cost[k], repr(k)),
        )
        if not cands:
            return None
        best: tuple[bool, float, float, str] | None = None
        choice = None
        for k in cands[:16]:
            iv = _interval(self, leak, hide | {k}, integral=False)
            if iv.width >= self.width:
                return k
            # A total (cost TOTAL_COST and up) only when no single cell widens the leak at all.
            score = (iv.width <= 0 or self.cost[k] >= TOTAL_COST, -iv.width, self.cost[k], repr(k))
            if best is None or score < best:
                best, choice = score, k
        return choice


@dataclass(frozen=True)
class TableKeys:
    """Where one registered table's cells and margins live in its Publication."""

    name: Hashable
    m: int
    n: int
    row_totals: bool
    col_totals: bool
    grand_total: bool

    def key(self, pos: Pos) -> tuple[Hashable, int, int]:
        return (self.name, pos[0], pos[1])

    def cell_keys(self) -> list[tuple[Hashable, int, int]]:
        return [(self.name, i, j) for i in range(self.m) for j in range(self.n)]


@dataclass(frozen=True)
class Result:
    """What to publish: `shown(key)` is the value, or None when hidden (or structural)."""

    pub: Publication
    primary: frozenset[Key]
    secondary: frozenset[Key]

    @property
    def hidden(self) -> frozenset[Key]:
        return self.primary | self.secondary

    def shown(self, key: Key) -> int | None:
        if key in self.pub.structural or key in self.hidden or key not in self.pub.values:
            return None
        return self.pub.values[key]

    def text(self, key: Key) -> str:
        if key in self.pub.structural:
            return NOT_APPLICABLE
        v = self.shown(key)
        return HIDDEN if v is None else f"{v:,}"

    def protected(self, t: TableKeys) -> Protected:
        m, n = t.m, t.n

        def pos_set(keys: frozenset[Key]) -> frozenset[Pos]:
            return frozenset((k[1], k[2]) for k in keys if isinstance(k, tuple) and len(k) == 3 and k[0] == t.name)

        cells = tuple(tuple(self.shown(t.key((i, j))) for j in range(n)) for i in range(m))
        return Protected(
            cells=cells,
            row_totals=tuple(self.shown(t.key((i, n))) for i in range(m)) if t.row_totals else None,
            col_totals=tuple(self.shown(t.key((m, j))) for j in range(n)) if t.col_totals else None,
            grand_total=self.shown(t.key((m, n))) if t.grand_total else None,
            primary=pos_set(self.primary),
            complementary=pos_set(self.secondary),
            has_grand_total=t.grand_total,
            structural=pos_set(frozenset(self.pub.structural)),
        )

    def all_hidden(self, t: TableKeys) -> bool:
        """True when no cell of the table is published (then the table is left out)."""
        return all(self.shown(k) is None for k in t.cell_keys())


# -- the audit (the attacker's view) -------------------------------------------------------------

Row = tuple[dict[Key, int], bool]  # (coefficients, is an equation)


def _unknowns(pub: Publication, hide: set[Key] | frozenset[Key]) -> set[Key]:
    """What the attacker does not see: hidden published counts and latent quantities."""
    return (set(hide) & pub.published) | (set(pub.values) - pub.published - pub.structural)


def _components(pub: Publication, hide: set[Key] | frozenset[Key]) -> dict[Key, frozenset[Key]]:
    """Each unknown's linked component: unknowns that share a constraint belong together (union-find).

    A hidden count's attacker interval depends only on its component (the constraints touching it and the
    published values in them), so components are the unit of work and of caching."""
    unknown = _unknowns(pub, hide)
    parent = {k: k for k in unknown}

    def find(k: Key) -> Key:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for eq in pub.equations + pub.inequalities:
        ks = [k for k in eq if k in unknown]
        for o in ks[1:]:
            a, b = find(ks[0]), find(o)
            if a != b:
                parent[a] = b
    groups: dict[Key, set[Key]] = defaultdict(set)
    for k in unknown:
        groups[find(k)].add(k)
    frozen = {root: frozenset(members) for root, members in groups.items()}
    return {k: frozen[find(k)] for k in unknown}


def _component(pub: Publication, key: Key, hide: set[Key] | frozenset[Key]) -> frozenset[Key]:
    """The unknowns linked to `key` through constraints (`key` itself when it is linked to nothing)."""
    return _components(pub, hide).get(key, frozenset({key}))


def _rows(pub: Publication, comp: frozenset[Key]) -> list[Row]:
    return [(eq, True) for eq in pub.equations if any(k in comp for k in eq)] + [
        (eq, False) for eq in pub.inequalities if any(k in comp for k in eq)
    ]


def _interval(
    pub: Publication,
    key: Key,
    hide: set[Key] | frozenset[Key],
    *,
    integral: bool = True,
    comp: frozenset[Key] | None = None,
) -> Interval:
    """min and max of `key` over non-negative (integer) values consistent with everything published.

    Cached per (key, component): adding one hidden count changes only the component it joins, so the
    greedy search re-solves only what changed. The cache is dropped whenever the publication grows."""
    if comp is None:
        comp = _component(pub, key, hide)
    version = (len(pub.values), len(pub.equations), len(pub.inequalities))
    if pub._cache_version != version:
        pub._cache.clear()
        pub._cache_version = version
    memo = (key, comp, integral)
    hit = pub._cache.get(memo)
    if hit is None:
        hit = pub._cache[memo] = _solve_interval(pub, key, comp, integral=integral)
    return hit


def _solve_interval(pub: Publication, key: Key, comp: frozenset[Key], *, integral: bool) -> Interval:
    # Imported here, not at the top: SciPy/HiGHS and NumPy cost about half a second of every start of the
    # bot (the admin and CLI import this module), and answering a young person's message never needs them.
    import numpy as np
    from scipy.optimize import Bounds, LinearConstraint, linprog, milp

    rows = _rows(pub, comp)
    order = sorted(comp, key=repr)
    idx = {k: i for i, k in enumerate(order)}
    a = np.zeros((len(rows), len(order)))
    lo = np.empty(len(rows))
    hi = np.empty(len(rows))
    for r, (eq, is_eq) in enumerate(rows):
        rhs = 0.0
        for k, c in eq.items():
            if k in idx:
                a[r, idx[k]] += c
            elif k not in pub.structural:
                rhs -= c * pub.values[k]
        lo[r] = rhs if is_eq else -np.inf
        hi[r] = rhs
    goal = np.zeros(len(order))
    goal[idx[key]] = 1.0
    eqm = [i for i, (_, is_eq) in enumerate(rows) if is_eq]
    ubm = [i for i, (_, is_eq) in enumerate(rows) if not is_eq]
    ends = []
    for sign in (1.0, -1.0):
        if integral:
            cons = [LinearConstraint(a, lo, hi)] if rows else []
            res = milp(sign * goal, constraints=cons, integrality=np.ones(len(order)), bounds=Bounds(0, np.inf))
        else:
            res = linprog(
                sign * goal,
                A_ub=a[ubm] if ubm else None,
                b_ub=hi[ubm] if ubm else None,
                A_eq=a[eqm] if eqm else None,
                b_eq=hi[eqm] if eqm else None,
                bounds=(0, None),
                method="highs",
            )
        status, fun = res.status, res.fun
        if status == 0:
            ends.append(sign * fun)
        elif status in (3, 4) and sign < 0:
            # HiGHS says "unbounded" (or, for MILP, "infeasible or unbounded"): the true values are a
            # solution, so it is unbounded.
            ends.append(math.inf)
        else:  # infeasible cannot happen (the true values satisfy everything); be safe: no width
            return Interval(pub.values[key], pub.values[key])
    lo_v, hi_v = ends[0], ends[1]
    if integral:
        lo_v, hi_v = math.ceil(lo_v - 1e-6), (hi_v if math.isinf(hi_v) else math.floor(hi_v + 1e-6))
    return Interval(lo_v, hi_v)


def audit(pub: Publication, hide: set[Key] | frozenset[Key], sensitive: Iterable[Key]) -> dict[Key, Interval]:
    """Hidden sensitive counts whose attacker interval (integer programming) is narrower than the bar."""
    comps = _components(pub, hide)
    out = {}
    for k in sorted(set(sensitive) & set(hide), key=repr):
        iv = _interval(pub, k, hide, comp=comps.get(k, frozenset({k})))
        if iv.width < pub.width:
            out[k] = iv
    return out


# -- single tables (the simple API) --------------------------------------------------------------


@dataclass(frozen=True)
class Protected:
    """A table ready to publish: None marks a hidden (or structural) value; margins None when absent.

    `row_totals[i]`, `col_totals[j]` and `grand_total` are None either because the margin is not part
    of the table or because it was hidden.
    """

    cells: tuple[tuple[int | None, ...], ...]
    row_totals: tuple[int | None, ...] | None
    col_totals: tuple[int | None, ...] | None
    grand_total: int | None
    primary: frozenset[Pos]
    complementary: frozenset[Pos]
    has_grand_total: bool = False
    structural: frozenset[Pos] = frozenset()

    @property
    def suppressed(self) -> int:
        return len(self.primary) + len(self.complementary)

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.cells), len(self.cells[0]) if self.cells else 0

    def value(self, pos: Pos) -> int | None:
        m, n = self.shape
        i, j = pos
        if i < m and j < n:
            return self.cells[i][j]
        if i < m:
            return self.row_totals[i] if self.row_totals else None
        if j < n:
            return self.col_totals[j] if self.col_totals else None
        return self.grand_total

    def text(self, pos: Pos) -> str:
        """Printable value at a grid position; margins are row m / column n."""
        if pos in self.structural:
            return NOT_APPLICABLE
        v = self.value(pos)
        return HIDDEN if v is None else f"{v:,}"

    @property
    def all_hidden(self) -> bool:
        return all(v is None for r in self.cells for v in r)


def protect(
    table: Sequence[Sequence[int]],
    *,
    row_totals: bool = True,
    col_totals: bool = True,
    grand_total: bool = True,
    structural: Iterable[Pos] = (),
    threshold: int = THRESHOLD,
) -> Protected:
    """One table with its margins, protected on its own (see `Publication` for linked tables)."""
    pub = Publication(threshold=threshold)
    t = pub.table(
        "t", table, row_totals=row_totals, col_totals=col_totals, grand_total=grand_total, structural=structural
    )
    return pub.solve().protected(t)


def protect_list(values: Sequence[int], *, total: bool = True, threshold: int = THRESHOLD) -> Protected:
    """One row of counts with (optionally) its total."""
    return protect([list(values)], row_totals=total, col_totals=False, grand_total=False, threshold=threshold)


def safe_count(value: int, *, threshold: int = THRESHOLD) -> int | None:
    """A lone count with no related published figures: hidden when under the threshold."""
    return None if value < threshold else value


def show(value: int | None, *, hidden: str = HIDDEN) -> str:
    """How a protected count is printed: thousands separators, or the mark for a hidden value."""
    return hidden if value is None else f"{value:,}"


def percent(numerator: int | None, denominator: int | None, *, threshold: int = THRESHOLD) -> str | None:
    """A percentage only when both parts are published and neither is under the threshold."""
    if numerator is None or denominator is None or denominator < threshold or numerator < threshold:
        return None
    return f"{round(100 * numerator / denominator)}%"


def mean_if_safe(total: float, people: int, *, threshold: int = THRESHOLD, places: int = 1) -> float | None:
    """An average over at least `threshold` distinct people, rounded for publication; else nothing."""
    return None if people < threshold else round(total / people, places)


def _structural_example() -> str:
    """An impossible combination from the council file, for the rules box (Kent: Super Council, 16 to 25)."""
    from content.loader import current_council

    ages = {"junior": "7 to 11", "teen": "11 to 16", "young_adult": "16 to 25"}
    for group in current_council().councils.values():
        missing = [band for band in ages if band not in group.bands]
        if missing:
            return f"the {group.label} has no members aged {ages[missing[-1]]}"
    return "a council has no members of that age"


RULES = {
    "threshold": "Any number of fewer than 5 people is hidden (shown as \u201cnot shown\u201d), in tables, "
    "text and charts. Every hidden number carries the same words, so you cannot tell a small one from one "
    "hidden for safety.",
    "complementary": "Where a hidden number could be narrowed down from totals, from other tables about the "
    "same people, or from the fact that counts cannot be negative, we hid more numbers, and checked with a "
    "linear-programming solver that nobody can narrow any hidden small number to fewer than 5 possible values.",
    "structural": "\u201c\u2013\u201d marks a combination that cannot happen (for example, "
    + _structural_example()
    + ").",
    "omitted": "A table or chart in which every number would be hidden is left out, with a sentence saying so.",
    "periods": "Reports cover fixed periods only (calendar months, quarters or the time between two Panel "
    "meetings), so two reports can never be compared to single out one person.",
    "people_once": "Each person is counted once in each cell, however many times they answered.",
    "percentages": "Percentages are shown only when both the number and the group it comes from are 5 or more.",
    "quarantined": "Messages held back by the safeguarding check are never counted, quoted or shown.",
    "quotes": "Quotes appear only when the young person said we could share their words and a member of "
    "staff approved them; names, schools, places, contact details, dates and numbers are taken out first, "
    "and staff can only take words out, never add them.",
    "rag": "Red, amber and green ratings are not given when fewer than 5 people were asked.",
    "means": "Averages and \u201cmost of you said\u201d sentences are given only when 5 or more different "
    "people stand behind them, and are rounded to one decimal place.",
}


@dataclass
class DisclosureLog:
    """Which rules were applied while building one document (listed in the document itself)."""

    tables: int = 0
    primary: int = 0
    complementary: int = 0
    used: set[str] = field(
        default_factory=lambda: {"threshold", "people_once", "percentages", "quarantined", "periods"}
    )
    result: Result | None = None  # the solved problem, for audits (never rendered)

    def add(self, p: Protected) -> Protected:
        self.tables += 1
        self.primary += len(p.primary)
        self.complementary += len(p.complementary)
        if p.complementary:
            self.used.add("complementary")
        if p.structural:
            self.used.add("structural")
        return p

    def use(self, rule: str) -> None:
        self.used.add(rule)

    def lines(self) -> list[str]:
        order = list(RULES)
        return [RULES[r] for r in sorted(self.used, key=order.index)]
