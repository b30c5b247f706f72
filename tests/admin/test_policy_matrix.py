"""Route x role x district matrix, generated from the app's route table.

Every /admin route must declare a policy. For every route, role and object district: only the combinations
the policy declares succeed; objects from another district give 404; unsafe methods need a valid CSRF token
and our own Origin; nobody signed out gets past the sign-in page.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Depends, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from admin.actions import invites as invite_actions
from admin.actions.policy import ROLES, SCOPED_ROLES, Actor
from admin.web import policy as pol
from admin.web.policy import ALL, route_table
from bot.runtime import build_app, build_runtime
from storage import alerts as alert_store
from storage import challenges, contact_requests, events, good_news, participants, quotes, reading, submissions, waves
from storage import topics as topic_store
from storage.db import session
from storage.models import Submission
from tests.admin.conftest import PASSWORD, Admin, Clock, fresh_db, make_admin
from tests.conftest import make_settings

ME, OTHER = "east", "west"
PUBLIC = {"/admin/login", "/admin/static/{name}"}


@dataclass
class World:
    admin: Admin
    objects: dict[str, dict[str, str]]  # path param -> {"east"|"west": value}
    districts: dict[str, frozenset[str]]  # "param:value" -> object districts (ALL for Kent-wide)
    accounts: list[tuple[str, str, tuple[str, ...]]]  # (username, role, districts)
    clients: dict[str, TestClient] = field(default_factory=dict)


def _participant(s: Any, n: int, district: str, audience: str = "young_person") -> Any:
    p, _ = participants.create(
        s,
        key_hash=f"k{n}-{district}-{audience}",
        channel="web",
        address_enc=None,
        now=_now(),
        audience=audience,
        band="carer" if audience == "carer" else "teen",
        district=district,
        council="ocypc",
    )
    return p


def _now() -> Any:
    from tests.conftest import fixed_now

    return fixed_now()


def build_world(url: str, tmp: Path, library: Any) -> World:
    admin = make_admin(url, tmp, library)
    rt = admin.rt
    accounts: list[tuple[str, str, tuple[str, ...]]] = []
    for role in ROLES:
        accounts.append((f"{role}.east", role, (ME,)))
        if role not in SCOPED_ROLES:
            accounts.append((f"{role}.all", role, ()))
    for username, role, districts in accounts:
        admin.add_staff(username, role, districts)
    target = admin.add_staff("target.person", "panel_viewer")
    objects: dict[str, dict[str, str]] = {}
    dist: dict[str, frozenset[str]] = {}

    def put(param: str, where: str, value: object, districts: frozenset[str]) -> None:
        objects.setdefault(param, {})[where] = str(value)
        dist[f"{param}:{value}"] = districts

    lib = rt.library
    topic_ids = sorted(f.id for f in lib.topics() if "young_person" in f.audience)
    with session(rt.engine) as s:
        for i, where in enumerate((ME, OTHER)):
            tid = topic_ids[i]
            topic_store.publish(s, tid, now=_now(), districts=[where])
            put("topic_id", where, tid, frozenset({where}))
            yp = _participant(s, i, where)
            carer = _participant(s, i, where, "carer")
            alert_store.create(
                s,
                alert_ref=f"AL-{where.upper()}",
                participant_id=yp.id,
                case_ref=yp.case_ref,
                channel="web",
                categories=["self_harm"],
                text_enc=rt.keyring.encrypt("words"),
                now=_now(),
                notified=True,
            )
            put("alert_ref", where, f"AL-{where.upper()}", frozenset({where}))
            sub = submissions.get_or_start(s, yp, "wellbeing", 1, now=_now())
            submissions.put_answer(
                s, sub, "feel_safe", 4, skipped=False, free_text=False, quarantined=False, now=_now()
            )
            s.execute(update(Submission).where(Submission.id == sub.id).values(shared_with_worker=True))
            put("submission_id", where, sub.id, frozenset({where}))
            said = submissions.put_answer(
                s, sub, "anything_else", "A free-text answer", skipped=False, free_text=True, quarantined=False,
                now=_now(),
            )
            entry = reading.add(
                s, answer_id=said.id, participant_id=yp.id, flow_id="wellbeing", question_id="anything_else",
                district=where, score=0.0, flagged=False, now=_now(),
            )
            put("entry_id", where, entry, frozenset({where}))
            asked = submissions.get_or_start(s, carer, "carer_pulse", 1, now=_now())
            yes = submissions.put_answer(
                s, asked, "talk_offer", "yes", skipped=False, free_text=False, quarantined=False, now=_now()
            )
            request_id = contact_requests.file(
                s, contact_requests.Consent(yes.id, carer.id, "carer", where, "carer_pulse", "talk_offer", _now()),
                team="fostering_team", now=_now(),
            )
            put("request_id", where, request_id, frozenset({where}))
            item = good_news.add(
                s,
                participant_id=yp.id,
                submission_id=None,
                text="I passed my test",
                category="school",
                consent=True,
                band="teen",
                district=where,
                council="ocypc",
                now=_now(),
            )
            put("news_id", where, item.id, frozenset({where}))
            batch, _ = invite_actions.create_invites(
                s,
                rt.keyring,
                Actor("setup", "participation_manager"),
                audience="young_person",
                age_band="11-16",
                district=where,
                council=None,
                count=1,
                expires_days=30,
                now=_now(),
                public_url=rt.settings.public_url,
            )
            put("batch", where, batch, frozenset({where}))
            opens = date(2026, 11, 20) + timedelta(days=40 * i)
            w = waves.open_wave(
                s,
                name=f"Wave {where}",
                questionnaire_id="carer_pulse",
                opens_on=opens,
                closes_on=opens + timedelta(days=30),
                opens_at=_now(),
                closes_at=_now() + timedelta(days=30),
                districts=[where],
                created_by="setup",
                now=_now(),
            )
            put("wave_id", where, w.id, frozenset({where}))
            ev = events.create(
                s, kind="activity_day", title=f"Day {where}", held_on=date(2030, 6, 1), start_time=None,
                council="ocypc", bands=("teen",), district=where, place="", topics=(), created_by="setup", now=_now(),
            )
            put("event_id", where, ev.id, frozenset({where}))
            assert carer.id
        card = challenges.create(
            s,
            raised_by=None,
            council="ocypc",
            challenge="More bus passes",
            why=None,
            who_for=[],
            personal=False,
            quarantined=False,
            submission_id=None,
            now=_now(),
        )
        put("card_id", ME, card.id, ALL)
        sub = submissions.get_or_start(s, _participant(s, 9, ME), "good_foster_carer", 1, now=_now())
        ans = submissions.put_answer(
            s,
            sub,
            "anything_else",
            "They listen to me",
            skipped=False,
            free_text=True,
            quarantined=False,
            now=_now(),
        )
        q = quotes.add(
            s,
            answer_id=ans.id,
            flow_id="good_foster_carer",
            question_id="anything_else",
            band="teen",
            scrubbed_text="They listen to me",
            answered_at=_now(),
            now=_now(),
        )
        put("quote_id", ME, q.id, ALL)
        put("staff_id", ME, target.id, ALL)
        put("flow_id", ME, "wellbeing", ALL)
    return World(admin, objects, dist, accounts)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, _template_db: Path, _shared_content: Any
) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("matrix")
    w = build_world(fresh_db(_template_db, tmp), tmp, _shared_content)
    yield w
    w.admin.rt.engine.dispose()


# Form bodies that make each unsafe route do its real work (role -> fields).
def form_for(path: str, role: str, where: str = ME) -> dict[str, Any]:
    today = "2026-11-24"
    forms: dict[str, dict[str, Any]] = {
        "/admin/logout": {},
        "/admin/account/password": {"current": PASSWORD, "new": PASSWORD},
        "/admin/topics/{topic_id}/publish": {
            "opens": "2026-12-01",
            "closes": "2027-01-31",
            "districts": [where],
        },
        "/admin/topics/{topic_id}/close": {},
        "/admin/cards/{card_id}/move": {"to_state": "discussed_at_council", "owner": "", "note": ""},
        "/admin/alerts/{alert_ref}/ack": {},
        "/admin/alerts/{alert_ref}/close": {
            "handled_by": "Duty worker",
            "outcome": "Called back, safe",
            "closed_at": "2026-11-24T10:00",
        },
        "/admin/alerts/{alert_ref}/read": {"password": PASSWORD},
        "/admin/alerts/{alert_ref}/reveal": {"password": PASSWORD, "reason": "Strategy meeting this afternoon"},
        "/admin/alerts/{alert_ref}/reply": {"message": "We have read your message and will call you today."},
        "/admin/to-read/{entry_id}/read": {},
        "/admin/to-read/{entry_id}/alert": {},
        "/admin/requests/{request_id}/ack": {},
        "/admin/requests/{request_id}/reply": {"message": "Could we ring you on Thursday?"},
        "/admin/requests/{request_id}/close": {"outcome": "spoke_to_them"},
        "/admin/approvals/quotes/{quote_id}": {"decision": "approve", "text": "", "original": ""},
        "/admin/approvals/goodnews/{news_id}": {"decision": "approve"},
        "/admin/invites": {
            "audience": "carer" if role == "fostering_team" else "young_person",
            "age_band": "11-16",
            "district": ME,
            "council": "",
            "count": "1",
            "expires_days": "30",
        },
        "/admin/invites/{batch}/revoke": {},
        "/admin/waves": {
            "questionnaire": "carer_annual",
            "name": "Matrix wave",
            "opens": "2027-03-01",
            "closes": "2027-03-31",
            "districts": [ME],
        },
        "/admin/waves/{wave_id}/close": {},
        "/admin/events": {"kind": "activity_day", "held_on": "2030-07-01", "council": "ocypc", "district": where},
        "/admin/events/{event_id}/attend": {"unnamed": "2"},
        "/admin/events/{event_id}/invite": {},
        "/admin/events/{event_id}/close": {},
        "/admin/waves/{wave_id}/enter": {"mode": "phone", "district": where, "treated_as_professional": "4"},
        "/admin/reports/download": {"report": "ocypc", "fmt": "md", "since": "2026-09-01", "until": today},
        "/admin/reports/paper": {"panel": "2030-07-15", "summary": "What young people told us this quarter.",
                                 "children_in_care": "1600", "care_leavers": "900"},
        "/admin/themes": {"period": "2026-Q3", "question": "good_foster_carer/qualities_other", "summary": "Kind words."},
        "/admin/staff": {
            "username": "new.person",
            "role": "panel_viewer",
            "password": "another long password",
        },
        "/admin/staff/{staff_id}/change": {"role": "panel_viewer", "active": "1"},
        "/admin/staff/{staff_id}/password": {"password": "a brand new long password"},
    }
    if path not in forms:
        raise AssertionError(f"add a form body for {path} to the matrix test")
    return forms[path]


# Refusals made inside handlers on purpose (beyond role and district):
# (method, path) -> roles refused with 404.
HANDLER_404 = {
    ("GET", "/admin/responses/shared/{submission_id}"): {
        "fostering_team"
    },  # young people's answers: not theirs
    ("GET", "/admin/responses/flow/{flow_id}"): {"fostering_team"},  # wellbeing is a young people's flow
    # A carer's request is in the fostering team's queue, not the young people's workers'.
    **{(m, f"/admin/requests/{{request_id}}{tail}"): {"participation_worker"}
       for m, tail in (("GET", ""), ("POST", "/ack"), ("POST", "/reply"), ("POST", "/close"))},
}


@dataclass(frozen=True)
class Case:
    method: str
    template: str
    username: str
    role: str
    districts: tuple[str, ...]
    where: str  # which object variant fills the path

    @property
    def id(self) -> str:
        return f"{self.method} {self.template} {self.username} obj={self.where}"


def cases(w: World) -> list[Case]:
    out = []
    for info in route_table(w.admin.app):
        if not info.path.startswith("/admin") or info.path in PUBLIC:
            continue
        params = re.findall(r"{(\w+)}", info.path)
        for method in sorted(info.methods - {"HEAD"}):
            for username, role, districts in w.accounts:
                wheres = sorted(w.objects[params[0]]) if params else [ME]
                out.extend(Case(method, info.path, username, role, districts, where) for where in wheres)
    return out


def expected_ok(w: World, case: Case, policy: pol.Policy, path_value: str | None, param: str | None) -> str:
    """'ok', 'forbidden' or 'not_found' as the policy declares."""
    if case.role not in policy.roles:
        return "forbidden"
    if (
        policy.district_scoped
        and case.districts
        and param
        and path_value is not None
        and param in pol.RESOLVERS
    ):
        obj = w.districts[f"{param}:{path_value}"]
        unsafe = case.method != "GET" and policy.changes_object
        mine = set(case.districts)
        if obj == ALL:
            if unsafe:
                return "not_found"
        elif (unsafe and not obj <= mine) or not obj & mine:
            return "not_found"
    if case.role in HANDLER_404.get((case.method, case.template), set()):
        return "not_found"
    return "ok"


def _request(
    w: World, case: Case, *, csrf: str | None = "valid", origin: str | None = None
) -> tuple[Any, str]:
    params = re.findall(r"{(\w+)}", case.template)
    path = case.template
    value = None
    if params:
        value = w.objects[params[0]][case.where]
        path = path.replace("{" + params[0] + "}", value)
    client = w.clients.get(case.username)
    if client is None:
        client = w.clients[case.username] = TestClient(w.admin.app, follow_redirects=False)
    raw, token = w.admin.session_for(case.username)  # fresh each time: some cases sign out
    client.cookies.set("ov_admin", raw, domain="testserver.local", path="/admin")
    headers = {"origin": origin} if origin else {}
    if case.method == "GET":
        return client.get(path, headers=headers), value or ""
    data = dict(form_for(case.template, case.role, case.where))
    if csrf == "valid":
        data["csrf_token"] = token
    elif csrf is not None:
        data["csrf_token"] = csrf
    return client.request(case.method, path, data=data, headers=headers), value or ""


def test_every_admin_route_declares_a_policy(world: World) -> None:
    table = [i for i in route_table(world.admin.app) if i.path.startswith("/admin")]
    assert len(table) >= 30
    missing = [i.path for i in table if pol.policy_of(i.route) is None]
    assert missing == []
    # Objects named in district-scoped paths all have a resolver.
    for i in table:
        p = pol.policy_of(i.route)
        assert p is not None
        if p.district_scoped:
            assert all(name in pol.RESOLVERS for name in re.findall(r"{(\w+)}", i.path)), i.path


def test_a_route_without_policy_stops_the_app(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import admin.web.app as web_app
    import admin.web.routes.staff as staff_routes

    bad = APIRouter(route_class=web_app.AdminRoute)

    @bad.get("/sneaky")
    def sneaky() -> dict:
        return {"secret": 1}

    for r in staff_routes.router.routes:
        bad.routes.append(r)
    monkeypatch.setattr(staff_routes, "router", bad)
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    with pytest.raises(RuntimeError, match="/admin/sneaky declares no policy"):
        build_app(rt)
    rt.engine.dispose()


def test_matrix_route_role_district(world: World) -> None:
    """Each (route, method, account, object district) behaves exactly as its policy declares."""
    failures = []
    checked = itertools.count()
    for case in cases(world):
        info = next(
            i for i in route_table(world.admin.app) if i.path == case.template and case.method in i.methods
        )
        policy = pol.policy_of(info.route)
        assert policy is not None
        params = re.findall(r"{(\w+)}", case.template)
        param = params[0] if params else None
        value = world.objects[param][case.where] if param else None
        want = expected_ok(world, case, policy, value, param)
        resp, _ = _request(world, case)
        next(checked)
        got = resp.status_code
        if want == "forbidden":
            ok = got == 403
        elif want == "not_found":
            ok = got == 404
        elif case.method == "GET":
            ok = got == 200
        else:  # passed the policy: the action ran (done, or refused by its own rules, never 403/404/sign-in)
            location = resp.headers.get("location", "")
            signed_out = case.template == "/admin/logout" and location == "/admin/login?msg=signed_out"
            ok = got in (200, 303, 400) and ("/admin/login" not in location or signed_out)
        if not ok:
            failures.append(f"{case.id}: expected {want}, got {got} {resp.text[:160]!r}")
    assert not failures, f"{len(failures)} of {next(checked)} cases failed:\n" + "\n".join(failures[:40])


def _unsafe_cases(w: World) -> list[Case]:
    """One allowed account per unsafe route (the first declared role, all districts where possible)."""
    out = []
    for info in route_table(w.admin.app):
        if not info.path.startswith("/admin") or info.path in PUBLIC:
            continue
        policy = pol.policy_of(info.route)
        assert policy is not None
        for method in sorted(info.methods & pol.UNSAFE):
            acct = next(a for a in w.accounts if a[1] in policy.roles and (not a[2] or a[1] in SCOPED_ROLES))
            out.append(Case(method, info.path, acct[0], acct[1], acct[2], ME))
    return out


def test_unsafe_methods_need_a_valid_csrf_token(world: World) -> None:
    unsafe = _unsafe_cases(world)
    assert len(unsafe) >= 15
    for case in unsafe:
        for bad in (None, "", "forged-token"):
            resp, _ = _request(world, case, csrf=bad)
            assert resp.status_code == 403, f"{case.id} with csrf={bad!r}: {resp.status_code}"


def test_unsafe_methods_refuse_a_foreign_origin(world: World) -> None:
    for case in _unsafe_cases(world):
        resp, _ = _request(world, case, origin="https://evil.example")
        assert resp.status_code == 403, f"{case.id}: {resp.status_code}"
        client, token = world.admin.client_for(case.username)
        path = case.template
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + name + "}", world.objects[name][ME])
        resp = client.post(
            path,
            data={**form_for(case.template, case.role), "csrf_token": token},
            headers={"referer": "https://evil.example/form"},
        )
        assert resp.status_code == 403, f"{case.id} foreign referer: {resp.status_code}"


def test_signed_out_requests_go_to_the_sign_in_page(world: World) -> None:
    anon = TestClient(world.admin.app, follow_redirects=False)
    for info in route_table(world.admin.app):
        if not info.path.startswith("/admin") or info.path in PUBLIC:
            continue
        path = info.path
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + name + "}", world.objects[name][ME])
        for method in info.methods - {"HEAD"}:
            resp = anon.request(method, path)
            assert resp.status_code == 303, (method, path, resp.status_code)
            assert resp.headers["location"].startswith("/admin/login")


def test_matrix_covers_every_route_and_role(world: World) -> None:
    seen = {(c.method, c.template) for c in cases(world)}
    table = {
        (m, i.path)
        for i in route_table(world.admin.app)
        if i.path.startswith("/admin") and i.path not in PUBLIC
        for m in i.methods - {"HEAD"}
    }
    assert seen == table
    assert {c.role for c in cases(world)} == set(ROLES)
    assert json.dumps(sorted(world.objects))  # every object kind was created


def test_app_level_deny_by_default_has_no_public_admin_route_but_login_and_static(world: World) -> None:
    public = {
        i.path
        for i in route_table(world.admin.app)
        if i.path.startswith("/admin") and (p := pol.policy_of(i.route)) is not None and p.public
    }
    assert public == PUBLIC


def test_policy_objects_are_the_enforcement(sqlite_url: str, tmp_path: Path) -> None:
    """A Policy on a plain route refuses a signed-out request by itself (no other middleware needed)."""
    clock = Clock()
    rt = build_runtime(make_settings(sqlite_url, tmp_path))
    rt.clock = clock
    app = build_app(rt)
    extra = FastAPI()
    extra.state.ourvoice_admin = app.state.ourvoice_admin

    @extra.get("/x")
    def x(ctx: Annotated[pol.Ctx, Depends(pol.requires("auditor"))]) -> dict:
        return {"ok": True}

    from admin.web.policy import LoginRequired

    with pytest.raises(LoginRequired):
        TestClient(extra).get("/x")
    rt.engine.dispose()
