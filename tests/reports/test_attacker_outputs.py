"""Issue #19: an attacker of our own against what staff can actually see of people's answers.

Written apart from admin/reports/disclosure.py (it shares no code with its audit): it signs in as every role,
county-wide and scoped to each district, scrapes every number the Responses pages and `ourvoice responses
summary` print for two neighbouring quarters (every flow, every age band), and works out which of the
underlying counts each printed figure adds up: people per answer by area and age band (people with no
area or no age band are unknowns it cannot see), and people who took part in a flow by area. Then, with
SciPy's integer programming (HiGHS `milp`), it finds the tightest interval for every hidden figure whose
true value is under 5, given every published figure at once, counts that are whole and never negative.

The bar (README, Disclosure control): every such interval is at least 5 wide, and the same quarter with one
person removed (erased after it ended) publishes exactly the same figures, so no figure moves by that person's
contribution. Two tests show the attacker has teeth: with the second step of protection switched off the LP
attacker pins small counts, and with the quarter's roll-up recomputed (the freeze switched off) the differencing
attacker finds the removed person's answers.

Cost (CI): one 60-person seed, pages scraped once per account and quarter (a flow's age-band pages only when
its all-ages page has a table), the CLI for one account per role (checked to print exactly the page's figures),
one HiGHS milp pair per distinct hidden small figure.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from typer.testing import CliRunner

from tests.admin.conftest import make_admin
from tests.reports.conftest import NOW, runtime

# CI runs a cut that still reads every cell: every role county-wide where it may be, the manager (who counts both
# audiences) in every district, the worker and fostering team in one district each. With OURVOICE_ATTACK_FULL=1
# every role is signed in in every district too (about 2.5 minutes).
FULL = os.environ.get("OURVOICE_ATTACK_FULL", "") == "1"
WIDTH = 5
SMALL = 5
QUARTERS = ((date(2026, 4, 1), date(2026, 6, 30)), (date(2026, 7, 1), date(2026, 9, 30)))
TZ = "Europe/London"
HIDDEN = "not shown"

# What the attacker knows of the system (all of it public, in the README and the content files): which
# audiences each role counts, and that a carer's band is "carer".
ROLE_AUDIENCES = {
    "participation_worker": ("young_person",),
    "participation_manager": ("young_person", "carer"),
    "fostering_team": ("carer",),
    "panel_viewer": ("young_person", "carer"),
}


def _label(q: tuple[date, date]) -> str:
    return f"{q[0].year}-Q{(q[0].month - 1) // 3 + 1}"


# --- the world: 60 seeded people; an account per role, county-wide and per district -----------------------


@dataclass
class World:
    admin: Any
    url: str
    library: Any
    districts: tuple[str, ...]
    accounts: list[tuple[str, str, tuple[str, ...] | None]] = field(default_factory=list)
    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, username: str) -> Any:
        if username not in self.clients:
            self.clients[username] = self.admin.client_for(username)[0]
        return self.clients[username]

    def flows(self) -> list[Any]:
        return sorted((f for f in self.library.flows.values() if f.kind != "menu" and not f.private),
                      key=lambda f: f.id)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from admin.actions.policy import ROLES, SCOPED_ROLES
    from admin.commands.demo_cmd import seed_demo
    from admin.reports.catalog import DISTRICTS
    from content.loader import load_library
    from storage.migrate import create_missing_tables, upgrade
    folder = tmp_path_factory.mktemp("attacker-outputs")
    url = f"sqlite:///{folder / 'small.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, folder)
    seed_demo(rt, people=60, seed=11, months=8, now=NOW)
    rt.engine.dispose()
    library = load_library()
    admin = make_admin(url, folder, library)
    admin.clock.now = NOW
    w = World(admin, url, library, tuple(DISTRICTS))
    for role in ROLE_AUDIENCES:
        assert role in ROLES
        if role not in SCOPED_ROLES:
            w.accounts.append((f"{role}.all", role, None))
        for d in DISTRICTS if FULL or role == "participation_manager" else DISTRICTS[:1]:
            if FULL or role in SCOPED_ROLES or role == "participation_manager":
                w.accounts.append((f"{role}.{d}", role, (d,)))
    for username, role, ds in w.accounts:
        admin.add_staff(username, role, ds or ())
    yield w
    for c in w.clients.values():
        c.close()
    admin.rt.engine.dispose()


# --- the truth (the attacker never uses it to solve; only to know which hidden figures are small) -----------


def _bounds(q: tuple[date, date]) -> tuple[datetime, datetime]:
    zone = ZoneInfo(TZ)
    start = datetime.combine(q[0], time(0), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(q[1] + timedelta(days=1), time(0), zone).astimezone(UTC).replace(tzinfo=None)
    return start, end


def truth(w: World, q: tuple[date, date]) -> tuple[dict[tuple[str, ...], int], dict[tuple[str, ...], int]]:
    """Distinct people per (flow, question, choice, district, band) and per (flow, district) in a quarter,
    counted once per council they answered from (as the published figures are), held-back answers left out."""
    from sqlalchemy import select

    from storage.models import Answer, AnswerChoice, Submission

    start, end = _bounds(q)
    per: dict[tuple[str, ...], set[Any]] = defaultdict(set)
    took: dict[tuple[str, ...], set[Any]] = defaultdict(set)
    private = {f.id for f in w.library.flows.values() if f.private}
    with w.admin.db() as s:
        held = set(s.execute(select(Answer.id).where(Answer.quarantined.is_(True))).scalars())
        rows = s.execute(
            select(AnswerChoice, Submission).join(Submission, Submission.id == AnswerChoice.submission_id)
        ).all()
        for ac, sub in rows:
            when = ac.answered_at.replace(tzinfo=None)
            if not (start <= when < end) or ac.answer_id in held or ac.flow_id in private:
                continue
            person = sub.participant_id if sub.participant_id is not None else -sub.id
            d = ac.district if ac.district in w.districts else ""
            flow = w.library.flows.get(ac.flow_id)
            b = ac.band if flow is not None and ac.band in flow.bands else ""
            per[(ac.flow_id, ac.question_id, ac.choice, d, b)].add((sub.council or "", person))
            took[(ac.flow_id, ac.district or "")].add(person)
    took = {(f, d if d in w.districts else ""): v for (f, d), v in took.items()}
    return {k: len(v) for k, v in per.items()}, {k: len(v) for k, v in took.items()}


# --- scraping -------------------------------------------------------------------------------------------


class _Tables(HTMLParser):
    """Captions/rows of every table: [(caption, [[cell text, ...], ...])]."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[tuple[str, list[list[str]]]] = []
        self._in: str | None = None
        self._buf = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "tr" and self.tables:
            self.tables[-1][1].append([])
        if tag in ("td", "th", "caption"):
            self._in, self._buf = tag, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            text = re.sub(r"\s+", " ", self._buf).strip()
            if tag == "caption":
                self.tables[-1] = (text, self.tables[-1][1])
            elif self.tables and self.tables[-1][1]:
                self.tables[-1][1][-1].append(text)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._buf += data


