"""Protected CLI commands: set-up mode before the first account, then a password and the right role."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.actions.staff import _create
from admin.cli import _PROTECTED, app
from storage.db import make_engine, session
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

PASSWORD = "correct horse battery staple"


@pytest.fixture
def env(sqlite_url: str) -> dict[str, str]:
    return {"OURVOICE_DATABASE_URL": sqlite_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
            "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY}


def add(url: str, username: str, role: str) -> None:
    engine = make_engine(url)
    with session(engine) as s:
        _create(s, username=username, role=role, districts=("east",) if role == "participation_worker" else (),
                password=PASSWORD, now=datetime.now(UTC), by="test.setup", hasher=None)
    engine.dispose()


def run(env: dict[str, str], *args: str, password: str | None = None):
    extra = {"OURVOICE_STAFF_PASSWORD": password} if password else {}
    return CliRunner().invoke(app, list(args), env={**env, **extra}, input="\n")


def test_every_protected_command_exists_and_takes_staff() -> None:
    groups = {g.name: g.typer_instance for g in app.registered_groups}
    for group, commands in _PROTECTED.items():
        for name in commands:
            result = CliRunner().invoke(app, [group, name, "--help"])
            assert result.exit_code == 0, (group, name, result.output)
            assert "--staff" in result.output, (group, name)
        assert group in groups


def test_set_up_mode_then_sign_in_required(env: dict[str, str], sqlite_url: str, tmp_path: Path) -> None:
    first = run(env, "topic", "publish", "good_foster_carer", "--districts", "east", "--staff", "setter")
    assert first.exit_code == 0, first.output  # no accounts yet: set-up mode
    add(sqlite_url, "pat", "participation_worker")
    add(sqlite_url, "aud", "auditor")
    refused = run(env, "topic", "close", "good_foster_carer", "--staff", "pat", password="wrong password!!")
    assert refused.exit_code == 2
    assert "did not match" in refused.output
    nobody = run(env, "topic", "close", "good_foster_carer")
    assert nobody.exit_code == 2
    assert "needs --staff" in nobody.output
    wrong_role = run(env, "topic", "close", "good_foster_carer", "--staff", "aud", password=PASSWORD)
    assert wrong_role.exit_code == 2
    assert "cannot do this" in wrong_role.output
    ok = run(env, "topic", "close", "good_foster_carer", "--staff", "pat", password=PASSWORD)
    assert ok.exit_code == 0, ok.output


def test_guard_adds_staff_to_commands_without_it(env: dict[str, str], sqlite_url: str) -> None:
    add(sqlite_url, "mgr", "participation_manager")
    refused = run(env, "keys", "rotate")
    assert refused.exit_code == 2
    assert "needs --staff" in refused.output
