"""Counts on staff screens (survey status, responses summary): protected together, checked by the attacker."""

from __future__ import annotations

from types import SimpleNamespace

from admin.reports.staff_counts import counts_list, lone, wave
from tests.reports.attacker import BAR, Knowledge


def _d(district: str, invited: int, completed: int, partial: int, opted_out: int, staff: int) -> SimpleNamespace:
    return SimpleNamespace(district=district, invited=invited, started=completed + partial, completed=completed,
                           partial=partial, opted_out=opted_out, staff_entered=staff)


def test_wave_status_leaks_nothing() -> None:
    ds = [_d("east", 12, 3, 1, 0, 1), _d("west", 20, 9, 6, 2, 0), _d("thanet", 15, 7, 2, 1, 4)]
    total = _d("total", 47, 19, 9, 3, 5)
    out = wave(ds, total, {"phone": 4, "paper": 1})
    k = Knowledge()
    cols = ("completed", "partial", "opted_out", "staff_entered")
    rows = [*out.rows, out.total]
    for r, (d, shown) in enumerate(zip([*ds, total], rows, strict=True)):
        for c in cols:
            k.entry((r, c), getattr(d, c), getattr(shown, c))
        k.entry((r, "started"), d.started, shown.started)
        k.equations.append({(r, "completed"): 1, (r, "partial"): 1, (r, "started"): -1})
        k.inequalities.append({(r, "staff_entered"): 1, (r, "completed"): -1})
    for c in (*cols, "started"):
        k.equations.append({**{(i, c): 1 for i in range(len(ds))}, (len(ds), c): -1})
    for mode, n in (("phone", 4), ("paper", 1)):
        k.entry(("mode", mode), n, out.modes[mode])
    k.equations.append({("mode", "phone"): 1, ("mode", "paper"): 1, (len(ds), "staff_entered"): -1})
    for key, v in k.shown.items():
        assert v is None or v >= BAR, key
    assert k.leaks() == {}
    assert out.rows[0].rate is None  # no rate on a hidden count


def test_zero_rows_are_kept_and_hidden() -> None:
    shown, total = counts_list({"yes": 12, "no": 9}, ["yes", "no", "not_sure"])
    assert list(shown) == ["yes", "no", "not_sure"]
    assert shown["not_sure"] is None
    assert total is None or (shown["yes"] is None or shown["no"] is None)


def test_a_lone_count_under_five_is_hidden() -> None:
    assert lone(4) is None
    assert lone(5) == 5


def test_wave_page_scoped_views_are_cut_from_the_all_districts_protection() -> None:
    """Issue #19 item 2 on the wave page: every district's own view together with the all-districts view
    leaks nothing, because each is cut from one protection (the page used to protect a scoped viewer's
    districts on their own)."""
    from admin.actions.waves import protected_wave_rows

    ds = [_d("east", 12, 6, 3, 0, 0), _d("west", 20, 9, 6, 0, 0), _d("thanet", 15, 7, 2, 0, 0)]
    total = _d("total", 47, 22, 11, 0, 0)

    def attack(views: list[tuple[list[dict], dict | None]]) -> dict:
        k = Knowledge()
        for i, d in enumerate([*ds, total]):
            k.unknown(("latent", i, "completed"), d.completed)
            k.unknown(("latent", i, "partial"), d.partial)
        for c in ("completed", "partial"):
            k.equations.append({**{("latent", i, c): 1 for i in range(len(ds))}, ("latent", len(ds), c): -1})
        for v, (rows, tot) in enumerate(views):
            for r in [*rows, *([tot] if tot else [])]:
                i = len(ds) if r is tot else [d.district for d in ds].index(r["district"])
                d = [*ds, total][i]
                for c, shown in (("completed", r["completed"]), ("partial", r["partial"]),
                                 ("started", r["started"])):
                    true = d.completed + d.partial if c == "started" else getattr(d, c)
                    k.entry((v, i, c), true, shown)
                    parts = ("completed", "partial") if c == "started" else (c,)
                    k.equations.append({(v, i, c): -1, **{("latent", i, p): 1 for p in parts}})
        return k.leaks()

    all_rows, all_total = protected_wave_rows(ds, total)
    cut = [([r for r in all_rows if r["district"] == d.district], None) for d in ds]
    assert attack([(all_rows, all_total), *cut]) == {}
