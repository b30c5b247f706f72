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
from typing import Any

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
CANDIDATES = 16  # visible counts tried per leak, cheapest first
GIVE_BACK_TRIALS = 8  # hidden totals tried for showing again, most expensive first (see _give_back)

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
        Each round mends every leak the audit found, narrowest first (`quick`: in a fixed key order), a leak
        checked again first when a count linked to it was hidden earlier in the round. The audit (see
        `Auditor`) proves most counts safe from whole-number solutions it has already met, runs the LP
        relaxation next and HiGHS `milp` only when the LP ends are fractional; the bar is unchanged.

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
        auditor = Auditor(self)
        pending = set(primary)  # hiding more only widens intervals: a count that passed stays passed
        for _ in range(10 * len(self.published) + 10):
            leaks = auditor.audit(hide, pending)
            pending = set(leaks)
            if not leaks:
                break
            # Mend every leak of this round, narrowest first (in a fixed order when `quick`); a leak whose
            # linked counts changed since the audit is checked again first, as the change may have mended it.
            order = sorted(leaks, key=repr) if quick else sorted(leaks, key=lambda k: (leaks[k].width, repr(k)))
            touched: set[Key] = set()
            added = False
            for key in order:
                comp = auditor.component(key, hide)
                if comp & touched and auditor.interval(key, hide, comp).width >= self.width:
                    continue
                extra = self._choose(key, hide, frozen, auditor)
                if extra is None:
                    continue  # nothing visible is linked to it: hiding more cannot widen it
                hide.add(extra)
                added = True
                touched |= auditor.component(key, hide)
            if not added:
                break
        result = Result(self, frozenset(primary), frozenset(hide - primary))
        return self._give_back(result, frozen, auditor)

    def _give_back(self, result: Result, fixed: set[Key], auditor: Auditor) -> Result:
        """Show again any total the greedy search hid when the cells hidden after it protect enough on their
        own (a total is hidden only when no cell will do): most expensive first, each checked by the audit
        of the counts it is linked to. Optional (showing fewer counts is always safe), so at most
        GIVE_BACK_TRIALS totals are tried, the same ones for the same problem."""
        hide = set(result.hidden)
        trials = [
            k for k in sorted(result.secondary, key=lambda k: (-self.cost[k], repr(k)))
            if self.cost[k] >= TOTAL_COST and k not in fixed
        ][:GIVE_BACK_TRIALS]
        for k in trials:
            trial = hide - {k}
            comps = _components(self, trial)
            near = {x for eq in self.equations + self.inequalities if k in eq for x in eq if x in comps}
            linked = set().union(*(comps[x] for x in near)) if near else set()
            attempt = auditor.without(k)
            if not attempt.audit(trial, result.primary & linked):
                hide = trial
                auditor = attempt
        return Result(self, result.primary, frozenset(hide - result.primary))

    def _choose(self, leak: Key, hide: set[Key], fixed: set[Key] | frozenset[Key], auditor: Auditor) -> Key | None:
        """The cheapest visible count whose hiding widens `leak` most (LP relaxation). The candidates are
        judged in one block: the leak's linked counts plus the candidates, each candidate freed in turn
        while the others stay at their published values (other counts linked only to a candidate stay
        fixed too: a narrower estimate, so the choice errs towards hiding more)."""
        comp = auditor.component(leak, hide)
        cands = sorted(
            {
                k
                for eq, _ in _rows(self, comp)
                for k in eq
                if k in self.published and k not in hide and k not in fixed
            },
            key=lambda k: (self.cost[k], repr(k)),
        )[:CANDIDATES]
        if not cands:
            return None
        block = auditor.block(comp | frozenset(cands))
        best: tuple[bool, float, float, str] | None = None
        choice = None
        for k in cands:
            iv = block.lp_interval(leak, freed=k, fixed=cands)
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