def _number(text: str) -> int | None:
    if text.strip() == HIDDEN:
        return None
    return int(text.replace(",", ""))


@dataclass(frozen=True)
class Figure:
    """One printed figure: which unknowns it adds up, what it said (None = not shown), and where."""

    cells: frozenset[tuple[str, ...]]
    shown: int | None
    where: str


def layer_cells(flow: Any, role: str, district: str | None, band: str, question: str, choice: str,
                districts: tuple[str, ...]) -> frozenset[tuple[str, ...]]:
    """The unknowns (flow, question, choice, district, band) one figure adds up, from the public rules."""
    mine = set(ROLE_AUDIENCES[role]) & set(flow.audience)
    bands = [b for b in flow.bands if ("carer" if b == "carer" else "young_person") in mine]
    cols = [band] if band else bands + ([""] if mine >= set(flow.audience) else [])
    rows = [district] if district else [*districts, ""]
    return frozenset((flow.id, question, choice, d, b) for d in rows for b in cols)


def scrape_pages(w: World, q: tuple[date, date], accounts: list[tuple[str, str, tuple[str, ...] | None]] | None = None
                 ) -> list[Figure]:
    """Every number the Responses pages print for a quarter, for each account. A flow's age-band pages are
    fetched only when its all-ages page has a table (no answers that quarter: the band pages have none either)."""
    from content.schema import text_for

    out: list[Figure] = []
    period = _label(q)
    for username, role, scope in accounts if accounts is not None else w.accounts:
        client = w.client(username)
        district = scope[0] if scope else None
        html = client.get(f"/admin/responses?period={period}").text
        for table in _parse(html):
            for row in table[1][1:]:
                if len(row) == 3 and row[2] != "per answer only" and row[0]:
                    flow = next((f for f in w.flows() if _title(f) == row[0]), None)
                    if flow is None:
                        continue
                    rows = [district] if district else [*w.districts, ""]
                    cells = frozenset(("took", flow.id, d) for d in rows)
                    out.append(Figure(cells, _number(row[2]), f"{username} overview {flow.id}"))
        for flow in w.flows():
            mine = set(ROLE_AUDIENCES[role]) & set(flow.audience)
            if not mine:
                continue
            bands = [b for b in flow.bands if ("carer" if b == "carer" else "young_person") in mine]
            for band in ["", *bands]:
                resp = client.get(f"/admin/responses/flow/{flow.id}?period={period}&band={band}")
                assert resp.status_code == 200, (username, flow.id, resp.status_code)
                tables = _parse(resp.text)
                if not band and not tables:
                    break
                word_band = band or ("carer" if "carer" in flow.bands else "teen")
                by_text = {}
                for node in flow.nodes:  # a scale's answers have no labels: the page prints the value itself
                    labels = {text_for(c.label, word_band): c.id for c in getattr(node, "choices", None) or ()}
                    by_text[text_for(node.text, word_band) if getattr(node, "text", "") else node.id] = (node.id, labels)
                for caption, rows_ in tables:
                    assert caption in by_text, (flow.id, caption)
                    qid, labels = by_text[caption]
                    for row in rows_[1:]:
                        choice = labels.get(row[0], row[0].replace(" ", "_"))
                        cells = layer_cells(flow, role, district, band, qid, choice, w.districts)
                        out.append(Figure(cells, _number(row[1]), f"{username} {flow.id}?band={band}"))
    return out


