"""Every staff action through both front doors, for every role, on an object in the staff member's own
district and on one in another district: the admin web (real FastAPI app, signed-in session, CSRF token)
and the `ourvoice` CLI (Typer's CliRunner, signing in with a password) must agree on allowed or refused,
and an allowed action writes exactly one audit row while a refused one writes none.

The cases are generated from ACTIONS x roles x districts; each case gets fresh objects for each door,
so one door's success never changes what the other door meets.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from admin.actions import invites as invite_actions
from admin.actions.policy import ROLES, RULES, Actor
from admin.cli import app as cli
from storage import challenges, contact_requests, events, good_news, participants, quotes, submissions, waves
from storage import staff as staff_store
from storage import topics as topic_store
from storage.models import AuditEntry
from tests.admin.conftest import PASSWORD, Admin, fresh_db, make_admin
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now

HOME, AWAY = "east", "west"  # every account works in HOME
SETUP = Actor("parity.setup", "participation_manager")
counter = itertools.count(1)


@dataclass
class World:
    admin: Admin
    env: dict[str, str]
    tmp: Path
    topic_id: str


def _participant(s: Any, district: str, audience: str = "young_person") -> Any:
    n = next(counter)
    p, _ = participants.create(
        s, key_hash=f"parity-{n}", channel="web", address_enc=None, now=fixed_now(), audience=audience,
        band="carer" if audience == "carer" else "teen", district=district, council="ocypc",
    )
    return p


# --- objects, created fresh for each door of each case --------------------------------------------------


def make_topic(w: World, s: Any, where: str) -> dict[str, str]:
    topic_store.publish(s, w.topic_id, now=fixed_now(), districts=[where])
    return {"topic": w.topic_id, "where": where}


def make_card(w: World, s: Any, where: str) -> dict[str, str]:
    card = challenges.create(
        s, raised_by=_participant(s, where).id, council="ocypc", challenge="More bus passes", why=None,
        who_for=[], personal=False, quarantined=False, submission_id=None, now=fixed_now(),
    )
    return {"id": str(card.id), "where": where}


def make_news(w: World, s: Any, where: str) -> dict[str, str]:
    item = good_news.add(
        s, participant_id=_participant(s, where).id, submission_id=None, text="I passed my test",
        category="school", consent=True, band="teen", district=where, council="ocypc", now=fixed_now(),
    )
    return {"id": str(item.id), "where": where}


def make_requests(w: World, s: Any, where: str) -> dict[str, str]:
    """A carer's request (the fostering team's queue) and a young person's (the workers'), in `where`."""
    made = {"where": where}
    for audience, team, flow, question in (("carer", "fostering_team", "carer_pulse", "talk_offer"),
                                           ("young_person", "participation_worker", "wellbeing", "feel_safe")):
        person = _participant(s, where, audience)
        sub = submissions.get_or_start(s, person, flow, 1, now=fixed_now())
        yes = submissions.put_answer(s, sub, question, "yes", skipped=False, free_text=False, quarantined=False,
                                     now=fixed_now())
        consent = contact_requests.Consent(yes.id, person.id, audience, where, flow, question, fixed_now())
        made[team] = str(contact_requests.file(s, consent, team=team, now=fixed_now()))
    return made


def _req(o: dict[str, str], role: str) -> str:
    """The request in this role's own queue (the manager's: the fostering team's)."""
    return o["participation_worker"] if role == "participation_worker" else o["fostering_team"]


def make_event(w: World, s: Any, where: str) -> dict[str, str]:
    """A planned activity day in `where`, far enough ahead that it can still take invitations."""
    ev = events.create(
        s, kind="activity_day", title="Parity day", held_on=date(2030, 6, 1), start_time=None, council="ocypc",
        bands=("teen",), district=where, place="Canterbury", topics=(), created_by="parity.setup", now=fixed_now(),
    )
    return {"id": str(ev.id), "where": where}


def make_quote(w: World, s: Any, where: str) -> dict[str, str]:
    sub = submissions.get_or_start(s, _participant(s, where), "good_foster_carer", 1, now=fixed_now())
    ans = submissions.put_answer(
        s, sub, "anything_else", "My carer makes great pancakes on Sundays", skipped=False, free_text=True, quarantined=False,
        now=fixed_now(),
    )
    q = quotes.add(
        s, answer_id=ans.id, flow_id="good_foster_carer", question_id="anything_else", band="teen",
        scrubbed_text="My carer makes great pancakes on Sundays", answered_at=fixed_now(), now=fixed_now(),
    )
    return {"id": str(q.id), "where": where}