class _Links:
    """Every constraint of a Publication once, and which constraints each count is in: the solve asks for the
    constraints touching a component, and for components, many times over (scanning every constraint for
    each ask grew with the square of the paper's size)."""

    def __init__(self, pub: Publication) -> None:
        self.size = (len(pub.equations), len(pub.inequalities))
        self.rows: list[Row] = [(eq, True) for eq in pub.equations] + [(eq, False) for eq in pub.inequalities]
        self.of: dict[Key, list[int]] = defaultdict(list)
        for r, (eq, _) in enumerate(self.rows):
            for k in eq:
                self.of[k].append(r)

    def rows_for(self, keys: Iterable[Key]) -> list[Row]:
        """The constraints touching any of `keys`, in the Publication's order (equations first)."""
        found: set[int] = set()
        for k in keys:
            found.update(self.of.get(k, ()))
        return [self.rows[r] for r in sorted(found)]


def _links(pub: Publication) -> _Links:
    """The index of `pub`'s constraints, kept on it and built again only when constraints were added since."""
    hit: _Links | None = getattr(pub, "_links_index", None)
    if hit is None or hit.size != (len(pub.equations), len(pub.inequalities)):
        hit = _Links(pub)
        pub._links_index = hit  # type: ignore[attr-defined]
    return hit


class _Components:
    """Each unknown's linked component (union-find), grown in place as the search hides more counts:
    hiding a count only joins components, so each newly hidden count costs its own constraints only."""

    def __init__(self, pub: Publication, hide: set[Key] | frozenset[Key]) -> None:
        self.pub = pub
        self.links = _links(pub)
        self.hidden: set[Key] = set()
        self.parent: dict[Key, Key] = {}
        self.members: dict[Key, set[Key]] = {}
        self.frozen: dict[Key, frozenset[Key]] = {}  # root -> its members, until the root's component grows
        for k in sorted(_unknowns(pub, frozenset()), key=repr):  # latent quantities: always unknown
            self._add(k)
        self.grow(hide)

    def _find(self, k: Key) -> Key:
        parent = self.parent
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    def _union(self, a: Key, b: Key) -> None:
        a, b = self._find(a), self._find(b)
        if a == b:
            return
        if len(self.members[a]) > len(self.members[b]):
            a, b = b, a
        self.parent[a] = b
        self.members[b] |= self.members.pop(a)
        self.frozen.pop(a, None)
        self.frozen.pop(b, None)

    def _add(self, k: Key) -> None:
        self.parent[k] = k
        self.members[k] = {k}
        for r in self.links.of.get(k, ()):
            for o in self.links.rows[r][0]:
                if o != k and o in self.parent:
                    self._union(k, o)

    def grow(self, hide: set[Key] | frozenset[Key]) -> None:
        """Take in every newly hidden published count (`hide` must contain what was hidden before)."""
        for k in sorted((set(hide) - self.hidden) & self.pub.published, key=repr):
            self.hidden.add(k)
            self._add(k)

    def component(self, key: Key) -> frozenset[Key]:
        if key not in self.parent:
            return frozenset({key})
        root = self._find(key)
        hit = self.frozen.get(root)
        if hit is None:
            hit = self.frozen[root] = frozenset(self.members[root])
        return hit

    def groups(self) -> dict[Key, frozenset[Key]]:
        return {k: self.component(k) for k in self.parent}


def _components(pub: Publication, hide: set[Key] | frozenset[Key]) -> dict[Key, frozenset[Key]]:
    """Each unknown's linked component: unknowns that share a constraint belong together (union-find).

    A hidden count's attacker interval depends only on its component (the constraints touching it and the
    published values in them), so components are the unit of work and of caching."""
    return _Components(pub, hide).groups()


def _rows(pub: Publication, comp: frozenset[Key]) -> list[Row]:
    return _links(pub).rows_for(comp)


