"""Staff sign-in: Argon2id parameters and rehash, session cookies, fixation, idle and absolute timeouts,
logout, throttling per username and per address, and redirects that never leave the admin."""

from __future__ import annotations

from pathlib import Path

import pytest
from argon2 import PasswordHasher, Type
from argon2.exceptions import VerifyMismatchError
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from admin import services
from admin.actions import staff as staff_actions
from admin.actions.policy import Actor
from admin.web.auth import hash_id
from bot.runtime import build_app, build_runtime
from storage import staff as staff_store
from storage.models import AuditEntry, LoginAttempt, StaffAccount, StaffSession
from tests.admin.conftest import PASSWORD, Admin, Clock, csrf_of
from tests.conftest import make_settings


def _count(admin: Admin, model: type, *where: object) -> int:
    with admin.db() as s:
        return int(s.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def _hash_of(admin: Admin, username: str) -> str:
    with admin.db() as s:
        return s.execute(
            select(StaffAccount.password_hash).where(StaffAccount.username == username)
        ).scalar_one()


# --- passwords -------------------------------------------------------------------------------------------


def test_argon2id_parameters_meet_owasp_minimums() -> None:
    ph = services.password_hasher()
    assert ph.type is Type.ID
    assert ph.memory_cost >= 19456
    assert ph.time_cost >= 2
    assert ph.parallelism >= 1
    encoded = ph.hash("correct horse battery staple")
    assert encoded.startswith("$argon2id$v=19$")
    params = dict(p.split("=") for p in encoded.split("$")[3].split(","))
    assert int(params["m"]) >= 19456
    assert int(params["t"]) >= 2
    assert int(params["p"]) >= 1
    with pytest.raises(VerifyMismatchError):
        ph.verify(encoded, "wrong")


def test_stored_password_is_an_argon2id_hash_never_the_password(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    stored = _hash_of(admin, "mgr")
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_weak_hash_is_upgraded_at_next_sign_in(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1, type=Type.ID)
    with admin.db() as s:
        view = staff_store.by_username(s, "mgr")
        staff_store.set_password_hash(s, view.id, weak.hash(PASSWORD), now=admin.clock.now)
    assert "m=8192,t=1" in _hash_of(admin, "mgr")
    resp = admin.login("mgr")
    assert resp.status_code == 303
    upgraded = _hash_of(admin, "mgr")
    assert (
        f"m={services.ARGON2_MEMORY_KIB},t={services.ARGON2_TIME_COST},p={services.ARGON2_PARALLELISM}"
        in upgraded
    )
    services.password_hasher().verify(upgraded, PASSWORD)
    before = upgraded
    admin.client.cookies.clear()
    assert admin.login("mgr").status_code == 303
    assert _hash_of(admin, "mgr") == before  # current parameters: no rehash


def test_short_password_and_password_with_username_are_refused(admin: Admin) -> None:
    with pytest.raises(services.StaffError, match="at least 12"):
        admin.add_staff("a.worker", "participation_worker", ("east",), password="short")
    with pytest.raises(services.StaffError, match="username"):
        admin.add_staff("a.worker", "participation_worker", ("east",), password="a.worker-is-my-password")
    with pytest.raises(services.StaffError, match="districts"):
        admin.add_staff("b.worker", "participation_worker", ())


# --- sessions --------------------------------------------------------------------------------------------


def test_session_cookie_flags_and_new_id_on_sign_in(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    # A session id planted before sign-in (fixation) is never accepted nor kept.
    admin.client.cookies.set("ov_admin", "attacker-chosen-id")
    resp = admin.login("mgr")
    assert resp.status_code == 303
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("ov_admin="))
    raw = cookie.split(";")[0].split("=", 1)[1]
    assert raw != "attacker-chosen-id"
    assert len(raw) >= 40
    flags = cookie.lower()
    assert "httponly" in flags
    assert "samesite=strict" in flags
    assert "path=/admin" in flags
    assert "secure" not in flags  # http public URL (local): no Secure flag, or the browser would drop it
    with admin.db() as s:
        ids = list(s.execute(select(StaffSession.id_hash)).scalars())
    assert ids == [hash_id(raw)]  # only the hash is stored
    # A second sign-in from the same browser gets another id and ends the first session.
    again = TestClient(admin.app, follow_redirects=False)
    token = csrf_of(again.get("/admin/login").text)
    again.cookies.set("ov_admin", raw)
    resp = again.post("/admin/login", data={"username": "mgr", "password": PASSWORD, "csrf_token": token})
    raw2 = resp.cookies.get("ov_admin")
    assert raw2
    assert raw2 != raw
    with admin.db() as s:
        assert list(s.execute(select(StaffSession.id_hash)).scalars()) == [hash_id(raw2)]


def test_cookie_is_secure_when_public_url_is_https(sqlite_url: str, tmp_path: Path) -> None:
    rt = build_runtime(make_settings(sqlite_url, tmp_path, public_url="https://voice.example.org"))
    rt.clock = Clock()
    app = build_app(rt)
    a = Admin(
        rt,
        app,
        rt.clock,
        TestClient(app, base_url="https://voice.example.org", follow_redirects=False),
    )
    a.add_staff("mgr", "participation_manager")
    resp = a.login("mgr")
    assert resp.status_code == 303
    cookie = next(h for h in resp.headers.get_list("set-cookie") if h.startswith("ov_admin="))
    assert "secure" in cookie.lower()
    rt.engine.dispose()


def test_idle_timeout_after_30_minutes(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    assert admin.login("mgr").status_code == 303
    admin.clock.advance(minutes=29)
    assert admin.client.get("/admin/").status_code == 200  # activity keeps it alive
    admin.clock.advance(minutes=29)
    assert admin.client.get("/admin/").status_code == 200
    admin.clock.advance(minutes=30)
    resp = admin.client.get("/admin/")
    assert resp.status_code == 303
    assert resp.headers["location"].startswith("/admin/login")
    assert _count(admin, StaffSession) == 0  # the expired session is deleted, not just ignored


def test_absolute_timeout_after_8_hours_even_when_active(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    assert admin.login("mgr").status_code == 303
    for _ in range(15):  # 7 h 30 of steady use
        admin.clock.advance(minutes=29, seconds=59)
        assert admin.client.get("/admin/").status_code == 200
    admin.clock.advance(minutes=31)  # now past 8 h since sign-in
    resp = admin.client.get("/admin/")
    assert resp.status_code == 303


def test_logout_deletes_the_session_server_side(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    admin.login("mgr")
    raw = admin.client.cookies.get("ov_admin")
    page = admin.client.get("/admin/")
    resp = admin.client.post("/admin/logout", data={"csrf_token": csrf_of(page.text)})
    assert resp.status_code == 303
    assert resp.headers["location"] == "/admin/login?msg=signed_out"
    assert _count(admin, StaffSession) == 0
    replay = TestClient(admin.app, follow_redirects=False)
    replay.cookies.set("ov_admin", raw)
    assert replay.get("/admin/").status_code == 303  # the old cookie is worthless


def test_paused_account_is_signed_out_and_cannot_sign_in(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    w = admin.add_staff("w", "participation_worker", ("east",))
    c, _ = admin.client_for("w")
    assert c.get("/admin/").status_code == 200
    with admin.db() as s:
        staff_actions.change_staff(s, Actor("mgr", "participation_manager"), w.id, now=admin.clock.now, active=False)
    assert c.get("/admin/").status_code == 303
    assert admin.login("w").status_code == 401


def test_password_change_ends_other_sessions(admin: Admin) -> None:
    admin.add_staff("w", "participation_worker", ("east",))
    other, _ = admin.client_for("w")
    mine, csrf = admin.client_for("w")
    resp = mine.post(
        "/admin/account/password",
        data={"current": PASSWORD, "new": "a different long password", "csrf_token": csrf},
    )
    assert resp.status_code == 303
    assert other.get("/admin/").status_code == 303
    assert mine.get("/admin/account").status_code == 200  # this browser got a fresh session
    assert (
        admin.login(
            "w", "a different long password", client=TestClient(admin.app, follow_redirects=False)
        ).status_code
        == 303
    )


def test_sign_in_form_needs_its_token_and_our_origin(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    page = admin.client.get("/admin/login")
    token = csrf_of(page.text)
    data = {"username": "mgr", "password": PASSWORD}
    assert admin.client.post("/admin/login", data=data).status_code == 403
    assert admin.client.post("/admin/login", data={**data, "csrf_token": "x" * 64}).status_code == 403
    fresh = TestClient(admin.app, follow_redirects=False)  # token without its cookie
    assert fresh.post("/admin/login", data={**data, "csrf_token": token}).status_code == 403
    assert (
        admin.client.post(
            "/admin/login", data={**data, "csrf_token": token}, headers={"origin": "https://evil.example"}
        ).status_code
        == 403
    )
    assert (
        admin.client.post(
            "/admin/login", data={**data, "csrf_token": token}, headers={"origin": "http://testserver"}
        ).status_code
        == 303
    )


# --- throttling ------------------------------------------------------------------------------------------


def test_five_failures_lock_the_username_for_15_minutes(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    for _ in range(5):
        assert admin.login("mgr", "wrong password!").status_code == 401
    locked = admin.login("mgr")  # even the right password is refused while locked
    assert locked.status_code == 429
    assert "Too many attempts" in locked.text
    assert _count(admin, StaffSession) == 0
    admin.clock.advance(minutes=15, seconds=1)
    assert admin.login("mgr").status_code == 303
    assert _count(admin, LoginAttempt, LoginAttempt.success.is_(False)) == 5


def test_one_address_trying_many_usernames_is_throttled(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    for i in range(services.MAX_FAILURES_PER_IP):
        assert admin.login(f"nobody{i}", "guess").status_code == 401
    assert admin.login("mgr").status_code == 429


def test_unknown_username_looks_like_a_wrong_password(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    a = admin.login("ghost", "whatever it is")
    b = admin.login("mgr", "whatever it is")
    assert a.status_code == b.status_code == 401
    assert "did not match" in a.text
    assert "did not match" in b.text


def test_success_resets_the_username_counter(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    for _ in range(4):
        admin.login("mgr", "wrong password!")
    assert admin.login("mgr").status_code == 303
    admin.client.cookies.clear()
    for _ in range(4):
        assert admin.login("mgr", "wrong password!").status_code == 401
    assert admin.login("mgr").status_code == 303


def test_each_sign_in_writes_one_audit_row(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    before = _count(admin, AuditEntry)
    admin.login("mgr", "wrong password!")
    assert _count(admin, AuditEntry) == before  # failures go to the throttle table, not the audit log
    admin.login("mgr")
    assert _count(admin, AuditEntry) == before + 1
    with admin.db() as s:
        row = s.execute(select(AuditEntry).order_by(AuditEntry.id.desc())).scalars().first()
    assert (row.actor, row.action, row.target) == ("mgr", "login", "staff:mgr")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/admin/../x\\y", "javascript:x"]
)
def test_sign_in_never_redirects_off_site(admin: Admin, target: str) -> None:
    admin.add_staff("mgr", "participation_manager")
    page = admin.client.get("/admin/login")
    resp = admin.client.post(
        "/admin/login",
        data={"username": "mgr", "password": PASSWORD, "csrf_token": csrf_of(page.text), "next": target},
    )
    assert resp.status_code == 303
    assert resp.headers["location"] == "/admin/"


def test_sign_in_returns_to_the_page_asked_for(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    first = admin.client.get("/admin/topics")
    assert first.headers["location"] == "/admin/login?next=/admin/topics"
    page = admin.client.get(first.headers["location"])
    resp = admin.client.post(
        "/admin/login",
        data={
            "username": "mgr",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/admin/topics",
        },
    )
    assert resp.headers["location"] == "/admin/topics"


def test_auditor_lands_on_the_audit_log(admin: Admin) -> None:
    admin.add_staff("aud", "auditor")
    assert admin.login("aud").headers["location"] == "/admin/audit"