def make_batch(w: World, s: Any, where: str) -> dict[str, str]:
    batch, _ = invite_actions.create_invites(
        s, w.admin.rt.keyring, SETUP, audience="young_person", age_band="11-16", district=where, council=None,
        count=1, expires_days=30, now=fixed_now(), public_url=w.admin.rt.settings.public_url,
    )
    return {"batch": batch, "where": where}


def _window() -> tuple[date, date]:
    """A wave window of its own, so no two waves in the test overlap."""
    start = date(2027, 1, 1) + timedelta(days=40 * next(counter))
    return start, start + timedelta(days=30)


def make_wave(w: World, s: Any, where: str) -> dict[str, str]:
    opens, closes = _window()
    wave = waves.open_wave(
        s, name=f"Parity {opens}", questionnaire_id="carer_pulse", opens_on=opens, closes_on=closes,
        opens_at=fixed_now(), closes_at=fixed_now() + timedelta(days=30), districts=[where],
        created_by="parity.setup", now=fixed_now(),
    )
    return {"id": str(wave.id), "where": where}


def make_new_wave(w: World, s: Any, where: str) -> dict[str, str]:
    opens, closes = _window()
    return {"opens": opens.isoformat(), "closes": closes.isoformat(), "where": where}


def make_account(w: World, s: Any, where: str) -> dict[str, str]:
    name = f"target{next(counter)}"
    view = w.admin.add_staff(name, "panel_viewer")
    return {"id": str(view.id), "username": name, "where": where}


def make_new_account(w: World, s: Any, where: str) -> dict[str, str]:
    return {"username": f"new{next(counter)}", "where": where}


def nothing(w: World, s: Any, where: str) -> dict[str, str]:
    return {"where": where}


# --- the two front doors of each action -----------------------------------------------------------------

Web = Callable[[dict[str, str], str], tuple[str, str, dict[str, Any]]]  # (object, role) -> method, path, form
Cli = Callable[[dict[str, str], str, Path], tuple[list[str], str]]  # (object, role, tmp) -> args, stdin


def _audience(role: str) -> str:
    return "carer" if role == "fostering_team" else "young_person"


def _answers(tmp: Path) -> str:
    path = tmp / f"answers{next(counter)}.json"
    path.write_text(json.dumps({"treated_as_professional": 4}), encoding="utf-8")
    return str(path)


@dataclass(frozen=True)
class Action:
    """One row of the table: the rule it exercises, how to make its object, and its two doors."""

    rule: str
    make: Callable[[World, Any, str], dict[str, str]]
    web: Web
    cli: Cli
    scoped_object: bool = True  # False: no object in a district (a list, an export, a Kent-wide quote)
    audited: bool = True  # False: a read of protected counts only (reading aggregates writes no audit row)