class _Block:
    """The constraints touching a set of unknowns as one sparse system, built once and solved for many of
    its counts (every other count in those constraints is at its published value).

    The LPs run on one HiGHS model per block (highspy), kept loaded: each ask changes only the objective
    (and, while candidates are judged, a few bounds), so the dual simplex starts from the last optimal basis
    instead of from nothing, and nothing is converted again. The optimal values are the LP's own, so every
    decision (narrower than the bar or not) is the same as from a fresh solve; only which optimal vertex is
    met may differ, and a vertex is only ever kept as a proof that a count can take a value."""

    def __init__(self, pub: Publication, unknowns: frozenset[Key]) -> None:
        # Imported here, not at the top: SciPy/HiGHS and NumPy cost about half a second of every start of the
        # bot (the admin and CLI import this module), and answering a young person's message never needs them.
        import numpy as np
        from scipy.sparse import csr_matrix

        self.order = sorted(unknowns, key=repr)
        self.idx = {k: i for i, k in enumerate(self.order)}
        n = len(self.order)
        parts: dict[bool, tuple[list[int], list[int], list[float], list[float]]] = {
            True: ([], [], [], []), False: ([], [], [], [])
        }
        for eq, is_eq in _rows(pub, unknowns):
            r, c, v, b = parts[is_eq]
            row = len(b)
            rhs = 0.0
            for k, coef in eq.items():
                i = self.idx.get(k)
                if i is None:
                    rhs -= coef * pub.values[k]  # a structural zero is 0 too
                else:
                    r.append(row)
                    c.append(i)
                    v.append(coef)
            b.append(rhs)

        def matrix(is_eq: bool) -> tuple[object, object] | tuple[None, None]:
            r, c, v, b = parts[is_eq]
            if not b:
                return None, None
            return csr_matrix((v, (r, c)), shape=(len(b), n)), np.array(b)

        self.a_eq, self.b_eq = matrix(True)
        self.a_ub, self.b_ub = matrix(False)
        self.true = np.array([pub.values[k] for k in self.order], dtype=float)
        self._highs: Any = None
        self._cost: dict[int, float] = {}  # the loaded model's non-zero costs
        self._fixed: dict[int, float] = {}  # columns the loaded model holds at a value

    def _model(self) -> Any:
        """The block's LP loaded into HiGHS once: equations as equal row bounds, the rest as upper bounds."""
        if self._highs is None:
            import highspy
            import numpy as np
            from scipy.sparse import csc_matrix, vstack

            n = len(self.order)
            blocks: list[Any] = []
            lower: list[Any] = []
            upper: list[Any] = []
            if self.a_eq is not None:
                blocks.append(self.a_eq)
                lower.append(self.b_eq)
                upper.append(self.b_eq)
            if self.a_ub is not None:
                blocks.append(self.a_ub)
                lower.append(np.full(len(self.b_ub), -highspy.kHighsInf))  # type: ignore[arg-type]
                upper.append(self.b_ub)
            a = csc_matrix(vstack(blocks)) if blocks else csc_matrix((0, n))
            lp = highspy.HighsLp()
            lp.num_col_, lp.num_row_ = n, a.shape[0]
            lp.col_cost_ = np.zeros(n)
            lp.col_lower_ = np.zeros(n)
            lp.col_upper_ = np.full(n, highspy.kHighsInf)
            lp.row_lower_ = np.concatenate(lower) if lower else np.zeros(0)
            lp.row_upper_ = np.concatenate(upper) if upper else np.zeros(0)
            lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
            lp.a_matrix_.start_ = a.indptr.astype(np.int32)
            lp.a_matrix_.index_ = a.indices.astype(np.int32)
            lp.a_matrix_.value_ = a.data.astype(float)
            # highspy._Highs, not highspy.Highs: the wrapper prints a banner on stdout when it is made (this
            # runs inside CLI commands) and starts callback machinery the audit does not use.
            h = highspy._Highs()  # type: ignore[attr-defined]
            h.setOptionValue("output_flag", False)
            h.setOptionValue("solver", "simplex")
            h.passModel(lp)
            self._highs = h
        return self._highs

    def _run(self, cost: dict[int, float], fixed: dict[int, float]) -> tuple[str, float, Any]:
        """Minimise sum(cost[i] * x_i) with the `fixed` columns held at their values: (status, value, x)."""
        import highspy
        import numpy as np

        h = self._model()
        for i in self._cost.keys() - cost.keys():
            h.changeColCost(i, 0.0)
        for i, c in cost.items():
            if self._cost.get(i) != c:
                h.changeColCost(i, c)
        self._cost = dict(cost)
        for i in self._fixed.keys() - fixed.keys():
            h.changeColBounds(i, 0.0, highspy.kHighsInf)
        for i, v in fixed.items():
            if self._fixed.get(i) != v:
                h.changeColBounds(i, v, v)
        self._fixed = dict(fixed)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return "optimal", float(h.getInfo().objective_function_value), np.array(h.getSolution().col_value)
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return "unbounded", math.nan, None
        return "other", math.nan, None

    def _feasible_integer(self, x: Any) -> Any:
        """`x` rounded, when it is a whole-number point that meets every constraint exactly (else None)."""
        import numpy as np

        xr = np.round(x)
        if np.max(np.abs(xr - x), initial=0.0) > 1e-6 or np.min(xr, initial=0.0) < 0:
            return None
        if self.a_eq is not None and np.max(np.abs(self.a_eq @ xr - self.b_eq), initial=0.0) > 1e-9:
            return None
        if self.a_ub is not None and np.max(self.a_ub @ xr - self.b_ub, initial=0.0) > 1e-9:
            return None
        return xr

    def lp(self, key: Key, sign: float, fixed: dict[int, float] | None = None) -> tuple[float, Any]:
        """min (sign 1) or max (sign -1) of `key` by the LP relaxation, and the optimal vertex when it is
        a whole-number point (the simplex stops at a vertex; for tables with margins it is usually whole)."""
        status, value, x = self._run({self.idx[key]: sign}, fixed or {})
        if status == "optimal":
            return sign * value, self._feasible_integer(x)
        if status == "unbounded" and sign < 0:
            # HiGHS says "unbounded" (or "infeasible or unbounded"): the truth is a solution, so unbounded.
            return math.inf, None
        v = float(self.true[self.idx[key]])  # infeasible cannot happen (the truth fits); be safe: no width
        return v, None

    def lp_sum(self, keys: Sequence[Key], sign: float) -> Any:
        """A whole-number optimal vertex for the min (1) or max (-1) of the sum of `keys`, if it is one."""
        cost: dict[int, float] = {}
        for k in keys:
            cost[self.idx[k]] = cost.get(self.idx[k], 0.0) + sign
        status, _value, x = self._run(cost, {})
        return self._feasible_integer(x) if status == "optimal" else None

    def milp(self, key: Key, sign: float) -> tuple[float, Any]:
        """The same by integer programming (HiGHS branch and bound, through SciPy: a fresh model)."""
        import numpy as np
        from scipy.optimize import Bounds, LinearConstraint, milp

        goal = np.zeros(len(self.order))
        goal[self.idx[key]] = sign
        cons = []
        if self.a_eq is not None:
            cons.append(LinearConstraint(self.a_eq, self.b_eq, self.b_eq))
        if self.a_ub is not None:
            cons.append(LinearConstraint(self.a_ub, -np.inf, self.b_ub))
        res = milp(goal, constraints=cons, integrality=np.ones(len(self.order)), bounds=Bounds(0, np.inf))
        if res.status == 0:
            return sign * res.fun, self._feasible_integer(res.x)
        if res.status in (3, 4) and sign < 0:
            # HiGHS says "unbounded" (or "infeasible or unbounded"): the truth is a solution, so unbounded.
            return math.inf, None
        return float(self.true[self.idx[key]]), None

    def lp_interval(self, key: Key, *, freed: Key, fixed: Iterable[Key]) -> Interval:
        """LP interval of `key` with the `fixed` unknowns held at their true values except `freed`."""
        held = {self.idx[k]: float(self.true[self.idx[k]]) for k in fixed if k != freed}
        lo, _ = self.lp(key, 1.0, held)
        hi, _ = self.lp(key, -1.0, held)
        return Interval(lo, hi)


