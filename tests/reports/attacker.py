"""An attacker written independently of admin.reports.disclosure: integer programming over what is published.

Given published tables (None = hidden), the additive relations between their entries and any known
inequalities, it computes for each hidden entry the tightest interval consistent with everything
(non-negative integers), using SciPy's HiGHS MILP directly.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

BAR = 5


@dataclass
class Knowledge:
    """Everything the attacker has: published values (None = hidden) and linear facts."""

    shown: dict[Hashable, int | None] = field(default_factory=dict)
    truth: dict[Hashable, int] = field(default_factory=dict)
    equations: list[dict[Hashable, int]] = field(default_factory=list)  # sum c*x == 0
    inequalities: list[dict[Hashable, int]] = field(default_factory=list)  # sum c*x <= 0

    def entry(self, key: Hashable, true: int, shown: int | None) -> None:
        self.truth[key] = true
        self.shown[key] = shown

    def unknown(self, key: Hashable, true: int) -> None:
        """Something never published (e.g. people who answered a multi-choice question)."""
        self.truth[key] = true
        self.shown[key] = None

    def add_table(self, name: str, table: Sequence[Sequence[int]], p, *, rows: bool, cols: bool, grand: bool,
                  structural: set[tuple[int, int]] = frozenset()) -> None:
        m, n = len(table), len(table[0])
        for i in range(m):
            for j in range(n):
                if (i, j) in structural:
                    self.entry((name, i, j), 0, 0)  # "–": known to be zero
                else:
                    self.entry((name, i, j), table[i][j], p.cells[i][j])
        if rows:
            for i in range(m):
                self.entry((name, "r", i), sum(table[i]), p.row_totals[i])
                self.equations.append({**{(name, i, j): 1 for j in range(n)}, (name, "r", i): -1})
        if cols:
            for j in range(n):
                self.entry((name, "c", j), sum(r[j] for r in table), p.col_totals[j])
                self.equations.append({**{(name, i, j): 1 for i in range(m)}, (name, "c", j): -1})
        if grand:
            self.entry((name, "g"), sum(map(sum, table)), p.grand_total)
            self.equations.append(
                {**{(name, i, j): 1 for i in range(m) for j in range(n)}, (name, "g"): -1}
            )

    def intervals(self) -> dict[Hashable, tuple[float, float]]:
        """Per hidden entry: min and max over non-negative integers, solved per linked group of unknowns."""
        hidden = sorted((k for k, v in self.shown.items() if v is None), key=repr)
        if not hidden:
            return {}
        rows_all = [(eq, True) for eq in self.equations] + [(eq, False) for eq in self.inequalities]
        parent = {k: k for k in hidden}

        def find(k: Hashable) -> Hashable:
            while parent[k] != k:
                parent[k] = parent[parent[k]]
                k = parent[k]
            return k

        for eq, _ in rows_all:
            ks = [k for k in eq if k in parent]
            for a in ks[1:]:
                parent[find(a)] = find(ks[0])
        groups: dict[Hashable, list[Hashable]] = {}
        for k in hidden:
            groups.setdefault(find(k), []).append(k)
        out = {}
        for members in groups.values():
            out.update(self._solve_group(members, rows_all))
        return out

    def _solve_group(self, hidden: list[Hashable], rows_all: list) -> dict[Hashable, tuple[float, float]]:
        idx = {k: i for i, k in enumerate(hidden)}
        rows, lo, hi = [], [], []
        for eq, is_eq in rows_all:
            if not any(k in idx for k in eq):
                continue
            row = np.zeros(len(hidden))
            rhs = 0.0
            for k, c in eq.items():
                if k in idx:
                    row[idx[k]] += c
                else:
                    rhs -= c * self.shown[k]
            rows.append(row)
            lo.append(rhs if is_eq else -np.inf)
            hi.append(rhs)
        cons = [LinearConstraint(np.array(rows), np.array(lo), np.array(hi))] if rows else []
        out = {}
        for k, i in idx.items():
            c = np.zeros(len(hidden))
            c[i] = 1
            ends = []
            for sign in (1, -1):
                res = milp(sign * c, constraints=cons, integrality=np.ones(len(hidden)), bounds=Bounds(0, np.inf))
                if res.status == 0:
                    ends.append(sign * res.fun)
                else:
                    # Only "no upper bound" can happen (the truth is a solution); HiGHS's MILP reports it as
                    # "infeasible or unbounded" (4).
                    assert sign == -1 and res.status in (3, 4), res.message
                    ends.append(math.inf)
            out[k] = (math.ceil(ends[0] - 1e-6), ends[1] if math.isinf(ends[1]) else math.floor(ends[1] + 1e-6))
        return out

    def leaks(self) -> dict[Hashable, tuple[float, float]]:
        """Hidden entries truly under the bar whose interval is narrower than the bar."""
        return {
            k: iv
            for k, iv in self.intervals().items()
            if k in self.truth and self.truth[k] < BAR and iv[1] - iv[0] < BAR and not _latent(k)
        }

    def published_small(self) -> list[Hashable]:
        return [k for k, v in self.shown.items() if v is not None and 0 < v < BAR]


def _latent(key: Hashable) -> bool:
    return isinstance(key, tuple) and len(key) > 0 and key[0] == "latent"