ACTIONS: list[Action] = [
    Action(
        "topic.publish", make_topic,
        lambda o, r: ("POST", f"/admin/topics/{o['topic']}/publish", {"districts": [o["where"]]}),
        lambda o, r, t: (["topic", "publish", o["topic"], "--districts", o["where"]], ""),
    ),
    Action(
        "topic.close", make_topic,
        lambda o, r: ("POST", f"/admin/topics/{o['topic']}/close", {}),
        lambda o, r, t: (["topic", "close", o["topic"]], ""),
    ),
    Action(
        "card.list", nothing,
        lambda o, r: ("GET", "/admin/cards", {}),
        lambda o, r, t: (["card", "list"], ""),
        scoped_object=False,
    ),
    Action(
        "card.view", make_card,
        lambda o, r: ("GET", f"/admin/cards/{o['id']}", {}),
        lambda o, r, t: (["card", "show", o["id"]], ""),
    ),
    Action(
        "card.move", make_card,
        lambda o, r: ("POST", f"/admin/cards/{o['id']}/move", {"to_state": "discussed_at_council"}),
        lambda o, r, t: (["card", "move", o["id"], "discussed_at_council"], ""),
    ),
    Action(
        "event.add", nothing,
        lambda o, r: ("POST", "/admin/events", {
            "kind": "activity_day", "title": "Parity day", "held_on": "2030-06-01", "council": "ocypc",
            "district": o["where"],
        }),
        lambda o, r, t: (["event", "add", "activity_day", "--on", "2030-06-01", "--title", "Parity day",
                          "--council", "ocypc", "--district", o["where"]], ""),
    ),
    Action(
        "event.list", nothing,
        lambda o, r: ("GET", "/admin/events", {}),
        lambda o, r, t: (["event", "list"], ""),
        scoped_object=False,
    ),
    Action(
        "event.view", make_event,
        lambda o, r: ("GET", f"/admin/events/{o['id']}", {}),
        lambda o, r, t: (["event", "show", o["id"]], ""),
    ),
    Action(
        "event.invite", make_event,
        lambda o, r: ("POST", f"/admin/events/{o['id']}/invite", {}),
        lambda o, r, t: (["event", "invite", o["id"]], ""),
    ),
    Action(
        "event.attend", make_event,
        lambda o, r: ("POST", f"/admin/events/{o['id']}/attend", {"unnamed": "3"}),
        lambda o, r, t: (["event", "attend", o["id"], "--unnamed", "3"], ""),
    ),
    Action(
        "event.close", make_event,
        lambda o, r: ("POST", f"/admin/events/{o['id']}/close", {}),
        lambda o, r, t: (["event", "close", o["id"]], ""),
    ),
    Action(
        "goodnews.list", nothing,
        lambda o, r: ("GET", "/admin/approvals", {}),
        lambda o, r, t: (["goodnews", "list"], ""),
        scoped_object=False,
    ),
    Action(
        "goodnews.decide", make_news,
        lambda o, r: ("POST", f"/admin/approvals/goodnews/{o['id']}", {"decision": "approve"}),
        lambda o, r, t: (["goodnews", "approve", o["id"]], ""),
    ),
    Action(
        "quote.decide", make_quote,
        lambda o, r: ("POST", f"/admin/approvals/quotes/{o['id']}", {"decision": "approve"}),
        lambda o, r, t: (["quote", "approve", o["id"]], ""),
        scoped_object=False,
    ),
    Action(
        "invite.create", nothing,
        lambda o, r: ("POST", "/admin/invites", {
            "audience": _audience(r), "age_band": "11-16", "district": o["where"], "count": "1",
            "expires_days": "30",
        }),
        lambda o, r, t: (["invite", "create", "--role", _audience(r), "--age-band", "11-16", "--district",
                          o["where"]], ""),
    ),
    Action(
        "invite.revoke", make_batch,
        lambda o, r: ("POST", f"/admin/invites/{o['batch']}/revoke", {}),
        lambda o, r, t: (["invite", "revoke", "--batch", o["batch"]], ""),
    ),
    Action(
        "wave.open", make_new_wave,
        lambda o, r: ("POST", "/admin/waves", {
            "questionnaire": "carer_pulse", "name": "Parity wave", "opens": o["opens"], "closes": o["closes"],
            "districts": [o["where"]],
        }),
        lambda o, r, t: (["survey", "open", "carer_pulse", "--name", "Parity wave", "--opens", o["opens"],
                          "--closes", o["closes"], "--district", o["where"]], ""),
    ),
    Action(
        "wave.list", nothing,
        lambda o, r: ("GET", "/admin/waves", {}),
        lambda o, r, t: (["survey", "list"], ""),
        scoped_object=False, audited=False,
    ),
    Action(
        "wave.view", make_wave,
        lambda o, r: ("GET", f"/admin/waves/{o['id']}", {}),
        lambda o, r, t: (["survey", "status", o["id"]], ""),
        audited=False,
    ),
    Action(
        "wave.close", make_wave,
        lambda o, r: ("POST", f"/admin/waves/{o['id']}/close", {}),
        lambda o, r, t: (["survey", "close", o["id"]], ""),
    ),
    Action(
        "wave.enter", make_wave,
        lambda o, r: ("POST", f"/admin/waves/{o['id']}/enter", {
            "mode": "phone", "district": o["where"], "treated_as_professional": "4",
        }),
        lambda o, r, t: (["survey", "enter", o["id"], "--mode", "phone", "--district", o["where"], "--answers",
                          _answers(t)], ""),
    ),
    Action(
        "report.export", nothing,
        lambda o, r: ("POST", "/admin/reports/download", {
            "report": "ocypc", "fmt": "md", "since": "2026-10-01", "until": "2026-10-31",
        }),
        lambda o, r, t: (["report", "ocypc", "--from", "2026-10-01", "--to", "2026-10-31", "--format", "md",
                          "--out", str(t / f"r{next(counter)}.md")], ""),
        scoped_object=False,
    ),
    Action(
        "report.paper", nothing,
        lambda o, r: ("POST", "/admin/reports/paper", {"panel": "2026-12-10", "summary": "What we heard."}),
        lambda o, r, t: (["report", "cover", "set", "--panel", "2026-12-10", "--summary", "What we heard."], ""),
        scoped_object=False,
    ),
    Action(
        "request.list", nothing,
        lambda o, r: ("GET", "/admin/requests", {}),
        lambda o, r, t: (["requests", "list"], ""),
        scoped_object=False,
    ),
    Action(
        "request.view", make_requests,
        lambda o, r: ("GET", f"/admin/requests/{_req(o, r)}", {}),
        lambda o, r, t: (["requests", "show", _req(o, r)], ""),
    ),
    Action(
        "request.ack", make_requests,
        lambda o, r: ("POST", f"/admin/requests/{_req(o, r)}/ack", {}),
        lambda o, r, t: (["requests", "ack", _req(o, r)], ""),
    ),
    Action(
        "request.reply", make_requests,
        lambda o, r: ("POST", f"/admin/requests/{_req(o, r)}/reply", {"message": "Could we ring you on Thursday?"}),
        lambda o, r, t: (["requests", "reply", _req(o, r), "--message", "Could we ring you on Thursday?"], ""),
    ),
    Action(
        "request.close", make_requests,
        lambda o, r: ("POST", f"/admin/requests/{_req(o, r)}/close", {"outcome": "spoke_to_them"}),
        lambda o, r, t: (["requests", "close", _req(o, r), "--outcome", "spoke_to_them"], ""),
    ),
    Action(
        "theme.write", nothing,
        lambda o, r: ("POST", "/admin/themes", {
            "period": "2026-Q3", "question": "good_foster_carer/anything_else", "summary": "Kind words, mostly.",
        }),
        lambda o, r, t: (["report", "theme", "set", "--topic", "good_foster_carer", "--question", "anything_else",
                          "--period", "2026-Q3", "--summary", "Kind words, mostly."], ""),
        scoped_object=False,
    ),
    Action(
        "staff.add", make_new_account,
        lambda o, r: ("POST", "/admin/staff", {
            "username": o["username"], "role": "panel_viewer", "password": "another long password",
        }),
        lambda o, r, t: (["staff", "add", "--username", o["username"], "--role", "panel_viewer",
                          "--password-stdin"], "another long password\n"),
        scoped_object=False,
    ),
    Action(
        "staff.change", make_account,
        lambda o, r: ("POST", f"/admin/staff/{o['id']}/change", {"role": "auditor", "active": "1"}),
        lambda o, r, t: (["staff", "set", o["username"], "--role", "auditor"], ""),
        scoped_object=False,
    ),
    Action(
        "staff.password", make_account,
        lambda o, r: ("POST", f"/admin/staff/{o['id']}/password", {
            "password": "a brand new long password", "your_password": PASSWORD,
        }),
        lambda o, r, t: (["staff", "passwd", o["username"], "--password-stdin"], "a brand new long password\n"),
        scoped_object=False,
    ),
]