class Auditor:
    """The attacker's view while one Publication is solved, with what it has learnt kept for the next ask.

    It keeps every whole-number solution it meets (a pool of points consistent with everything published):
    each one proves that every count in it can take its value, so a hidden count whose known values already
    span `width` passes without a solve. Then, per count, the LP relaxation: narrower than `width` means a
    leak (the integer interval lies inside it), and whole-number LP ends are the integer ends; only
    otherwise HiGHS `milp`. Hiding more only adds unknowns, so the pool stays valid as the search hides
    more; `without` starts a trial that shows one count again with the points that do not move it.
    """

    BLOCKS = 64

    def __init__(self, pub: Publication, *, _shared: Auditor | None = None, gone: frozenset[Key] = frozenset()) -> None:
        self.pub = pub
        self.blocks: OrderedDict[frozenset[Key], _Block] = _shared.blocks if _shared else OrderedDict()
        self.memo: dict[tuple[Key, frozenset[Key]], Interval] = _shared.memo if _shared else {}
        # Whole-number solutions, each as the counts it moves from their true values, and which move each count.
        self.points: list[dict[Key, int]] = _shared.points if _shared else []
        self.moves: dict[Key, list[int]] = _shared.moves if _shared else defaultdict(list)
        self.gone = gone  # counts shown again since the points were found: a point moving one no longer holds
        self._uf: _Components | None = None
        self._seen_hide: set[Key] | frozenset[Key] | None = None  # kept, so its id is never reused meanwhile
        self._seen_size = -1

    # -- points --------------------------------------------------------------------------------

    def _add_vector(self, block: _Block, x: Any) -> None:
        import numpy as np

        moved = np.nonzero(x != block.true)[0]
        point = {block.order[i]: int(x[i]) for i in moved}
        pid = len(self.points)
        self.points.append(point)
        for k in point:
            self.moves[k].append(pid)

    def _seen(self, key: Key) -> Interval:
        """The values `key` is known to take in some whole-number solution that still holds."""
        lo = hi = self.pub.values[key]
        for pid in self.moves.get(key, ()):
            p = self.points[pid]
            if self.gone and any(g in p for g in self.gone):
                continue
            v = p[key]
            lo, hi = min(lo, v), max(hi, v)
            if hi - lo >= self.pub.width:
                break
        return Interval(lo, hi)

    def without(self, key: Key) -> Auditor:
        """A trial auditor for the same counts with `key` shown again. Points it finds hold here too (found
        with fewer counts hidden); if the trial is kept, the points that move `key` no longer hold."""
        return Auditor(self.pub, _shared=self, gone=self.gone | {key})

    # -- structure -----------------------------------------------------------------------------

    def component(self, key: Key, hide: set[Key] | frozenset[Key]) -> frozenset[Key]:
        uf = self._uf
        # The search only ever adds to its one `hide` set: the same set at the same size has not changed.
        if uf is None or self._seen_hide is not hide or self._seen_size != len(hide):
            if uf is None or not uf.hidden <= set(hide):
                uf = self._uf = _Components(self.pub, hide)  # shown again (a give-back trial): start afresh
            else:
                uf.grow(hide)
            self._seen_hide, self._seen_size = hide, len(hide)
        return uf.component(key)

    def block(self, unknowns: frozenset[Key]) -> _Block:
        hit = self.blocks.get(unknowns)
        if hit is None:
            hit = self.blocks[unknowns] = _Block(self.pub, unknowns)
            while len(self.blocks) > self.BLOCKS:
                self.blocks.popitem(last=False)
        else:
            self.blocks.move_to_end(unknowns)
        return hit

    # -- intervals -----------------------------------------------------------------------------

    def interval(self, key: Key, hide: set[Key] | frozenset[Key], comp: frozenset[Key] | None = None) -> Interval:
        """The attacker's interval for hidden `key`: exact (integer) when narrower than the bar; when wide
        enough, an interval inside it at least that wide, proved by whole-number solutions."""
        comp = self.component(key, hide) if comp is None else comp
        memo = (key, comp)
        hit = self.memo.get(memo)
        if hit is None:
            hit = self.memo[memo] = self._interval(key, comp)
        return hit

    def _interval(self, key: Key, comp: frozenset[Key]) -> Interval:
        width = self.pub.width
        seen = self._seen(key)
        if seen.width >= width:
            return seen
        block = self.block(comp)
        ends: dict[float, tuple[float, bool]] = {}
        for sign in (-1.0, 1.0):  # the top first: small counts usually sit near 0 already
            v, x = block.lp(key, sign)
            if x is not None:
                self._add_vector(block, x)
            if math.isinf(v) or self._seen(key).width >= width:
                return Interval(self._seen(key).lo, math.inf) if math.isinf(v) else self._seen(key)
            ends[sign] = (v, x is not None)
        lo, hi = math.ceil(ends[1.0][0] - 1e-6), math.floor(ends[-1.0][0] + 1e-6)
        if hi - lo < width or (ends[1.0][1] and ends[-1.0][1]):
            return Interval(lo, hi)  # narrower than the bar already, or whole-number ends: exact
        for sign in (-1.0, 1.0):
            if not ends[sign][1]:
                v, x = block.milp(key, sign)
                if x is not None:
                    self._add_vector(block, x)
                if math.isinf(v):
                    return Interval(self._seen(key).lo, math.inf)
                ends[sign] = (v, True)
        lo, hi = math.ceil(ends[1.0][0] - 1e-6), math.floor(ends[-1.0][0] + 1e-6)
        return Interval(lo, hi)

    def _spread(self, hide: set[Key] | frozenset[Key], keys: Sequence[Key]) -> None:
        """Two LPs per component with several counts still to prove: the largest and the smallest sum of
        them. Their whole-number vertices move many counts at once, so most then pass without a solve."""
        todo: dict[frozenset[Key], list[Key]] = defaultdict(list)
        for k in keys:
            comp = self.component(k, hide)
            if (k, comp) not in self.memo and self._seen(k).width < self.pub.width:
                todo[comp].append(k)
        for comp, ks in sorted(todo.items(), key=lambda kv: repr(kv[1][0])):
            if len(ks) < 3:
                continue
            block = self.block(comp)
            for sign in (-1.0, 1.0):
                x = block.lp_sum(ks, sign)
                if x is not None:
                    self._add_vector(block, x)

    def audit(self, hide: set[Key] | frozenset[Key], sensitive: Iterable[Key]) -> dict[Key, Interval]:
        """Hidden sensitive counts whose attacker interval (integer programming) is narrower than the bar."""
        out = {}
        keys = sorted(set(sensitive) & set(hide), key=repr)
        self._spread(hide, keys)
        for k in keys:
            iv = self.interval(k, hide)
            if iv.width < self.pub.width:
                out[k] = iv
        return out


def audit(pub: Publication, hide: set[Key] | frozenset[Key], sensitive: Iterable[Key]) -> dict[Key, Interval]:
    """Hidden sensitive counts whose attacker interval (integer programming) is narrower than the bar."""
    return Auditor(pub).audit(hide, sensitive)


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
    "meetings), never dates someone chooses, so two reports a day apart cannot be compared to single out one "
    "person. The numbers of people heard are protected across a quarter and its months together, and "
    "answers to questions are counted for whole calendar quarters only, so a month's answers can never be "
    "worked out from its quarter's.",
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
    parts: list[Result] = field(default_factory=list)  # problems solved apart for the same document (audits)

    def merge(self, other: DisclosureLog) -> None:
        """Count in a part of the document that was protected as a problem of its own."""
        self.tables += other.tables
        self.primary += other.primary
        self.complementary += other.complementary
        self.used |= other.used
        self.parts += [r for r in (other.result, *other.parts) if r is not None]

    @property
    def values(self) -> dict[object, int]:
        """The true value of every count in every problem of the document, by key (for audits only)."""
        out: dict[object, int] = {}
        for r in (self.result, *self.parts):
            if r is not None:
                out.update(r.pub.values)
        return out

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
