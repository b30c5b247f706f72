"""Issue #19's audit, run on a small seeded dataset (60 people): an LP attacker over every table of the
Panel update at once, and a differencing attacker over periods and re-runs. Both must find nothing.
"""

from __future__ import annotations

import itertools
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from admin.reports import ocypc, periods, registry
from admin.reports.disclosure import NOT_APPLICABLE
from storage.db import make_engine, session, utc
from storage.models import Answer, AnswerChoice
from tests.reports.attacker import BAR, Knowledge
from tests.reports.conftest import NOW, close_first_wave, frozen_library, report_settings, runtime

QUARTER = (date(2026, 7, 1), date(2026, 9, 30))
MONTH = (date(2026, 10, 1), date(2026, 10, 31))


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from admin.commands.demo_cmd import seed_demo
    from storage.migrate import create_missing_tables, upgrade

    path = tmp_path_factory.mktemp("small") / "small.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, path.parent)
    seed_demo(rt, people=60, seed=7, months=6, now=NOW)
    rt.engine.dispose()
    return url


@pytest.fixture
def db(small_db: str, tmp_path: Path) -> str:
    """A copy of the small seed with its carers' wave closed inside the quarter, so that the quarter's (and
    September's) paper has the wave's table for the attacker; August's lists it as still open."""
    dst = tmp_path / "copy.db"
    shutil.copy(small_db.split("///", 1)[1], dst)
    close_first_wave(f"sqlite:///{dst}", date(2026, 9, 20))
    return f"sqlite:///{dst}"


def build(url: str, tmp_path: Path, since: date, until: date) -> ocypc.OcypcSummary:
    engine = make_engine(url)
    try:
        with session(engine) as s:
            return ocypc.build(s, frozen_library(), since=since, until=until, now=NOW,
                               settings=report_settings(tmp_path), charts_on=False)
    finally:
        engine.dispose()


def tables(summary: ocypc.OcypcSummary) -> list[tuple[str, ocypc.Table]]:
    out = [("now", summary.headline.young_now), ("before", summary.headline.young_before)]
    for t in summary.topics:
        if t.base is not None:
            out.append((f"{t.flow.id}:base", t.base))
        out += [(f"{t.flow.id}:{q.info.question_id}", q.table) for q in t.questions]
    out += [(f"wave:{w.name}", w.table) for w in summary.carers or [] if w.table is not None]
    if summary.activity is not None and summary.activity.attendance is not None:
        out.append(("activity", summary.activity.attendance))
        if summary.activity.ratings is not None:
            out.append(("ratings", summary.activity.ratings))
    return out