@dataclass(frozen=True)
class Case:
    action: Action
    role: str
    where: str

    @property
    def id(self) -> str:
        return f"{self.action.rule}-{self.role}-{self.where}"

    @property
    def username(self) -> str:
        return f"{self.role}.{HOME}"

    def expected(self) -> str:
        """What the rules table says: the role must include the action, and a district-scoped object must
        be in the staff member's own district."""
        rule = RULES[self.action.rule]
        if self.role not in rule.roles:
            return "refused"
        if rule.district_scoped and self.where != HOME:
            return "refused"
        return "allowed"


CASES = [
    Case(action, role, where)
    for action in ACTIONS
    for role in ROLES
    for where in ((HOME, AWAY) if action.scoped_object else (HOME,))
]


def test_the_table_covers_every_rule_with_an_object_in_each_district() -> None:
    """Every rule in the policy has a row here, except the two with no web page (quote.list: the approvals
    page shows the quote queue, covered by goodnews.list; report.action_add: CLI only)."""
    assert {a.rule for a in ACTIONS} == set(RULES) - {"quote.list", "report.action_add"}  # CLI-only
    for a in ACTIONS:
        assert not a.scoped_object or RULES[a.rule].district_scoped, a.rule
    assert sum(c.expected() == "allowed" for c in CASES) >= 20
    assert sum(c.expected() == "refused" for c in CASES) >= 20


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, _template_db: Path, _shared_content: Any
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("parity")
    admin = make_admin(fresh_db(_template_db, tmp), tmp, _shared_content)
    for role in ROLES:
        admin.add_staff(f"{role}.{HOME}", role, (HOME,))
    topic = sorted(f.id for f in admin.rt.library.topics() if "young_person" in f.audience)[0]
    env = {
        "OURVOICE_DATABASE_URL": admin.rt.settings.database_url,
        "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
        "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY,
        "OURVOICE_STAFF_PASSWORD": PASSWORD,
        "OURVOICE_REPORTS_DIR": str(tmp / "reports"),
    }
    yield World(admin, env, tmp, topic)
    admin.client.close()
    admin.rt.engine.dispose()


