"""The wave page's counts of carers: under 5 hidden, and nothing hidden can be worked out by adding up."""

from __future__ import annotations

from admin.actions.waves import protected_wave_rows
from storage.waves import DistrictStatus


def status(district: str, invited: int, started: int, completed: int, opted_out: int = 0) -> DistrictStatus:
    return DistrictStatus(district, invited, started, completed, opted_out, staff_entered=0)


def test_small_counts_are_hidden_with_their_complements() -> None:
    east = status("east", 40, 12, 10)  # 2 part done
    west = status("west", 30, 20, 14, opted_out=6)
    total = status("all", 70, 32, 24, opted_out=6)
    rows, all_row = protected_wave_rows([east, west], total)
    by = {r["district"]: r for r in rows}
    assert by["east"]["partial"] is None  # 2
    # Started (12) and completed (10) would give the 2 away, so one more of them is hidden too.
    assert by["east"]["started"] is None or by["east"]["completed"] is None
    shown = [v for r in (*rows, all_row) for v in (r["started"], r["completed"], r["partial"]) if v is not None]
    assert all(v >= 5 for v in shown)
    assert by["east"]["opted_out"] is None  # 0
    # Opted out is protected with the rest (the page used to hide each cell alone: west 6 beside All 6 gave
    # east's 0 away).
    assert all_row["opted_out"] is None or by["west"]["opted_out"] is None
    assert [r["invited"] for r in rows] == [40, 30]  # the team's own mailing list, always shown
    assert by["east"]["rate"] is None or by["east"]["completed"] is not None


def test_rate_only_from_a_published_count() -> None:
    rows, _ = protected_wave_rows([status("east", 20, 15, 10), status("west", 20, 12, 6)], status("all", 40, 27, 16))
    for r in rows:
        if r["completed"] is None:
            assert r["rate"] is None
        else:
            assert r["rate"] == f"{round(100 * r['completed'] / 20)}%"