def knowledge(summary: ocypc.OcypcSummary) -> Knowledge:
    """Everything published in the update, with the linear facts an attacker could know, written here
    independently of the module's own problem (the module's solver is used only for the true values)."""
    truth = summary.log.values
    assert truth
    k = Knowledge()
    for _, t in tables(summary):
        keys, p = t.keys, t.protected
        assert keys is not None
        assert p is not None
        name, m, n = keys.name, keys.m, keys.n
        for i in range(m):
            for j in range(n):
                if p.text((i, j)) == NOT_APPLICABLE:
                    k.entry((name, i, j), 0, 0)
                else:
                    k.entry((name, i, j), truth[(name, i, j)], p.cells[i][j])
        has_rest = (name, 0, "rest") in truth
        for i in range(m):
            if has_rest:
                k.unknown(("latent", name, i), truth[(name, i, "rest")])
        if keys.row_totals:
            for i in range(m):
                k.entry((name, "r", i), truth[(name, i, n)], p.row_totals[i])
                eq = {(name, i, j): 1 for j in range(n)}
                if has_rest:
                    eq[("latent", name, i)] = 1
                k.equations.append({**eq, (name, "r", i): -1})
        if keys.col_totals:
            for j in range(n):
                k.entry((name, "c", j), truth[(name, m, j)], p.col_totals[j])
                k.equations.append({**{(name, i, j): 1 for i in range(m)}, (name, "c", j): -1})
        if keys.grand_total:
            k.entry((name, "g"), truth[(name, m, n)], p.grand_total)
            k.equations.append({**{(name, "r", i): 1 for i in range(m)}, (name, "g"): -1})
            if keys.col_totals and not has_rest:
                k.equations.append({**{(name, "c", j): 1 for j in range(n)}, (name, "g"): -1})

    def fact(terms: dict, tight: bool = False) -> None:
        """Only true facts help an attacker; where the attacker may know a link is tight (everyone who took
        part answered the question, once) and it is, it is used as an equation."""
        lhs = sum(c * k.truth[key] for key, c in terms.items())
        if lhs == 0 and tight:
            k.equations.append(terms)
        elif lhs <= 0:
            k.inequalities.append(terms)

    for topic in summary.topics:
        if topic.base is None or topic.base.keys is None:
            continue
        b = topic.base.keys.name
        for q in topic.questions:
            keys = q.table.keys
            assert keys is not None
            for j in range(keys.n):
                people = ("latent", keys.name, "people", j)
                k.unknown(people, truth[(keys.name, "people", j)])
                fact({people: 1, (b, 0, j): -1}, tight=True)  # answered this question <= took part
                for i in range(keys.m):
                    fact({(keys.name, i, j): 1, people: -1})  # chose this answer <= answered
                if q.info.kind == "multi":
                    fact({people: 1, **{(keys.name, i, j): -1 for i in range(keys.m)}})  # picked at least one
                else:
                    fact({people: 1, (keys.name, "c", j): -1}, tight=True)
        # Follow-up questions (issue 19 item 2): read from the topic's branch rules, the people who answered a
        # follow-up in a column are at most those who gave the answers that lead to it (equal when true).
        by_id = {q.info.question_id: q for q in topic.questions}
        for node in topic.flow.nodes:
            for rule in getattr(node, "rules", None) or []:
                if len(rule.when) != 1 or rule.goto not in by_id:
                    continue
                ((parent_id, answers),) = rule.when.items()
                parent, child = by_id.get(parent_id), by_id[rule.goto]
                if parent is None or parent.info.kind == "multi":
                    continue
                pk, ck = parent.table.keys, child.table.keys
                assert pk is not None
                assert ck is not None
                for j, col in enumerate(child.table.col_keys):
                    pj = parent.table.col_keys.index(col)
                    rows = [i for i, r in enumerate(parent.table.row_keys) if r in answers]
                    fact({("latent", ck.name, "people", j): 1, **{(pk.name, i, pj): -1 for i in rows}}, tight=True)
    for w in summary.carers or []:
        keys = w.table.keys
        assert keys is not None
        for i in range(keys.m):
            fact({(keys.name, i, 1): 1, (keys.name, i, 0): -1})  # responded <= invited
        fact({(keys.name, "c", 1): 1, (keys.name, "c", 0): -1})
    act = summary.activity
    if act is not None and act.attendance is not None and act.came is not None:
        # People at meetings: each meeting's figure, and the people who came to one or more and to two or
        # more. Each meeting's people are among those who came at all; attendances add up to at least
        # one-or-more plus two-or-more, and at most one-or-more plus two-or-more for each further meeting.
        keys = act.attendance.keys
        assert keys is not None
        meetings = [(keys.name, i, 0) for i in range(keys.m)]
        one, two = ("came", "one"), ("came", "two")
        k.entry(one, truth[act.came[0]], act.one_or_more)
        k.entry(two, truth[act.came[1]], act.two_or_more)
        for m in meetings:
            fact({m: 1, one: -1})
        fact({two: 1, one: -1})
        fact({one: 1, two: 1, **{m: -1 for m in meetings}})
        fact({**{m: 1 for m in meetings}, one: -1, two: -(len(meetings) - 1)})
        if act.ratings is not None and act.ratings.keys is not None:
            fact({(act.ratings.keys.name, "c", 0): 1, one: -1})  # everyone who rated a meeting came to one
    return k