def _title(flow: Any) -> str:
    from content.schema import text_for

    return text_for(flow.title, "carer" if flow is not None and "carer" in flow.bands else "teen")


def _parse(html: str) -> list[tuple[str, list[list[str]]]]:
    p = _Tables()
    p.feed(html)
    return p.tables


def cli_env(url: str) -> dict[str, str]:
    from tests.admin.conftest import PASSWORD
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

    return {"OURVOICE_DATABASE_URL": url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
            "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD}


def scrape_cli(w: World, q: tuple[date, date], username: str, role: str, scope: tuple[str, ...] | None,
               flows: list[Any]) -> list[Figure]:
    """What `ourvoice responses summary` prints for one account: the listing and each given flow."""
    from admin.cli import app

    out: list[Figure] = []
    runner = CliRunner()
    env = cli_env(w.url)
    district = scope[0] if scope else None
    res = runner.invoke(app, ["responses", "summary", "--period", _label(q), "--staff", username], env=env)
    assert res.exit_code == 0, res.output
    for line in res.output.splitlines():
        m = re.match(r"^(\w+)\s+took part\s+(not shown|[\d,]+)\s*$", line)
        if m:
            rows = [district] if district else [*w.districts, ""]
            out.append(Figure(frozenset(("took", m.group(1), d) for d in rows), _number(m.group(2)),
                              f"cli {username} {m.group(1)}"))
    for flow in flows:
        if not set(ROLE_AUDIENCES[role]) & set(flow.audience):
            continue
        res = runner.invoke(app, ["responses", "summary", "--flow", flow.id, "--period", _label(q),
                                  "--staff", username], env=env)
        assert res.exit_code == 0, res.output
        qid = ""
        for line in res.output.splitlines():
            if re.match(r"^\w+$", line):
                qid = line
            m = re.match(r"^  (\S+)\s+(not shown|[\d,]+)$", line)
            if m and qid:
                cells = layer_cells(flow, role, district, "", qid, m.group(1), w.districts)
                out.append(Figure(cells, _number(m.group(2)), f"cli {username} {flow.id}"))
    return out


# --- the attacker -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leak:
    where: str
    true: int
    lo: float
    hi: float


Fact = dict[tuple[str, ...], int]  # sum(coef * unknown) <= 0, or == 0 when the attacker may know it is tight


def took_part_facts(w: World, true: dict[tuple[str, ...], int]) -> list[tuple[Fact, bool]]:
    """What an attacker knows of how answers relate to people who took part (tagged keys), where it holds:
    the people who gave one answer in an area are among those who took part there, and for a question with one
    answer each (not "pick several") all its answers' people together are too. Each with whether it is an
    equality: where everyone who took part answered, an attacker may well know it (a question everyone meets)."""
    facts: list[tuple[Fact, bool]] = []
    took = {k: v for k, v in true.items() if k[0] == "took"}
    answers: dict[tuple[str, ...], dict[tuple[str, ...], int]] = defaultdict(dict)
    for k, v in true.items():
        if k[0] != "took":
            answers[k[:3]][k] = v
    for (tag, flow_id, qid), cells in answers.items():
        flow = w.library.flows.get(flow_id)
        if flow is None:
            continue  # a survey's answers: not on the Responses pages
        node = next((n for n in flow.nodes if n.id == qid), None)
        single = node is not None and getattr(node, "type", "") != "multi"
        for d in [*w.districts, ""]:
            limit = ("took", tag, flow_id, d)
            if limit not in took:
                continue
            mine = {k: v for k, v in cells.items() if k[4] == d}
            groups = [[k for k in mine if k[3] == ch] for ch in {k[3] for k in mine}]
            if single:
                groups.append(list(mine))
            for group in groups:
                if group and sum(mine[k] for k in group) <= took[limit]:
                    facts.append(({**dict.fromkeys(group, 1), limit: -1}, sum(mine[k] for k in group) == took[limit]))
    return facts


def attack(figures: list[Figure], true: dict[tuple[str, ...], int],
           facts: list[tuple[Fact, bool]] | None = None) -> tuple[list[Leak], int]:
    """Integer programming over every published figure: the interval of each hidden figure under 5.
    Returns the leaks and how many hidden small figures were checked. With `facts`, a flow's answers and its
    people who took part are one block, linked by those facts."""
    for f in figures:
        if f.shown is not None:
            assert f.shown == sum(true.get(c, 0) for c in f.cells), f"wrong figure at {f.where}"

    def block_of(c: tuple[str, ...]) -> tuple[str, ...]:
        if facts is not None:  # one flow (and quarter): its answers and its people who took part
            return c[1:3] if c[0] == "took" else c[:2]
        return c[:2] if c[0] == "took" else c[:3]  # the same question (or the quarter's took-part) only

    blocks: dict[tuple[str, ...], list[Figure]] = defaultdict(list)
    for f in figures:
        blocks[block_of(next(iter(f.cells)))].append(f)
    facts_of: dict[tuple[str, ...], list[tuple[Fact, bool]]] = defaultdict(list)
    for fact in facts or ():
        facts_of[block_of(next(iter(fact[0])))].append(fact)
    leaks, checked = [], 0
    for name, figs in blocks.items():
        unknowns = sorted({c for f in figs for c in f.cells} | {c for fact, _ in facts_of[name] for c in fact})
        index = {c: i for i, c in enumerate(unknowns)}
        rows, rhs = [], []
        for f in {(f.cells, f.shown) for f in figs if f.shown is not None}:
            a = np.zeros(len(unknowns))
            for c in f[0]:
                a[index[c]] = 1
            rows.append(a)
            rhs.append(f[1])
        cons = [LinearConstraint(np.array(rows), rhs, rhs)] if rows else []
        if facts_of[name]:
            le = np.zeros((len(facts_of[name]), len(unknowns)))
            for i, (fact, _) in enumerate(facts_of[name]):
                for c, coef in fact.items():
                    le[i, index[c]] = coef
            lows = [0.0 if tight else -np.inf for _, tight in facts_of[name]]
            cons.append(LinearConstraint(le, lows, 0))
        seen = set()
        for f in figs:
            value = sum(true.get(c, 0) for c in f.cells)
            if f.shown is not None or value >= SMALL or f.cells in seen:
                continue
            seen.add(f.cells)
            checked += 1
            obj = np.zeros(len(unknowns))
            for c in f.cells:
                obj[index[c]] = 1
            ends = []
            for sign in (1, -1):
                r = milp(sign * obj, constraints=cons, integrality=np.ones(len(unknowns)),
                         bounds=Bounds(0, np.inf))
                if r.status in (3, 4):  # unbounded above (the true values are feasible): as wide as can be
                    ends.append(np.inf)
                    continue
                assert r.status == 0, r.message
                ends.append(sign * r.fun)
            lo, hi = ends
            if hi - lo < WIDTH:
                leaks.append(Leak(f.where, value, lo, hi))
    return leaks, checked


def tagged(figures: list[Figure], q: tuple[date, date]) -> list[Figure]:
    """Quarters do not overlap: each one's unknowns are its own."""
    tag = _label(q)
    return [Figure(frozenset(("took", tag, *c[1:]) if c[0] == "took" else (tag, *c) for c in f.cells), f.shown,
                   f"{tag} {f.where}") for f in figures]


def tagged_truth(w: World, q: tuple[date, date]) -> dict[tuple[str, ...], int]:
    per, took = truth(w, q)
    tag = _label(q)
    return {(tag, *k): v for k, v in per.items()} | {("took", tag, *k): v for k, v in took.items()}


def untagged_truth(w: World, q: tuple[date, date]) -> dict[tuple[str, ...], int]:
    """The quarter's true figures keyed as one scrape's (untagged) cells."""
    per, took = truth(w, q)
    return per | {("took", *k): v for k, v in took.items()}


def cli_accounts(w: World) -> list[tuple[str, str, tuple[str, ...] | None]]:
    """One account per role for the CLI: county-wide where the role may be, else its first district."""
    out, seen = [], set()
    for username, role, scope in w.accounts:
        if role not in seen:
            seen.add(role)
            out.append((username, role, scope))
    return out


@dataclass
class Scraped:
    figures: list[Figure]
    true: dict[tuple[str, ...], int]
    pages: dict[tuple[date, date], list[Figure]]  # untagged, per quarter (for the one-person test)


@pytest.fixture(scope="module")
def scraped(world: World) -> Scraped:
    figures: list[Figure] = []
    true: dict[tuple[str, ...], int] = {}
    pages = {}
    for q in QUARTERS:
        true |= tagged_truth(world, q)
        pages[q] = scrape_pages(world, q)
        figures += tagged(pages[q], q)
        answered = sorted({f.where.split()[1].split("?")[0] for f in pages[q] if "?band=" in f.where})
        flows = [world.library.flows[f] for f in answered]
        for username, role, scope in cli_accounts(world):
            printed = scrape_cli(world, q, username, role, scope, flows)
            # The CLI prints exactly the page's figures for the same account (so it adds nothing to attack).
            on_page = {(f.cells, f.shown) for f in pages[q] if f.where.startswith(f"{username} ")
                       and ("overview" in f.where or f.where.endswith("?band="))}
            assert {(f.cells, f.shown) for f in printed} == on_page, username
            figures += tagged(printed, q)
    return Scraped(figures, true, pages)


def test_no_hidden_small_count_can_be_narrowed_below_five(scraped: Scraped) -> None:
    figures, true = scraped.figures, scraped.true
    hidden_small = [f for f in figures if f.shown is None and sum(true.get(c, 0) for c in f.cells) < SMALL]
    shown = [f for f in figures if f.shown is not None]
    assert len(hidden_small) > 50 and len(shown) > 50, "the seeded data should give both kinds"
    assert all(f.shown >= SMALL for f in shown if f.shown is not None)
    leaks, checked = attack(figures, true)
    assert checked > 20
    print(f"checked {checked} hidden small figures over {len(figures)} scraped; leaks {len(leaks)}")
    assert leaks == []


def test_knowing_that_answers_fit_inside_took_part_narrows_nothing(world: World, scraped: Scraped) -> None:
    """Issue 19, F4: the people who took part in a flow are printed by area; an attacker who also knows that those
    who gave an answer there are among them (and, for a one-answer question, all its answers' people together)
    must still learn no hidden count under 5 to within 5, also where it knows these are equalities (everyone who
    took part answered: a question everyone meets).

    Until 2026-12-06 each answer was protected on its own and the equalities pinned one hidden 0 in this seed; each
    question's answers are now protected as one problem beside the took-part figures (admin/reports/responses.py),
    and with the equalities too nothing narrows."""
    # One quarter, and what the participation manager sees county-wide and in two districts (every age band),
    # keeps the test's cost down.
    tag = _label(QUARTERS[0])
    facts = [(f, eq) for f, eq in took_part_facts(world, scraped.true) if tag in next(iter(f))]
    assert len(facts) > 20
    assert any(eq for _, eq in facts)  # the seed has questions everyone who took part answered
    views = tuple(f"{tag} participation_manager.{d} " for d in ("all", *world.districts[:2]))
    figures = [f for f in scraped.figures if f.where.startswith(views)]
    leaks, checked = attack(figures, scraped.true, facts)
    assert checked > 20
    print(f"with {len(facts)} took-part facts: checked {checked}; leaks {len(leaks)}")
    assert leaks == [], leaks[:10]


def test_the_lp_attacker_pins_small_counts_when_only_primary_suppression_is_on(
    world: World, scraped: Scraped, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same scrape and attack over an unprotected output (every count under 5 hidden, nothing else):
    the attacker recovers hidden small counts, so a clean result above means something."""
    from collections import OrderedDict

    from admin.reports import disclosure
    from admin.reports import responses as counts

    def primary_only(self: disclosure.Publication, **_: object) -> disclosure.Result:
        return disclosure.Result(self, frozenset(k for k in self.published if self.values[k] < self.threshold),
                                 frozenset())

    monkeypatch.setattr(disclosure.Publication, "solve", primary_only)
    monkeypatch.setattr(counts, "_MEMO", OrderedDict())  # nothing solved with protection may answer here
    q = QUARTERS[-1]
    managers = [a for a in world.accounts if a[1] == "participation_manager"]
    figures = tagged(scrape_pages(world, q, managers), q)
    leaks, _ = attack(figures, scraped.true)
    assert len(leaks) >= 3, leaks


# --- one person removed -----------------------------------------------------------------------------------


def _erase_one(w: World, q: tuple[date, date]) -> int:
    """Erase (as a deletion request does) the person behind the most shown figures of the quarter."""
    from sqlalchemy import select

    from storage import privacy
    from storage.models import AnswerChoice, Submission

    start, end = _bounds(q)
    with w.admin.db() as s:
        rows = s.execute(select(Submission.participant_id, AnswerChoice.answered_at)
                         .join(Submission, Submission.id == AnswerChoice.submission_id)).all()
        counts: dict[int, int] = defaultdict(int)
        for pid, when in rows:
            if pid is not None and start <= when.replace(tzinfo=None) < end:
                counts[pid] += 1
        person = max(sorted(counts), key=lambda p: counts[p])
        privacy.erase(s, person)
    return person


def _contribution(before: dict[tuple[str, ...], int], after: dict[tuple[str, ...], int],
                  f: Figure) -> int:
    return sum(before.get(c, 0) for c in f.cells) - sum(after.get(c, 0) for c in f.cells)


def test_one_person_removed_changes_no_published_figure(
    world: World, scraped: Scraped, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same world with one person erased after the quarter ended (a copy of its database): every account's
    figures for the quarter are exactly what they were, as the quarter's roll-up froze when it was first worked
    out; so none moves by that person's contribution. Then the counterfactual: with the roll-up recomputed (the
    freeze switched off), the differencing attacker does find figures that moved by exactly that contribution."""
    from collections import OrderedDict

    from admin.reports import disclosure, reach
    from admin.reports import responses as counts
    from admin.reports.catalog import private_flows, reach_flows
    from storage import rollups

    q = QUARTERS[-1]
    copy = tmp_path / "copy.db"
    for suffix in ("", "-wal", "-shm"):  # SQLite's write-ahead log holds the latest pages
        src = Path(world.url.split("///", 1)[1] + suffix)
        if src.exists():
            shutil.copyfile(src, Path(str(copy) + suffix))
    twin = replace(world, admin=make_admin(f"sqlite:///{copy}", tmp_path, world.library), url=f"sqlite:///{copy}",
                   clients={})
    twin.admin.clock.now = NOW
    before_all = untagged_truth(world, q)
    _erase_one(twin, q)
    after_true_all = untagged_truth(twin, q)
    moved = [f for f in scraped.pages[q] if _contribution(before_all, after_true_all, f) > 0]
    assert len(moved) > 20, "the erased person should stand behind many figures"

    # A fresh process (nothing solved yet), after the erasure: the same figures, account by account.
    monkeypatch.setattr(counts, "_MEMO", OrderedDict())
    monkeypatch.setattr(disclosure, "SOLVED", OrderedDict())
    again = scrape_pages(twin, q)
    assert [(f.where, f.cells, f.shown) for f in again] == [(f.where, f.cells, f.shown) for f in scraped.pages[q]]

    # Counterfactual: recompute the quarter's roll-up (as `ourvoice report rollup --force` would) and the
    # differencing attacker finds figures that moved by exactly the erased person's contribution.
    since, until = reach.bounds(q, TZ)
    with twin.admin.db() as s:
        rollups.refresh(s, reach.period_key(q), since=since, until=until, reach_flows=reach_flows(world.library),
                        now=NOW, force=True, private_flows=private_flows(world.library))
    monkeypatch.setattr(counts, "_MEMO", OrderedDict())
    recomputed = {(f.where, f.cells): f.shown for f in scrape_pages(twin, q)}
    found = [f for f in scraped.pages[q] if f.shown is not None
             and recomputed.get((f.where, f.cells)) is not None
             and f.shown - recomputed[(f.where, f.cells)] == _contribution(before_all, after_true_all, f) > 0]
    assert found, "with the freeze off, a one-person difference should be visible"
    for c in twin.clients.values():
        c.close()
    twin.admin.rt.engine.dispose()
