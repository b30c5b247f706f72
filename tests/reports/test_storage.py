"""Aggregates in SQL on SQLite and PostgreSQL: distinct people, quarantine, idempotent roll-ups, quotes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage import quotes as quote_store
from storage import reporting, rollups, submissions
from storage.db import make_engine, session
from storage.models import Participant

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)
SINCE, UNTIL = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)


def person(
    s, n: int, *, band: str = "teen", district: str = "east", council: str | None = None
) -> Participant:
    p = Participant(
        case_ref=f"T-{n:05d}",
        audience="young_person",
        band=band,
        district=district,
        council=council,
        created_at=T0,
    )
    s.add(p)
    s.flush()
    return p


def answer(
    s,
    p: Participant,
    flow: str,
    q: str,
    value,
    *,
    run: int = 0,
    at: datetime = T0,
    quarantined: bool = False,
    text: bool = False,
):
    sub = submissions.get_or_start(s, p, flow, run, now=at)
    return submissions.put_answer(
        s, sub, q, value, skipped=False, free_text=text, quarantined=quarantined, now=at
    )


@pytest.fixture
def engine(db_url: str):
    e = make_engine(db_url)
    yield e
    e.dispose()


def cells_by_choice(cells) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = {}
    for c in cells:
        acc = out.setdefault(c.choice, [0, 0])
        acc[0] += c.people
        acc[1] += c.answers
    return {k: (v[0], v[1]) for k, v in out.items()}


def test_counts_people_once_and_skip_quarantined(engine) -> None:
    with session(engine) as s:
        a, b, c = person(s, 1), person(s, 2), person(s, 3, council="ocypc")
        answer(s, a, "topic_x", "q", "yes")
        answer(s, a, "topic_x", "q", "yes", run=1, at=T0 + timedelta(days=3))  # same person again
        answer(s, b, "topic_x", "q", "no")
        answer(s, c, "topic_x", "q", "yes", quarantined=True)  # never counted
        answer(s, c, "topic_x", "q2", ["x", "y"])  # multi: one row per pick
        answer(s, c, "topic_x", "q", "yes", at=UNTIL + timedelta(days=1), run=2)  # outside the window
    with session(engine) as s:
        got = cells_by_choice(c for c in reporting.choice_counts(s, SINCE, UNTIL) if c.question_id == "q")
        assert got == {"yes": (1, 2), "no": (1, 1)}
        multi = [c for c in reporting.choice_counts(s, SINCE, UNTIL) if c.question_id == "q2"]
        assert sorted((c.choice, c.council, c.people) for c in multi) == [
            ("x", "ocypc", 1),
            ("y", "ocypc", 1),
        ]


def test_rollup_is_idempotent_and_replaces_its_period(engine) -> None:
    with session(engine) as s:
        ps = [person(s, i) for i in range(6)]
        for p in ps:
            answer(s, p, "topic_x", "q", "yes")
    for _ in range(2):  # run twice: same rows, no duplicates
        with session(engine) as s:
            v = rollups.refresh(s, "2026-10", since=SINCE, until=UNTIL, reach_flows=["topic_x"], now=T0)
            assert v.cells == 1
    with session(engine) as s:
        assert [(c.choice, c.people) for c in reporting.rolled_choices(s, "2026-10")] == [("yes", 6)]
        reach = reporting.rolled_reach(s, "2026-10")
        assert sum(r.people for r in reach) == 6
        answer(s, ps[0], "topic_x", "q2", "no")
    with session(engine) as s:
        rollups.refresh(
            s, "2026-10", since=SINCE, until=UNTIL, reach_flows=["topic_x"], now=T0 + timedelta(hours=1)
        )
        assert len(reporting.rolled_choices(s, "2026-10")) == 2
        assert rollups.get(s, "2026-10").computed_at == T0 + timedelta(hours=1)


def test_a_failed_refresh_leaves_the_old_rollup(engine) -> None:
    with session(engine) as s:
        for i in range(5):
            answer(s, person(s, i), "topic_x", "q", "yes")
    with session(engine) as s:
        rollups.refresh(s, "p", since=SINCE, until=UNTIL, reach_flows=[], now=T0)

    def crash() -> None:
        with session(engine) as s:
            # An empty window would empty the period; the crash must roll that back.
            rollups.refresh(s, "p", since=SINCE, until=SINCE, reach_flows=[], now=T0)
            raise RuntimeError("crash before commit")

    with pytest.raises(RuntimeError):
        crash()
    with session(engine) as s:
        assert [(c.choice, c.people) for c in reporting.rolled_choices(s, "p")] == [("yes", 5)]


def test_reach_counts_each_person_once_by_current_profile(engine) -> None:
    with session(engine) as s:
        a = person(s, 1, band="junior", council="super_council")
        answer(s, a, "topic_x", "q", "yes")
        answer(s, a, "wellbeing", "feel_safe", 4)
        answer(s, person(s, 2), "menu_only", "q", "yes")  # not a listed flow
    with session(engine) as s:
        reach = reporting.reach_counts(s, SINCE, UNTIL, flow_ids=["topic_x", "wellbeing"])
        assert [(r.council, r.band, r.people) for r in reach] == [("super_council", "junior", 1)]


def test_quotes_need_consent_and_approval_and_drop_quarantined(engine) -> None:
    with session(engine) as s:
        a, b, c = person(s, 1), person(s, 2), person(s, 3)
        answer(s, a, "topic_x", "share_words", "yes")
        ok = answer(s, a, "topic_x", "words", "They listen to me", text=True)
        answer(s, b, "topic_x", "words", "No consent given here", text=True)  # no share_words answer
        answer(s, c, "topic_x", "share_words", "yes")
        answer(s, c, "topic_x", "words", "held back", text=True, quarantined=True)
    with session(engine) as s:
        cands = quote_store.candidates(s, since=SINCE, until=UNTIL)
        assert [x.answer_id for x in cands] == [ok.id]
        q = quote_store.add(
            s,
            answer_id=ok.id,
            flow_id="topic_x",
            question_id="words",
            band="teen",
            scrubbed_text="They listen to me",
            answered_at=T0,
            now=T0,
        )
        assert quote_store.candidates(s, since=SINCE, until=UNTIL) == []
        assert quote_store.approved(s, since=SINCE, until=UNTIL) == []  # pending is not approved
        quote_store.decide(s, q.id, status="approved", by="staff", now=T0)
        assert [x.text for x in quote_store.approved(s, since=SINCE, until=UNTIL)] == ["They listen to me"]
        with pytest.raises(ValueError, match="unknown status"):
            quote_store.decide(s, q.id, status="published", by="staff", now=T0)


def test_summary_builds_on_every_database(engine, tmp_path) -> None:
    """The whole builder (roll-ups, monthly trend, quotes, cards, waves) runs on SQLite and PostgreSQL."""
    from datetime import date

    from admin.reports import ocypc
    from tests.reports.conftest import frozen_library, report_settings

    with session(engine) as s:
        for i in range(7):
            p = person(s, i, band="junior" if i % 2 else "teen")
            # In September: an October paper shows the last whole quarter's answers (July to September).
            answer(s, p, "good_foster_carer", "first_day", "meal_i_like", at=T0 - timedelta(days=10 + i))
            answer(s, p, "wellbeing", "feel_safe", 4, at=T0 + timedelta(days=i))
    with session(engine) as s:
        summary = ocypc.build(s, frozen_library(), since=date(2026, 10, 1), until=date(2026, 10, 31), now=UNTIL,
                              settings=report_settings(tmp_path), charts_on=False)
    assert summary.headline.young_total_now == "7"
    table = summary.topics[0].questions[0].table
    assert table.grand == "7"
    assert summary.answers_window == ocypc.Window(date(2026, 7, 1), date(2026, 9, 30))
    assert summary.wellbeing is not None
    row = next(r for r in summary.wellbeing.rows if r.question_id == "feel_safe")
    assert row.now == "4.0"
    with session(engine) as s:
        assert rollup_months(s) >= {"2026-09", "2026-10"}  # this month and the one before


def rollup_months(s) -> set[str]:
    return {p.period for p in rollups.periods(s) if len(p.period) == 7}