@pytest.mark.parametrize("window", [QUARTER, MONTH], ids=["quarter", "month"])
def test_lp_attacker_finds_nothing_in_any_table(db: str, tmp_path: Path, window) -> None:
    summary = build(db, tmp_path, *window)
    k = knowledge(summary)
    hidden_small = [key for key, v in k.shown.items() if v is None and k.truth[key] < BAR and key[0] != "latent"]
    assert hidden_small, "the dataset should have small counts for the attacker to go after"
    for key, v in k.shown.items():
        if v is not None:
            assert v == k.truth[key]
            assert v >= BAR or v == 0, key  # 0 only where "–" (structural)
    assert k.leaks() == {}


def test_the_lp_attacker_can_win(db: str, tmp_path: Path) -> None:
    """The attacker is not toothless: publish one hidden small count's neighbours and it is recovered."""
    summary = build(db, tmp_path, *QUARTER)
    k = knowledge(summary)
    target = next(key for key, v in k.shown.items() if v is None and k.truth[key] < BAR and key[0] != "latent")
    for key in list(k.shown):
        if key != target and key[0] != "latent":
            k.shown[key] = k.truth[key]  # everything else published
    assert target in k.leaks()


def allowed(settings) -> list[tuple[date, date]]:
    out = [periods.month(2026, m) for m in range(1, 13)]
    out += [periods.quarter(2026, q) for q in range(1, 5)]
    return out + periods.panel_cycles(settings)


def test_differencing_attacker_cannot_choose_ranges_one_day_apart(tmp_path: Path) -> None:
    settings = report_settings(tmp_path, panel_dates="2026-03-12,2026-05-14,2026-07-16,2026-09-17,2026-12-10")
    ok = allowed(settings)
    for since, until in ok:
        for s2, u2 in ((since + timedelta(days=1), until), (since, until - timedelta(days=1)),
                       (since - timedelta(days=1), until), (since, until + timedelta(days=1))):
            with pytest.raises(periods.PeriodRefused):
                periods.check(s2, u2, settings)
    # Any two reportable periods differ by whole months (each published as a month itself), never by days.
    for (a0, a1), (b0, b1) in itertools.combinations(ok, 2):
        for d in (a0, b0):
            assert d.day == 1
        for d in (a1, b1):
            assert (d + timedelta(days=1)).day == 1


def test_a_period_still_running_is_refused(tmp_path: Path) -> None:
    with pytest.raises(periods.PeriodRefused):
        periods.check(date(2026, 12, 1), date(2026, 12, 31), report_settings(tmp_path), now=NOW)


def test_re_running_a_period_after_an_answer_is_held_back_changes_nothing(db: str, tmp_path: Path) -> None:
    """Issue #19: a quarantined answer showed as a total one smaller than before. Figures of an ended
    period are frozen the first time they are computed, so the two reports are identical."""
    first = produce_md(db, tmp_path, *MONTH)
    engine = make_engine(db)
    start, end = ocypc.Window(*MONTH).bounds("Europe/London")
    with session(engine) as s:
        answer_id = s.execute(
            select(AnswerChoice.answer_id)
            .where(AnswerChoice.answered_at >= utc(start), AnswerChoice.answered_at < utc(end))
            .limit(1)
        ).scalar_one()
        s.execute(update(Answer).where(Answer.id == answer_id).values(quarantined=True))
    engine.dispose()
    assert produce_md(db, tmp_path, *MONTH) == first


