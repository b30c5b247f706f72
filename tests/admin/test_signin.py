"""Sign-in and accounts (issue 22, items 5-8), through the web and the CLI: password strength, resets that need
the actor's own password (and a second manager for protected accounts), limits by address and username that a
spoofed X-Forwarded-For cannot reset, and Origin/Host checks against the configured URLs only."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from admin.actions import staff as staff_actions
from admin.actions.policy import Invalid
from admin.cli import app as cli
from admin.commands.run_cmd import proxy_options
from storage.models import AuditEntry, LoginAttempt
from tests.admin.conftest import PASSWORD, Admin, csrf_of
from tests.browser import free_port

WEAK = ["123456789012", "passwordpassword", "aaaaaaaaaaaa"]
STRONG = "tangerine ladder quietly 71"
runner = CliRunner()


# --- 5. weak passwords ---------------------------------------------------------------------------------


@pytest.mark.parametrize("weak", WEAK)
def test_weak_passwords_are_refused_with_a_reason_and_a_suggestion(weak: str) -> None:
    with pytest.raises(Invalid) as refused:
        staff_actions.check_password_strength("amy", weak)
    text = str(refused.value)
    assert "too easy to guess" in text
    assert "Add another word or two" in text  # zxcvbn's suggestion, in plain words


def test_council_words_and_the_username_count_as_guessable() -> None:
    staff_actions.check_password_strength("amy", STRONG)  # a good one passes
    with pytest.raises(Invalid, match="too easy to guess"):
        staff_actions.check_password_strength("sam", "ourvoice12345")  # the service's own name
    with pytest.raises(Invalid, match="at most 128"):
        staff_actions.check_password_strength("amy", STRONG * 6)


def test_weak_password_is_refused_on_the_web_staff_form(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    client, csrf = admin.client_for("mgr")
    resp = client.post(
        "/admin/staff",
        data={"username": "newbie", "role": "panel_viewer", "password": "passwordpassword", "csrf_token": csrf},
    )
    assert resp.status_code == 400
    assert "too easy to guess" in resp.text


@pytest.fixture
def cli_db(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("OURVOICE_DATABASE_URL", sqlite_url)
    monkeypatch.delenv("OURVOICE_STAFF_PASSWORD", raising=False)
    monkeypatch.delenv("OURVOICE_SECOND_PASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    return sqlite_url


def _cli_add(username: str, role: str, password: str, *, by: str = "") -> object:
    args = ["staff", "add", "--username", username, "--role", role, "--password-stdin"]
    env = {"OURVOICE_STAFF_PASSWORD": PASSWORD} if by else {}
    return runner.invoke(cli, [*args, *(["--staff", by] if by else [])], input=password + "\n", env=env)


def test_weak_password_is_refused_by_the_cli(cli_db: str) -> None:
    res = _cli_add("mgr", "participation_manager", "123456789012")
    assert res.exit_code == 2
    assert "too easy to guess" in res.output


# --- 6. resets -------------------------------------------------------------------------------------------


def _audit(admin: Admin, action: str) -> list[AuditEntry]:
    with admin.db() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_a_reset_needs_the_managers_own_password_on_the_web(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    worker = admin.add_staff("wes", "participation_worker", ("west",))
    client, csrf = admin.client_for("mgr")
    url = f"/admin/staff/{worker.id}/password"
    assert client.post(url, data={"password": STRONG, "csrf_token": csrf}).status_code == 400
    wrong = client.post(url, data={"password": STRONG, "your_password": "not my password", "csrf_token": csrf})
    assert wrong.status_code == 400 and "Your own password was not right" in wrong.text
    with admin.db() as s:  # the wrong password counts as a failed sign-in
        assert s.execute(select(LoginAttempt).where(LoginAttempt.username == "mgr")).scalars().all()
    assert _audit(admin, "staff.password") == []
    ok = client.post(url, data={"password": STRONG, "your_password": PASSWORD, "csrf_token": csrf})
    assert ok.status_code == 303
    assert [e.target for e in _audit(admin, "staff.password")] == ["staff:wes"]


@pytest.mark.parametrize("role", ["participation_manager", "auditor", "safeguarding_lead"])
def test_one_manager_alone_cannot_reset_a_protected_account_on_the_web(admin: Admin, role: str) -> None:
    admin.add_staff("mgr", "participation_manager")
    admin.add_staff("mo", "participation_manager")
    other = admin.add_staff("target", role)
    client, csrf = admin.client_for("mgr")
    url = f"/admin/staff/{other.id}/password"
    alone = client.post(url, data={"password": STRONG, "your_password": PASSWORD, "csrf_token": csrf})
    assert alone.status_code == 403
    assert _audit(admin, "staff.password") == []
    two = client.post(url, data={
        "password": STRONG, "your_password": PASSWORD, "second_username": "mo", "second_password": PASSWORD,
        "csrf_token": csrf,
    })
    assert two.status_code == 303
    rows = _audit(admin, "staff.password")
    assert [(e.actor, e.target, e.detail) for e in rows] == [("mgr", "staff:target", "confirmed_by=mo")]


def test_your_own_new_password_must_differ_from_the_current_one(admin: Admin) -> None:
    admin.add_staff("wes", "participation_worker", ("west",))
    client, csrf = admin.client_for("wes")
    same = client.post("/admin/account/password", data={"current": PASSWORD, "new": PASSWORD, "csrf_token": csrf})
    assert same.status_code == 400 and "different from the current one" in same.text
    weak = client.post(
        "/admin/account/password", data={"current": PASSWORD, "new": "aaaaaaaaaaaa", "csrf_token": csrf}
    )
    assert weak.status_code == 400 and "too easy to guess" in weak.text


def test_cli_reset_of_another_manager_needs_a_second_manager(cli_db: str) -> None:
    assert _cli_add("mgr", "participation_manager", PASSWORD).exit_code == 0
    assert _cli_add("aud", "auditor", PASSWORD, by="mgr").exit_code == 0  # while mgr is the only manager
    assert _cli_add("mo", "participation_manager", PASSWORD, by="mgr").exit_code == 0
    env = {"OURVOICE_STAFF_PASSWORD": PASSWORD}
    alone = runner.invoke(cli, ["staff", "passwd", "aud", "--staff", "mgr", "--password-stdin"],
                          input=STRONG + "\n", env=env)
    assert alone.exit_code == 2 and "two participation managers" in alone.output
    two = runner.invoke(
        cli, ["staff", "passwd", "aud", "--staff", "mgr", "--confirm-by", "mo", "--password-stdin"],
        input=STRONG + "\n", env={**env, "OURVOICE_SECOND_PASSWORD": PASSWORD},
    )
    assert two.exit_code == 0, two.output
    same = runner.invoke(cli, ["staff", "passwd", "mgr", "--staff", "mgr", "--password-stdin"],
                         input=PASSWORD + "\n", env=env)
    assert same.exit_code == 2 and "different from the current one" in same.output


def _role_of(admin: Admin, username: str) -> str:
    from storage import staff as staff_store

    with admin.db() as s:
        view = staff_store.by_username(s, username)
        assert view is not None
        return str(view.role)


@pytest.mark.parametrize("role", ["participation_manager", "auditor", "safeguarding_lead"])
def test_one_manager_alone_cannot_demote_a_protected_account_then_reset_it_on_the_web(
    admin: Admin, role: str
) -> None:
    """The bypass of the two-manager rule: demote the account (staff.change), reset it alone, promote it back."""
    admin.add_staff("mgr", "participation_manager")
    admin.add_staff("mo", "participation_manager")
    other = admin.add_staff("target", role)
    client, csrf = admin.client_for("mgr")
    change = f"/admin/staff/{other.id}/change"
    demote = {"role": "participation_worker", "districts": ["west"], "active": "1", "csrf_token": csrf}
    alone = client.post(change, data={**demote, "your_password": PASSWORD})
    assert alone.status_code == 403
    assert _role_of(admin, "target") == role and _audit(admin, "staff.change") == []
    reset = client.post(f"/admin/staff/{other.id}/password",
                        data={"password": STRONG, "your_password": PASSWORD, "csrf_token": csrf})
    assert reset.status_code == 403 and _audit(admin, "staff.password") == []
    # Two managers, each with their own password, may change a protected account's role.
    wrong = client.post(change, data={**demote, "your_password": "not my password", "second_username": "mo",
                                      "second_password": PASSWORD})
    assert wrong.status_code == 400 and "Your own password was not right" in wrong.text
    assert _role_of(admin, "target") == role
    two = client.post(change, data={**demote, "your_password": PASSWORD, "second_username": "mo",
                                    "second_password": PASSWORD})
    assert two.status_code == 303
    assert _role_of(admin, "target") == "participation_worker"
    assert [(e.actor, e.detail.split()[-1]) for e in _audit(admin, "staff.change")] == [("mgr", "confirmed_by=mo")]


def test_pausing_or_rescoping_a_protected_account_needs_no_second_manager(admin: Admin) -> None:
    """A manager alone may still pause a protected account at once (it gives no one its access)."""
    admin.add_staff("mgr", "participation_manager")
    other = admin.add_staff("aud", "auditor")
    client, csrf = admin.client_for("mgr")
    paused = client.post(f"/admin/staff/{other.id}/change", data={"role": "auditor", "csrf_token": csrf})
    assert paused.status_code == 303
    assert [e.target for e in _audit(admin, "staff.change")] == ["staff:aud"]


def test_cli_demotion_of_a_protected_account_needs_a_second_manager(cli_db: str) -> None:
    assert _cli_add("mgr", "participation_manager", PASSWORD).exit_code == 0
    assert _cli_add("aud", "auditor", PASSWORD, by="mgr").exit_code == 0  # while mgr is the only manager
    assert _cli_add("mo", "participation_manager", PASSWORD, by="mgr").exit_code == 0
    env = {"OURVOICE_STAFF_PASSWORD": PASSWORD}
    demote = ["staff", "set", "aud", "--role", "participation_worker", "--districts", "west", "--staff", "mgr"]
    alone = runner.invoke(cli, demote, env=env)
    assert alone.exit_code == 2 and "two participation managers" in alone.output
    reset = runner.invoke(cli, ["staff", "passwd", "aud", "--staff", "mgr", "--password-stdin"],
                          input=STRONG + "\n", env=env)
    assert reset.exit_code == 2 and "two participation managers" in reset.output
    wrong = runner.invoke(cli, [*demote, "--confirm-by", "mo"], env={**env, "OURVOICE_SECOND_PASSWORD": "nope"})
    assert wrong.exit_code == 2 and "second manager" in wrong.output
    two = runner.invoke(cli, [*demote, "--confirm-by", "mo"], env={**env, "OURVOICE_SECOND_PASSWORD": PASSWORD})
    assert two.exit_code == 0, two.output
    assert "aud: participation_worker" in two.output


def test_one_manager_alone_cannot_make_a_second_manager_to_confirm_their_own_reset_on_the_web(admin: Admin) -> None:
    """The sock-puppet bypass: add a manager account (or reset a worker's password and promote them), then
    confirm the auditor's reset with it. Giving anyone a protected role needs a second manager too."""
    admin.add_staff("mgr", "participation_manager")
    admin.add_staff("mo", "participation_manager")
    aud = admin.add_staff("aud", "auditor")
    worker = admin.add_staff("wes", "participation_worker", ("west",))
    client, csrf = admin.client_for("mgr")
    puppet = {"username": "sock", "role": "participation_manager", "password": STRONG, "csrf_token": csrf}
    alone = client.post("/admin/staff", data={**puppet, "your_password": PASSWORD})
    assert alone.status_code == 403 and [e for e in _audit(admin, "staff.add") if e.actor == "mgr"] == []
    promote = {"role": "participation_manager", "active": "1", "your_password": PASSWORD, "csrf_token": csrf}
    assert client.post(f"/admin/staff/{worker.id}/change", data=promote).status_code == 403
    assert _role_of(admin, "wes") == "participation_worker"
    reset = client.post(f"/admin/staff/{aud.id}/password", data={
        "password": "hijacked parsnip words 99", "your_password": PASSWORD, "second_username": "sock",
        "second_password": STRONG, "csrf_token": csrf,
    })
    assert reset.status_code == 400 and _audit(admin, "staff.password") == []  # no such manager to confirm
    # With the real second manager it is done, and the audit row names them.
    two = client.post("/admin/staff", data={**puppet, "your_password": PASSWORD, "second_username": "mo",
                                            "second_password": PASSWORD})
    assert two.status_code == 303
    assert [e.detail for e in _audit(admin, "staff.add") if e.actor == "mgr"] == [
        "role=participation_manager districts=all confirmed_by=mo"]
    # Other roles still need one manager only.
    viewer = {"username": "pat", "role": "panel_viewer", "password": STRONG, "csrf_token": csrf}
    assert client.post("/admin/staff", data=viewer).status_code == 303


def test_a_councils_only_manager_adds_the_second_alone_and_pausing_others_does_not_make_one_only(
    admin: Admin,
) -> None:
    admin.add_staff("mgr", "participation_manager")
    client, csrf = admin.client_for("mgr")
    first = client.post("/admin/staff", data={
        "username": "mo", "role": "participation_manager", "password": STRONG, "csrf_token": csrf,
    })
    assert first.status_code == 303
    from storage import staff as staff_store

    with admin.db() as s:
        mo = staff_store.by_username(s, "mo")
        assert mo is not None
    assert client.post(f"/admin/staff/{mo.id}/change", data={"role": "participation_manager", "csrf_token": csrf}
                       ).status_code == 303  # paused by one manager at once (an emergency)
    again = client.post("/admin/staff", data={
        "username": "sock", "role": "participation_manager", "password": STRONG, "your_password": PASSWORD,
        "csrf_token": csrf,
    })
    assert again.status_code == 403


def test_cli_cannot_add_a_sock_puppet_manager_alone(cli_db: str) -> None:
    assert _cli_add("mgr", "participation_manager", PASSWORD).exit_code == 0
    assert _cli_add("mo", "participation_manager", PASSWORD, by="mgr").exit_code == 0  # the only manager, alone
    env = {"OURVOICE_STAFF_PASSWORD": PASSWORD}
    args = ["staff", "add", "--username", "sock", "--role", "participation_manager", "--password-stdin",
            "--staff", "mgr"]
    alone = runner.invoke(cli, args, input=STRONG + "\n", env=env)
    assert alone.exit_code == 2 and "two participation managers" in alone.output
    lead = runner.invoke(cli, ["staff", "add", "--username", "lee", "--role", "safeguarding_lead",
                               "--password-stdin", "--staff", "mgr"], input=STRONG + "\n", env=env)
    assert lead.exit_code == 2 and "two participation managers" in lead.output
    two = runner.invoke(cli, [*args, "--confirm-by", "mo"], input=STRONG + "\n",
                        env={**env, "OURVOICE_SECOND_PASSWORD": PASSWORD})
    assert two.exit_code == 0, two.output


# --- 7. limits by address and username ----------------------------------------------------------------------


def _sign_in(admin: Admin, username: str, password: str, ip: str) -> staff_actions.SignIn:
    with admin.db() as s:
        return staff_actions.check_credentials(
            s, username, password, ip=ip, now=admin.clock.now, hasher=admin.web.hasher
        )


def test_failures_from_one_address_do_not_lock_the_real_person_out_elsewhere(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    for _ in range(staff_actions.MAX_FAILURES_PER_PAIR):
        assert _sign_in(admin, "mgr", "guess guess guess", "203.0.113.9").reason == "invalid"
    assert _sign_in(admin, "mgr", PASSWORD, "203.0.113.9").reason == "locked"  # that pair is locked
    assert _sign_in(admin, "mgr", PASSWORD, "198.51.100.7").ok  # the real person, from their own address


def test_many_addresses_slow_a_username_down_except_where_it_signs_in(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    assert _sign_in(admin, "mgr", PASSWORD, "198.51.100.7").ok  # the desk the manager uses
    admin.clock.advance(minutes=1)
    for i in range(staff_actions.MAX_FAILURES_PER_USER):
        assert _sign_in(admin, "mgr", "guess guess guess", f"203.0.113.{i + 1}").reason == "invalid"
    assert _sign_in(admin, "mgr", PASSWORD, "192.0.2.50").reason == "locked"  # a new address waits
    assert _sign_in(admin, "mgr", PASSWORD, "198.51.100.7").ok  # the known desk does not
    admin.clock.advance(minutes=61)
    assert _sign_in(admin, "mgr", PASSWORD, "192.0.2.50").ok  # and the slow-down passes


@contextmanager
def _served(admin: Admin, trusted: str) -> Iterator[str]:
    """The admin app behind real uvicorn with the run command's proxy options."""
    settings = admin.rt.settings.model_copy(update={"trusted_proxies": trusted})
    port = free_port()
    config = uvicorn.Config(admin.app, host="127.0.0.1", port=port, log_level="warning", **proxy_options(settings))
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def _failures_through(base: str, count: int) -> list[int]:
    """`count` wrong sign-ins, each for a new username and with a new spoofed X-Forwarded-For."""
    with httpx.Client(base_url=base, timeout=10) as c:
        token = csrf_of(c.get("/admin/login").text)
        return [
            c.post(
                "/admin/login",
                data={"username": f"nobody{i}", "password": "guess guess guess", "csrf_token": token},
                headers={"X-Forwarded-For": f"203.0.113.{i + 1}"},
            ).status_code
            for i in range(count)
        ]


def _recorded_ips(admin: Admin) -> set[str]:
    with admin.db() as s:
        return {a.ip for a in s.execute(select(LoginAttempt)).scalars()}


def test_a_spoofed_forwarded_for_does_not_reset_the_address_limit(admin: Admin) -> None:
    limit = staff_actions.MAX_FAILURES_PER_IP
    with _served(admin, "") as base:
        codes = _failures_through(base, limit + 1)
    assert codes[:limit] == [401] * limit
    assert codes[limit] == 429  # the peer's own address is locked, whatever the header said
    assert _recorded_ips(admin) == {"127.0.0.1"}


def test_a_configured_proxy_is_believed(admin: Admin) -> None:
    with _served(admin, "127.0.0.1") as base:
        assert _failures_through(base, 2) == [401, 401]
    assert _recorded_ips(admin) == {"203.0.113.1", "203.0.113.2"}


def test_trusted_proxies_setting_is_checked() -> None:
    from bot.settings import BotSettings

    assert BotSettings(_env_file=None).trusted_proxies == ""  # type: ignore[call-arg]
    assert proxy_options(BotSettings(_env_file=None))["proxy_headers"] is False  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="not an IP address"):
        BotSettings(_env_file=None, trusted_proxies="proxy.example")  # type: ignore[call-arg]


# --- 8. Origin and Host ----------------------------------------------------------------------------------


def _login_form(admin: Admin) -> tuple[dict[str, str], dict[str, str]]:
    admin.add_staff("mgr", "participation_manager")
    token = csrf_of(admin.client.get("/admin/login").text)
    return {"username": "mgr", "password": PASSWORD, "csrf_token": token}, {}


def test_origin_built_from_the_host_header_is_refused(admin: Admin) -> None:
    data, _ = _login_form(admin)
    # Host "localhost" is allowed (the demo), but its bare origin is not a configured URL.
    spoofed = admin.client.post(
        "/admin/login", data=data, headers={"host": "localhost", "origin": "http://localhost"}
    )
    assert spoofed.status_code == 403
    ok = admin.client.post("/admin/login", data=data, headers={"origin": "http://testserver"})
    assert ok.status_code == 303


def test_unknown_host_headers_are_refused_on_the_admin_only(admin: Admin) -> None:
    assert admin.client.get("/admin/login", headers={"host": "evil.example"}).status_code == 400
    assert admin.client.get("/admin/login", headers={"host": "127.0.0.1:8000"}).status_code == 200
    assert admin.client.get("/healthz", headers={"host": "evil.example"}).status_code == 200


def test_own_configured_url_is_an_allowed_origin(admin: Admin) -> None:
    data, _ = _login_form(admin)
    own = admin.client.post(
        "/admin/login", data=data, headers={"host": "127.0.0.1:8000", "origin": "http://127.0.0.1:8000"}
    )
    assert own.status_code == 303
    assert re.match(r"^/admin/", own.headers["location"])