def _audit_count(w: World) -> int:
    with w.admin.db() as s:
        return int(s.execute(select(func.count()).select_from(AuditEntry)).scalar_one())


def _fresh(w: World, case: Case) -> dict[str, str]:
    with w.admin.db() as s:
        return case.action.make(w, s, case.where)


def through_web(w: World, case: Case) -> tuple[str, int, str]:
    obj = _fresh(w, case)
    method, path, form = case.action.web(obj, case.role)
    client, csrf = w.admin.client_for(case.username)
    before = _audit_count(w)
    resp = client.get(path) if method == "GET" else client.post(path, data={**form, "csrf_token": csrf})
    client.close()
    rows = _audit_count(w) - before
    code = resp.status_code
    assert code < 500, (path, resp.text[:300])
    return ("allowed" if code < 400 else "refused"), rows, f"HTTP {code}"


def through_cli(w: World, case: Case, monkeypatch: pytest.MonkeyPatch) -> tuple[str, int, str]:
    obj = _fresh(w, case)
    args, stdin = case.action.cli(obj, case.role, w.tmp)
    monkeypatch.chdir(w.tmp)  # no stray .env
    before = _audit_count(w)
    result = CliRunner().invoke(cli, [*args, "--staff", case.username], env=w.env, input=stdin)
    rows = _audit_count(w) - before
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        args, result.output, result.exception
    )
    return ("allowed" if result.exit_code == 0 else "refused"), rows, f"exit {result.exit_code}: {result.output[:200]}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_both_front_doors_agree(world: World, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    web, web_rows, web_said = through_web(world, case)
    cli_out, cli_rows, cli_said = through_cli(world, case, monkeypatch)
    want = case.expected()
    assert (web, cli_out) == (want, want), f"web {web_said}; cli {cli_said}"
    assert (web_rows, cli_rows) == ((1, 1) if want == "allowed" and case.action.audited else (0, 0))


def test_the_cli_records_the_signed_in_actor_not_a_name_typed_on_the_command_line(world: World) -> None:
    """`--by` is gone; the audit row names the account whose password was given."""
    result = CliRunner().invoke(
        cli, ["invite", "create", "--role", "young_person", "--age-band", "11-16", "--district", HOME,
              "--by", "someone.else", "--staff", f"participation_worker.{HOME}"], env=world.env,
    )
    assert result.exit_code == 2
    assert "--by" in result.output
    with world.admin.db() as s:
        view = staff_store.by_username(s, f"participation_worker.{HOME}")
        assert view is not None
        rows = list(s.execute(select(AuditEntry).where(AuditEntry.actor == "someone.else")).scalars())
    assert rows == []


def test_you_said_we_did_lines_are_added_by_the_signed_in_account(world: World) -> None:
    """The CLI-only action: the participation team may add a line; anyone else is refused; one audit row."""
    args = ["report", "action", "add", "--said", "More bus passes", "--did", "Bus passes for all"]
    before = _audit_count(world)
    refused = CliRunner().invoke(cli, [*args, "--staff", f"fostering_team.{HOME}"], env=world.env)
    assert refused.exit_code == 2
    assert _audit_count(world) == before
    done = CliRunner().invoke(cli, [*args, "--staff", f"participation_worker.{HOME}"], env=world.env)
    assert done.exit_code == 0, done.output
    with world.admin.db() as s:
        rows = list(s.execute(select(AuditEntry).where(AuditEntry.action == "report.action_add")).scalars())
    assert [r.actor for r in rows] == [f"participation_worker.{HOME}"]
