"""An event's counts on the staff pages (issue 19, F6): an attacker who knows that "How was it?" goes only to young
people who came by name (so the ratings never outnumber them) learns nothing closer than 5 about a hidden count.

The attacker here is independent of admin/reports/disclosure.py: SciPy's integer programming over the published
figures, the tables' own sums and that one fact."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from admin.actions.events import EventCounts, protected
from storage.events import EventSummary

# Unknowns: going, not going, no reply, named, unnamed, ratings 1-5.
NAMES = ("going", "not_going", "no_reply", "named", "unnamed", "r1", "r2", "r3", "r4", "r5")


def summary(
    going: int, not_going: int, no_reply: int, named: int, unnamed: int, ratings: dict[int, int]
) -> EventSummary:
    return EventSummary(
        id=1, kind="activity_day", title="t", council=None, area=None, place="", held_on=date(2026, 11, 1),
        topics=(), status="closed", bands=(), invited=going + not_going + no_reply, going=going, not_going=not_going,
        attended=named + unnamed, attended_named=named, unnamed_attendees=unnamed, evaluations=sum(ratings.values()),
        ratings=ratings,
    )


def published(c: EventCounts) -> list[tuple[dict[str, int], int]]:
    """Each published figure as (coefficients over the unknowns, value)."""
    out: list[tuple[dict[str, int], int]] = []

    def add(terms: dict[str, int], value: int | None) -> None:
        if value is not None:
            out.append((terms, value))

    add({"going": 1}, c.going)
    add({"not_going": 1}, c.not_going)
    add({"no_reply": 1}, c.no_reply)
    add({"going": 1, "not_going": 1, "no_reply": 1}, c.invited)
    add({"named": 1}, c.attended_named)
    add({"unnamed": 1}, c.unnamed)
    add({"named": 1, "unnamed": 1}, c.attended)
    for r in range(1, 6):
        add({f"r{r}": 1}, c.ratings[r])
    add({f"r{r}": 1 for r in range(1, 6)}, c.evaluations)
    return out


def narrowest(c: EventCounts, truth: dict[str, int]) -> list[tuple[str, float, float]]:
    """Every hidden count under 5 whose interval, given everything published and ratings <= named, is under 5."""
    idx = {n: i for i, n in enumerate(NAMES)}
    rows, lo, hi = [], [], []
    for terms, value in published(c):
        a = np.zeros(len(NAMES))
        for k, v in terms.items():
            a[idx[k]] = v
        rows.append(a)
        lo.append(value)
        hi.append(value)
    fact = np.zeros(len(NAMES))
    for r in range(1, 6):
        fact[idx[f"r{r}"]] = 1
    fact[idx["named"]] = -1
    rows.append(fact)
    lo.append(-np.inf)
    hi.append(0)
    cons = [LinearConstraint(np.array(rows), lo, hi)]
    shown = {"going": c.going, "not_going": c.not_going, "no_reply": c.no_reply, "named": c.attended_named,
             "unnamed": c.unnamed, **{f"r{r}": c.ratings[r] for r in range(1, 6)}}
    leaks = []
    for name in NAMES:
        if shown[name] is not None or truth[name] >= 5:
            continue
        obj = np.zeros(len(NAMES))
        obj[idx[name]] = 1
        ends = []
        for sign in (1, -1):
            res = milp(sign * obj, constraints=cons, integrality=np.ones(len(NAMES)), bounds=Bounds(0, np.inf))
            ends.append(np.inf if res.status in (3, 4) else sign * res.fun)
        if ends[1] - ends[0] < 5:
            leaks.append((name, ends[0], ends[1]))
    return leaks


CASES = [
    # 7 came by name and 2 unnamed (9 in all); 6 rated it brilliant: ratings <= named says named >= 6, so if named
    # is hidden only for the 2 unnamed, unnamed = 9 - named is at most 3.
    (12, 3, 5, 7, 2, {5: 6}),
    (20, 0, 0, 5, 1, {5: 5}),
    (8, 8, 8, 9, 3, {4: 2, 5: 7}),
    (6, 1, 0, 6, 0, {3: 1, 5: 5}),
    (15, 2, 3, 12, 4, {1: 1, 2: 1, 5: 10}),
]


@pytest.mark.parametrize(("going", "not_going", "no_reply", "named", "unnamed", "ratings"), CASES)
def test_no_hidden_event_count_can_be_narrowed_below_five(
    going: int, not_going: int, no_reply: int, named: int, unnamed: int, ratings: dict[int, int]
) -> None:
    sm = summary(going, not_going, no_reply, named, unnamed, ratings)
    truth = {"going": going, "not_going": not_going, "no_reply": no_reply, "named": named, "unnamed": unnamed,
             **{f"r{r}": ratings.get(r, 0) for r in range(1, 6)}}
    assert narrowest(protected(sm), truth) == []
