"""Issue #19: a test fails if a route or command prints an unprotected count.

Walks EVERY admin web route (from the FastAPI app's route table, as every role its policy admits, scoped
and county-wide) and EVERY CLI command (from the Typer command table), plus the Slack staff digest, over a
small seeded dataset (60 people, so many counts of 1-4 exist). A page or command is either checked here
or on an explicit allow-list with its reason; a new route or command that is neither fails the test.

The check: in what a checked page or command prints, after taking out dates, times, age ranges and ids,
no number of fewer than 5 may stand as a count (zeros included: a published 0 says "nobody"), except in
parts marked `data-counts="listed"` (counts of things this viewer can list one by one: open alerts, cards,
the carers a team invited). Hidden counts read "not shown"; "–" marks a combination that cannot happen.
The LP and differencing attackers (tests/reports/test_attack.py) check the reports' numbers >= 5 too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from admin.actions.policy import ROLES, SCOPED_ROLES
from admin.web import policy as pol
from admin.web.policy import route_table
from tests.reports.conftest import NOW, runtime

QUARTER = "2026-Q3"  # the Responses counts' quarter: ended at NOW, and full of the seeded answers

SMALL = 5

# --- what is checked, and what is not (with why) ------------------------------------------------------

# GET pages whose every number is scanned (path parameters filled from the seeded data).
CHECKED_PAGES = {
    "/admin/",
    "/admin/responses",
    "/admin/responses/flow/{flow_id}",
    "/admin/waves",
    "/admin/waves/{wave_id}",
    "/admin/waves/{wave_id}/enter",
    "/admin/reports",
    "/admin/themes",
    "/admin/events",
    "/admin/topics",
    "/admin/topics/{topic_id}",
    "/admin/account",
    "/admin/cards",  # each card's supporters are a count of young people: a lone count through the layer
    "/admin/cards/{card_id}",
}
LISTS = "lists items one by one (each row is something this viewer may open); any number is an id, a date or a row"
COUNT_FREE_PAGES = {
    ("GET", "/admin/login"): "the sign-in form: no data",
    ("GET", "/admin/static/{name}"): "stylesheets and scripts",
    ("GET", "/admin/events/{event_id}"): "one event's own register (staff took it); attendance on the list page "
    "(checked) goes through the disclosure layer",
    ("GET", "/admin/alerts"): LISTS,
    ("GET", "/admin/alerts/{alert_ref}"): "one alert (its escalation level and times are about staff, not people)",
    ("GET", "/admin/to-read"): LISTS,
    ("GET", "/admin/to-read/{entry_id}"): "one message to read",
    ("GET", "/admin/requests"): LISTS,
    ("GET", "/admin/requests/{request_id}"): "one request to be contacted",
    ("GET", "/admin/responses/shared/{submission_id}"): "one response its author chose to share",
    ("GET", "/admin/approvals"): LISTS,
    ("GET", "/admin/invites"): "invite batches staff made: codes made, used and revoked are the team's own "
    "paperwork, not counts of answers",
    ("GET", "/admin/audit"): "audit entries, one by one (auditor only)",
    ("GET", "/admin/staff"): "staff accounts",
}
# Unsafe methods change something and answer with a redirect or the page above re-drawn by the same view
# code; the one that publishes (report download) is covered by the report attackers (test_attack.py) and
# scanned here too.
CHECKED_POSTS = {"/admin/reports/download"}
POST_REASON = "changes something; answers with a redirect, a refusal, or a checked page's own view"

# CLI commands, by their words. Checked ones are run below; the others print no counts of people.
CHECKED_CLI = {
    "survey list", "survey status", "responses summary", "event list", "report theme show", "jobs run", "card list",
}
CLI_COUNT_FREE = {
    "run": "starts the server", "init": "writes a settings file", "db upgrade": "migrates",
    "content check": "checks content files", "content preview": "shows a flow's own messages, no answers", "content translations status": "strings per language, not people",
    "content translations export": "writes strings", "content translations import": "reads strings",
    "safeguarding check": "scores a phrase given on the command line", "safeguarding train": "trains the model on "
    "labelled, made-up messages", "safeguarding test-alert": "sends a test notice",
    "alerts list": LISTS, "alerts ack": "one alert", "alerts close": "one alert", "alerts show": "one alert",
    "alerts reveal": "one alert", "alerts reveal-review": "one review statement's reference",
    "alerts reply": "one alert", "alerts escalate": "one escalation tick, "
    "reports how many alerts it re-sent (each is listed to the same staff)",
    "toread list": LISTS, "toread show": "one message", "toread read": "one message", "toread alert": "one message",
    "requests list": LISTS, "requests show": "one request", "requests ack": "one request",
    "requests reply": "one request", "requests close": "one request",
    "survey open": "opens a wave", "survey close": "closes a wave", "survey enter": "enters one response",
    "invite create": "prints codes", "invite list": "invite batches (the team's own paperwork)",
    "invite revoke": "revokes codes", "keys new": "prints a key", "keys check": "checks keys",
    "keys rotate": "re-encrypts", "participant export": "one person's own data, for them",
    "participant delete": "erases one person", "topic list": "topics and their dates",
    "topic publish": "publishes", "topic close": "closes", "topic preview": "a topic's questions",
    "card show": "one card; its supporters through the layer as on `card list` (checked)", "card move": "one card", "card resolve": "one card",
    "goodnews list": LISTS, "goodnews approve": "one item", "goodnews reject": "one item",
    "event add": "adds an event", "event show": "one event's own register", "event invite": "invites",
    "event attend": "takes a register", "event close": "closes an event",
    "staff add": "accounts", "staff list": "accounts", "staff set": "accounts", "staff disable": "accounts",
    "staff enable": "accounts", "staff passwd": "accounts", "audit verify": "checks the chain",
    "audit list": "audit entries one by one",
    "responses shared": LISTS, "responses show": "one shared response",
    "report ocypc": "writes the update to a file: its numbers are attacked in tests/reports/test_attack.py; it "
    "prints how many tables were checked and how many numbers hidden (about the method, not people)",
    "report young-people": "writes the page to a file (tests/reports/test_attack.py: band pages)",
    "report schedule": "dates", "report rollup": "computes roll-ups, prints which months",
    "report panel": "drafts files (as report ocypc)", "report population": "the council's own published figures",
    "report action add": "staff wording", "report action list": "staff wording",
    "report cover set": "staff wording", "report theme set": "staff wording",
    "quote list": LISTS, "quote approve": "one quote", "quote reject": "one quote",
    "quote collect": "how many consented answers became pending quotes (each then listed to the same staff)",
    "council add": "adds a council (operator)", "council list": "councils' ids and names",
    "demo seed": "made-up data", "demo setup": "made-up data", "jobs list": "job names and times",
}

# --- the scan ----------------------------------------------------------------------------------------

_NOT_COUNTS = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?"  # ISO dates and times
    r"|\b\d{1,2}:\d{2}\b"  # times
    r"|\b\d{1,2} (?:January|February|March|April|May|June|July|August|September|October|November|December)"
    r"(?: \d{4})?"  # long dates
    r"|\b\d{4}-(?:Q[1-4]|\d{2})\b|\bQ[1-4]\b"  # periods
    r"|\b\d{1,2} ?(?:to|-|\u2013) ?\d{1,2}\b"  # age ranges (7 to 11, 11-16)
    r"|#\d+|\b(?:[Ww]ave|[Cc]ard|id) \d+\b"  # ids
    r"|\b\d+(?:\.\d+)?%"  # percentages are given only over published parts of 5 or more (checked apart)
    r"|\b\d+ ?(?:minutes|hours|days|working days?|characters|MB|KB|bytes)\b"  # settings, not people
    r"|\b\d+ ?="  # a scale's legend (1 = not at all)
)
_NUMBER = re.compile(r"(?<![\w.,/])(\d{1,3}(?:,\d{3})*|\d+)(?![\w.,/]*\d)(?!\w)")


def small_numbers(text: str) -> list[str]:
    """Numbers under 5 standing as counts in `text` (dates, times, age ranges, ids and percentages aside)."""
    cleaned = _NOT_COUNTS.sub(" ", text)
    return [m.group(0) for m in _NUMBER.finditer(cleaned) if int(m.group(1).replace(",", "")) < SMALL]


class _Visible(HTMLParser):
    """The page's text where counts can stand: outside tables all of it, inside tables the number cells
    (class "num"; other cells are labels, such as a scale's "4"). Leaves out scripts, styles, the
    navigation, form options and parts marked `data-counts="listed"`."""

    SKIP = {"script", "style", "nav", "select", "option", "datalist", "head", "label"}
    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "wbr"}

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, skip, a number cell)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        a = dict(attrs)
        skip = tag in self.SKIP or a.get("data-counts") == "listed"
        num = tag in {"td", "th"} and "num" in (a.get("class") or "").split()
        self._stack.append((tag, skip, num))

    def handle_endtag(self, tag: str) -> None:
        if any(t == tag for t, _, _ in self._stack):
            while self._stack and self._stack.pop()[0] != tag:
                pass

    def handle_data(self, data: str) -> None:
        if any(skip for _, skip, _ in self._stack):
            return
        in_table = any(t == "table" for t, _, _ in self._stack)
        if in_table and not any(num for _, _, num in self._stack):
            return
        self.parts.append(data)


def page_text(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.parts))


def page_small_numbers(html: str) -> list[str]:
    text = page_text(html)
    text = text.split("How to use this page", 1)[0]  # the help box: prose about the rules, no counts
    return small_numbers(text)


# --- the world: 60 seeded people, an admin over them, one account per role ------------------------------


class World:
    def __init__(self, url: str, tmp: Path) -> None:
        from content.loader import load_library
        from tests.admin.conftest import make_admin

        self.library = load_library()
        self.admin = make_admin(url, tmp, self.library)
        self.url = url
        self.accounts: list[tuple[str, str, tuple[str, ...]]] = []
        for role in ROLES:  # county-wide where the role may be, and scoped to one district
            if role not in SCOPED_ROLES:
                self.accounts.append((f"{role}.all", role, ()))
            self.accounts.append((f"{role}.n", role, ("north",)))
        for username, role, districts in self.accounts:
            self.admin.add_staff(username, role, districts)
        self.clients: dict[str, Any] = {}

    def client(self, username: str) -> Any:
        if username not in self.clients:
            self.clients[username] = self.admin.client_for(username)[0]
        return self.clients[username]

    def params(self, name: str) -> list[str]:
        from storage import waves

        if name == "flow_id":
            return sorted(f.id for f in self.library.flows.values() if f.kind != "menu")
        if name == "topic_id":
            return sorted(f.id for f in self.library.flows.values() if f.kind == "topic")
        if name == "card_id":
            from sqlalchemy import select

            from storage.models import ChallengeCard

            with self.admin.db() as s:
                return [str(i) for i in s.execute(select(ChallengeCard.id)).scalars()]
        if name == "wave_id":
            with self.admin.db() as s:
                return [str(w.id) for w in waves.list_waves(s)]
        raise AssertionError(f"no values for {{{name}}}: add them to World.params")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from admin.commands.demo_cmd import seed_demo
    from admin.jobs.dashboard import refresh
    from storage.migrate import create_missing_tables, upgrade

    folder = tmp_path_factory.mktemp("every-count")
    url = f"sqlite:///{folder / 'small.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, folder)
    seed_demo(rt, people=60, seed=7, months=6, now=NOW)
    rt.engine.dispose()
    w = World(url, folder)
    w.admin.clock.now = NOW
    refresh(w.admin.rt, now=NOW)  # the dashboard's periods, worked out ahead as the job does
    yield w
    for c in w.clients.values():
        c.close()
    w.admin.rt.engine.dispose()


def _admin_routes(w: World) -> list[tuple[str, str]]:
    out = []
    for info in route_table(w.admin.app):
        if info.path.startswith("/admin"):
            out += [(m, info.path) for m in sorted(info.methods - {"HEAD"})]
    return out


def test_every_route_is_checked_or_allow_listed_with_a_reason(world: World) -> None:
    unknown = []
    for method, path in _admin_routes(world):
        checked = path in (CHECKED_PAGES if method == "GET" else CHECKED_POSTS)
        if not checked and (method, path) not in COUNT_FREE_PAGES and method == "GET":
            unknown.append(f"{method} {path}")
    assert unknown == [], "check these pages for counts, or allow-list them with a reason: " + ", ".join(unknown)
    routes = set(_admin_routes(world))
    stale = [p for p in CHECKED_PAGES if ("GET", p) not in routes] + [k for k in COUNT_FREE_PAGES if k not in routes]
    assert stale == [], f"no such routes any more: {stale}"
    assert all(reason.strip() for reason in COUNT_FREE_PAGES.values())


def _cli_commands() -> list[str]:
    from admin.cli import app

    out: list[str] = []

    def walk(t: Any, prefix: list[str]) -> None:
        for c in t.registered_commands:
            out.append(" ".join([*prefix, c.name or c.callback.__name__.replace("_", "-")]))
        for g in t.registered_groups:
            walk(g.typer_instance, [*prefix, g.name])

    walk(app, [])
    return out


def test_every_cli_command_is_checked_or_allow_listed_with_a_reason() -> None:
    commands = _cli_commands()
    assert len(commands) > 50
    unknown = [c for c in commands if c not in CHECKED_CLI and c not in CLI_COUNT_FREE]
    assert unknown == [], "run these commands in the count check, or allow-list them with a reason: " + ", ".join(
        unknown)
    stale = sorted((CHECKED_CLI | set(CLI_COUNT_FREE)) - set(commands))
    assert stale == [], f"no such commands any more: {stale}"


def _pages(w: World) -> list[tuple[str, str, str]]:
    """(username, role, path) for every checked page, every account its policy admits, every object."""
    out = []
    for info in route_table(w.admin.app):
        if info.path not in CHECKED_PAGES or "GET" not in info.methods:
            continue
        policy = pol.policy_of(info.route)
        assert policy is not None
        names = re.findall(r"{(\w+)}", info.path)
        paths = [info.path]
        for name in names:
            paths = [p.replace("{" + name + "}", v) for p in paths for v in w.params(name)]
        if info.path == "/admin/":
            paths = ["/admin/?period=month", "/admin/?period=quarter"]
        if info.path == "/admin/responses/flow/{flow_id}":
            paths += [f"{p}?band={b}" for p in list(paths) for b in ("junior", "teen", "young_adult", "carer")]
        for username, role, _ in w.accounts:
            if role in policy.roles:
                out += [(username, role, p) for p in paths]
    return out


def scan_pages(w: World) -> tuple[list[str], int]:
    problems, hidden = [], 0
    for username, _, path in _pages(w):
        resp = w.client(username).get(path)
        if resp.status_code == 404:  # a flow this role may not see, or an object outside its districts
            continue
        assert resp.status_code == 200, (username, path, resp.status_code)
        hidden += resp.text.count("not shown")
        found = page_small_numbers(resp.text)
        if found:
            problems.append(f"{username} {path}: {found}")
    return problems, hidden


def test_no_admin_page_prints_an_unprotected_count(world: World) -> None:
    problems, hidden = scan_pages(world)
    assert hidden > 20, "the seeded data should have small counts for the pages to hide"
    assert problems == []


def test_the_report_download_prints_no_small_count(world: World) -> None:
    """The one publishing POST: the update and the young people's page for a month, as the Panel viewer."""
    client = world.client("panel_viewer.all")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/reports").text).group(1)  # type: ignore[union-attr]
    for report in ("ocypc", "young-people"):
        resp = client.post("/admin/reports/download", data={
            "csrf_token": csrf, "report": report, "fmt": "md", "since": "2026-10-01", "until": "2026-10-31"})
        assert resp.status_code == 200, resp.text[:300]
        body = resp.text.split("How we kept", 1)[0]  # the rules box says how many numbers were hidden
        # Counts in the report are whole numbers >= 5; "1", "2"... in headings and list numbering aside.
        body = re.sub(
            r"(?m)^#+ \d+\.|^\d+\. "  # section and list numbers
            r"|\b\d+(?:\.\d)? out of \d+|\bscale of \d+(?: \([^)]*\))? to \d+"  # a scale's ends
            r"|\b\d+ challenge cards?\b",  # cards: the update lists every card (README, "Counts of alerts and cards")
            " ", body)
        assert small_numbers(body) == [], report


def _cli(w: World, *args: str, role: str = "participation_manager", signs_in: bool = True) -> str:
    from admin.cli import app
    from tests.admin.conftest import PASSWORD
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

    env = {"OURVOICE_DATABASE_URL": w.url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD}
    username = next(u for u, r, _ in w.accounts if r == role)
    result = CliRunner().invoke(app, [*args, "--staff", username] if signs_in else list(args), env=env)
    assert result.exit_code == 0, (args, result.output)
    return result.output


def cli_outputs(w: World) -> dict[str, str]:
    outs = {"survey list": _cli(w, "survey", "list", role="participation_manager")}
    for wave in w.params("wave_id"):
        outs[f"survey status {wave}"] = _cli(w, "survey", "status", wave, role="participation_manager")
    for role in ("participation_manager", "fostering_team", "participation_worker", "panel_viewer"):
        outs[f"responses summary ({role})"] = _cli(w, "responses", "summary", "--period", QUARTER, role=role)
    for flow in w.params("flow_id"):
        if w.library.flows[flow].private:  # refused: private answers are in no aggregate
            continue
        outs[f"responses summary --flow {flow}"] = _cli(w, "responses", "summary", "--flow", flow, "--period", QUARTER)
    outs["event list"] = _cli(w, "event", "list")
    outs["card list"] = _cli(w, "card", "list")
    outs["report theme show"] = _cli(w, "report", "theme", "show", "--period", "2026-Q3")
    return outs


def _cli_small(name: str, out: str) -> list[str]:
    lines = []
    for line in out.splitlines():
        if name == "survey list":
            line = re.sub(r"^\s*\d+\s", " ", line)  # the wave's id
        if name.startswith("survey status"):
            line = re.sub(r"^(\S+\s+)\d+", r"\1", line)  # invited: the team's own list (listed)
        if name.startswith("responses summary --flow") and line.startswith("  "):
            line = re.sub(r"^\s+\S+", " ", line)  # the choice's id (a scale's "4" is a label, not a count)
        if name == "card list":
            line = line.split(" -- ", 1)[0]  # the card's own words follow
        if name == "event list":
            line = re.sub(r"^\s*\d+\s", " ", line)  # the event's id
        lines.append(line)
    return small_numbers("\n".join(lines))


def test_no_cli_command_prints_an_unprotected_count(world: World) -> None:
    outs = cli_outputs(world)
    assert sum(o.count("not shown") + o.count("~") for o in outs.values()) > 5
    problems = {name: found for name, out in outs.items() if (found := _cli_small(name, out))}
    assert problems == {}


def test_jobs_and_the_slack_digest_print_no_small_count_of_people(world: World) -> None:
    """The weekly Slack digest's lines, and what `ourvoice jobs run` prints for it, through the layer."""
    from datetime import timedelta

    from admin.jobs.staff_notices import digest_lines, digest_result
    from admin.reports import catalog
    from storage import staff_digest

    with world.admin.db() as s:
        for days in range(0, 180, 7):
            until = NOW - timedelta(days=days)
            counts = staff_digest.week_counts(s, since=until - timedelta(days=7), until=until,
                                              leave_out=catalog.private_flows(world.library))
            lines = digest_lines(counts)
            people = {k: v for k, v in lines.items() if "response" in k.lower()}
            assert all(not small_numbers(v) for v in people.values()), people
            assert not re.search(r"responses_completed=[0-4]\b", digest_result(counts))


def test_the_check_catches_an_unprotected_count(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The scan is not toothless: with the disclosure layer switched off (nothing hidden), the pages and the
    CLI print small counts and the checks above find them."""
    from collections import OrderedDict

    from admin.reports import disclosure, responses

    monkeypatch.setattr(disclosure.Publication, "solve",
                        lambda self, **_: disclosure.Result(self, frozenset(), frozenset()))
    monkeypatch.setattr(responses, "_MEMO", OrderedDict())  # the Responses pages keep what they solved
    for c in world.clients.values():
        c.close()
    world.clients.clear()
    html = world.client("participation_manager.all").get("/admin/responses/flow/wellbeing").text
    assert page_small_numbers(html)
    out = _cli(world, "responses", "summary", "--flow", "wellbeing", "--period", QUARTER)
    assert _cli_small("responses summary --flow wellbeing", out)