def test_band_pages_reuse_the_protected_figures(db: str, tmp_path: Path) -> None:
    """The young people's page for one age band prints only numbers the full update published for it."""
    engine = make_engine(db)
    with session(engine) as s:
        produced = registry.produce("young-people", s, frozen_library(), since=QUARTER[0], until=QUARTER[1],
                                    now=NOW, settings=report_settings(tmp_path), fmt="md")
    engine.dispose()
    published = {v for _, t in tables(produced.summary) for row in t.protected.cells for v in row if v}
    published |= {v for _, t in tables(produced.summary) for v in (t.protected.col_totals or ()) if v}
    text = produced.data.decode()
    for m in re.finditer(r"(\d+) of you", text):
        assert int(m.group(1)) in published
    for m in re.finditer(r"We heard from (\d+)", text):
        assert int(m.group(1)) in published


def produce_md(url: str, tmp_path: Path, since: date, until: date) -> str:
    engine = make_engine(url)
    try:
        with session(engine) as s:
            out = registry.produce("ocypc", s, frozen_library(), since=since, until=until, now=NOW,
                                   settings=report_settings(tmp_path), fmt="md").data.decode()
    finally:
        engine.dispose()
    return out


def printed_answers(summary: ocypc.OcypcSummary) -> dict[tuple[str, str], tuple]:
    """Every figure a paper prints about the topics' answers, as printed, by (topic, question or "took part")."""
    out: dict[tuple[str, str], tuple] = {}
    for t in summary.topics:
        if t.base is not None:
            out[(t.flow.id, "took part")] = (t.base.col_labels, t.base.cells, t.base.row_totals)
        for q in t.questions:
            tb = q.table
            out[(t.flow.id, q.info.question_id)] = (tb.row_labels, tb.col_labels, tb.cells, tb.row_totals,
                                                   tb.col_totals, tb.grand)
    return out


def test_months_and_panel_cycles_print_their_quarters_answers_exactly(db: str, tmp_path: Path) -> None:
    """The re-audit's leak 1 (2026-12-06): a quarter's paper beside its three months' showed, from "took part",
    that the months were different people, and a hidden September answer was then the quarter's figure less
    July's and August's. Answers are now published for calendar quarters only: every month or Panel paper
    prints the last whole quarter's answers, figure for figure and hidden in the same places as the quarter's
    own paper, so setting any papers side by side adds nothing to what one quarter's paper says."""
    settings = report_settings(tmp_path, panel_dates="2026-09-17,2026-11-26")
    built = {q: build(db, tmp_path, *q) for q in (periods.quarter(2026, 2), QUARTER)}
    quarters = {q: printed_answers(p) for q, p in built.items()}
    assert all(quarters.values()), "both quarters should have answers to compare"
    papers = [periods.month(2026, m) for m in (7, 8, 9, 10, 11)] + periods.panel_cycles(settings)
    assert len(papers) > 5, "the Panel dates should give at least one cycle"
    compared = ratings_said = 0
    for since, until in papers:
        engine = make_engine(db)
        try:
            with session(engine) as s:
                paper = ocypc.build(s, frozen_library(), since=since, until=until, now=NOW, settings=settings,
                                    charts_on=False)
        finally:
            engine.dispose()
        own = periods.answers_quarter(until)
        assert paper.answers_window == ocypc.Window(*own)
        assert own in quarters and (since, until) != own
        assert printed_answers(paper) == quarters[own], (since, until)
        assert paper.answers_note, "a paper showing another period's answers says so"
        # "How was it?" too is for quarters only (re-audit 4: a month hidden beside the next month and the Panel
        # cycle over both was read off as 0-2): no ratings table, and a sentence saying where they are.
        if paper.activity is not None and paper.activity.attendance is not None:
            assert paper.activity.ratings is None, (since, until)
            assert "whole calendar quarters only" in paper.activity.ratings_note
            ratings_said += 1
        compared += 1
    assert compared == len(papers)
    assert ratings_said, "no month or Panel paper had meetings to check"
    quarter_ratings = any(p.activity is not None and p.activity.ratings is not None for p in built.values())
    assert quarter_ratings, "a quarter's own paper still prints its ratings"
