"""Counts that staff pages, CLI commands and the Slack digest print, through the one disclosure layer.

Each function takes raw counts and returns what may be printed (None = not shown), protecting every
figure of one screen together (admin.reports.disclosure.Publication). Pure: no I/O, never logs counts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from admin.reports.disclosure import HIDDEN, Publication, percent

WAVE_COLS = ("completed", "partial", "opted_out", "staff_entered")


@dataclass(frozen=True)
class WaveRow:
    district: str
    invited: int | None  # protected too: "3 invited" beside hidden replies would cap them at 0-3
    started: int | None
    completed: int | None
    partial: int | None
    opted_out: int | None
    staff_entered: int | None
    rate: str | None


@dataclass(frozen=True)
class WaveCounts:
    rows: list[WaveRow]
    total: WaveRow
    modes: dict[str, int | None]  # staff-entered responses by mode (phone, paper...), every mode listed


def wave(districts: Sequence[Any], total: Any, staff_by_mode: Mapping[str, int] | None = None,
         modes: Sequence[str] = ("phone", "paper")) -> WaveCounts:
    """A wave's status protected as one problem: completed + partial = started, districts add up to the
    total, staff-entered <= completed, started and opted out <= invited, modes add up to staff-entered.
    Invited counts are protected like the rest (issue 19): a district's "3 invited" printed beside its hidden
    replies would say they are 0-3."""
    pub = Publication()
    ds = list(districts)
    cells = [[getattr(d, c) for c in WAVE_COLS] for d in ds] or [[0] * len(WAVE_COLS)]
    t = pub.table("w", cells, row_totals=False, col_totals=True, grand_total=False)
    m = len(cells)
    inv = pub.table("invited", [[d.invited] for d in ds] or [[0]], row_totals=False, col_totals=True,
                    grand_total=False)
    for i, d in enumerate([*ds, total] if ds else [total]):
        r = i if i < len(ds) else m
        pub.count(("started", r), d.started)
        pub.total(("started", r), [t.key((r, 0)), t.key((r, 1))])
        pub.fact({t.key((r, 3)): 1, t.key((r, 0)): -1})  # entered by staff <= completed
        pub.fact({("started", r): 1, inv.key((r, 0)): -1})  # started <= invited
        pub.fact({t.key((r, 2)): 1, inv.key((r, 0)): -1})  # opted out <= invited
    if ds:
        pub.total(("started", m), [("started", i) for i in range(len(ds))])
    all_modes = list(dict.fromkeys([*modes, *sorted(staff_by_mode or {})]))
    by_mode = dict(staff_by_mode or {})
    if all_modes:
        mt = pub.table("modes", [[by_mode.get(k, 0) for k in all_modes]], row_totals=True, col_totals=False,
                       grand_total=False)
        pub.equal({mt.key((0, len(all_modes))): 1, t.key((m, 3)): -1})
    res = pub.solve()

    def row(d: Any, r: int) -> WaveRow:
        done, asked = res.shown(t.key((r, 0))), res.shown(inv.key((r, 0)))
        return WaveRow(d.district, asked, res.shown(("started", r)), done, res.shown(t.key((r, 1))),
                       res.shown(t.key((r, 2))), res.shown(t.key((r, 3))), percent(done, asked))

    rows = [row(d, i) for i, d in enumerate(ds)]
    return WaveCounts(rows, row(total, m), {k: res.shown(("modes", 0, j)) for j, k in enumerate(all_modes)})


def counts_list(counts: Mapping[str, int], keys: Sequence[str]) -> tuple[dict[str, int | None], int | None]:
    """Counts for a fixed list of keys (every key listed, zeros included) and their total, protected."""
    pub = Publication()
    t = pub.table("l", [[int(counts.get(k, 0)) for k in keys]], row_totals=True, col_totals=False,
                  grand_total=False)
    res = pub.solve()
    return {k: res.shown(t.key((0, j))) for j, k in enumerate(keys)}, res.shown(t.key((0, len(keys))))


def lone(value: int) -> int | None:
    """One count published with nothing it adds up with: hidden under 5."""
    pub = Publication()
    pub.count("x", value)
    return pub.solve().shown("x")


def text(value: int | None) -> str:
    return HIDDEN if value is None else f"{value:,}"
