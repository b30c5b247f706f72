"""Shared fixtures: settings with throwaway keys, a migrated database (SQLite or PostgreSQL), a runtime."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from bot.settings import BotSettings
from storage.migrate import create_missing_tables, upgrade
from tests.support.clock import fixed_now  # noqa: F401 - re-exported: many tests import it from here
from tests.support.database import copy_migrated

PG_URL = os.environ.get("OURVOICE_TEST_POSTGRES_URL", "")
REQUIRE_PG = os.environ.get("OURVOICE_REQUIRE_POSTGRES") == "1"

# Keys for tests only: generated per run, never written anywhere.
TEST_HASH_KEY = "test-hash-key-" + uuid.uuid4().hex
TEST_FERNET_KEY = Fernet.generate_key().decode()


def _postgres_url() -> str:
    """A fresh schema per test on the CI PostgreSQL server, selected through search_path."""
    import psycopg

    schema = "t_" + uuid.uuid4().hex[:12]
    plain = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def pytest_configure(config: pytest.Config) -> None:
    # Set, not defaulted: each pytest-xdist worker imports this module and makes its own keys, but inherits the
    # environment of the process that started it; the CLI (which reads the environment) and the fixtures (which
    # read these constants) must hold the same keys within one worker.
    os.environ["OURVOICE_ID_HASH_KEY"] = TEST_HASH_KEY
    os.environ["OURVOICE_ENCRYPTION_KEYS"] = TEST_FERNET_KEY
    # `ourvoice run` refuses to start without an alert route outside demo mode: runs the suite starts are demos
    # unless a test configures a route (the loopback SMTP sink) or says otherwise.
    os.environ.setdefault("OURVOICE_DEMO", "true")
    os.environ.setdefault("PTB_TIMEDELTA", "1")  # as `ourvoice run` sets it (PTB's timedelta durations)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database on SQLite and on PostgreSQL (the latter when a server is configured)."""
    if request.param == "postgres":
        if not PG_URL:
            if REQUIRE_PG:
                pytest.fail("OURVOICE_REQUIRE_POSTGRES=1 but OURVOICE_TEST_POSTGRES_URL is not set")
            pytest.skip("no PostgreSQL server: set OURVOICE_TEST_POSTGRES_URL (.ci/run starts one)")
        url = _postgres_url()
        upgrade(url)
        create_missing_tables(url)
        return url
    return copy_migrated(request.getfixturevalue("_migrated_sqlite"), tmp_path)


@pytest.fixture(scope="session")
def _migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite database migrated through the real upgrade path, once per run.

    Each test gets a copy of the file: migrating a fresh file for each of the ~450 tests that want one cost
    minutes of the CI budget, and the copy is the same schema byte for byte. The migrations themselves are still
    run from empty, on SQLite and on PostgreSQL, by tests/test_migrations.py and every PostgreSQL test."""
    path = tmp_path_factory.mktemp("migrated") / "ourvoice.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    return path


@pytest.fixture
def sqlite_url(tmp_path: Path, _migrated_sqlite: Path) -> str:
    return copy_migrated(_migrated_sqlite, tmp_path)


def make_settings(url: str, tmp_path: Path, **overrides: object) -> BotSettings:
    values: dict[str, object] = {
        "database_url": url,
        "id_hash_key": TEST_HASH_KEY,
        "encryption_keys": TEST_FERNET_KEY,
        "alert_spool_dir": str(tmp_path / "spool"),
        "audit_anchor_file": str(tmp_path / "audit-anchors.log"),
        "invite_only": False,
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(sqlite_url: str, tmp_path: Path) -> BotSettings:
    return make_settings(sqlite_url, tmp_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium per test module, shared by the browser tests (tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as b:
        yield b
