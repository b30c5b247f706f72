"""A restart of `ourvoice run` gets to its first poll quickly (issue 27, 1): what answering a message does not need
is not loaded at start, and Alembic runs only when a migration is due.

Nothing here times anything: the tests check what the start path does (which modules it imports, whether it
migrates), which is what the time depends on. `python -m bench.kill_loop` measures the time itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from storage.migrate import alembic_config, current_revisions, ensure_current, heads_in_files, upgrade

ROOT = Path(__file__).resolve().parents[1]

# Libraries only reports, the CLI or the Slack channel use: none may be imported by starting the Telegram
# channel (each costs a tenth of a second or more of every restart, before the first poll).
NOT_AT_START = ("scipy", "numpy", "alembic", "slack_sdk", "slack_bolt", "matplotlib", "weasyprint", "sklearn",
                "zxcvbn", "aiohttp")

# Runs the real `ourvoice run --channel telegram` up to the point where uvicorn would start serving (and the
# Telegram poller with it), then prints the top-level modules loaded by then instead.
PROBE = """
import sys
import uvicorn

def report(self, sockets=None):
    print("LOADED " + " ".join(sorted({m.split(".")[0] for m in sys.modules})), flush=True)

uvicorn.Server.run = report
from admin.cli import app
app(["run", "--channel", "telegram", "--port", "0", "--no-scheduler"])
"""


def test_the_quick_head_check_agrees_with_alembic() -> None:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert heads_in_files() == frozenset(heads)


def _write(folder: Path, name: str, revision: str, down: str) -> None:
    (folder / name).write_text(
        f'"""x"""\nrevision: str = "{revision}"\ndown_revision: str | None = {down}\n', encoding="utf-8"
    )


def test_the_quick_head_check_gives_up_on_what_it_cannot_read(tmp_path: Path) -> None:
    _write(tmp_path, "0001_a.py", "aaa111", "None")
    _write(tmp_path, "0002_b.py", "bbb222", '"aaa111"')
    assert heads_in_files(tmp_path) == frozenset({"bbb222"})
    _write(tmp_path, "0003_c.py", "ccc333", '("aaa111", "bbb222")')  # a merge: only Alembic can say
    assert heads_in_files(tmp_path) is None


@pytest.fixture(params=["sqlite", "postgres"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    from tests import conftest

    if request.param == "postgres":
        if not conftest.PG_URL:
            if conftest.REQUIRE_PG:
                pytest.fail("PostgreSQL required but not configured")
            pytest.skip("no PostgreSQL server configured")
        return conftest._postgres_url()
    return f"sqlite:///{tmp_path / 'restart.db'}"


def test_a_restart_migrates_only_when_a_migration_is_due(bare_url: str) -> None:
    heads = heads_in_files()
    assert heads is not None
    assert ensure_current(bare_url) is True  # a new database is migrated
    assert current_revisions(bare_url) == heads
    assert ensure_current(bare_url) is False  # a restart finds it current: Alembic is not run
    # A database one migration behind (a new release) is brought up to date.
    (head,) = heads
    previous = ScriptDirectory.from_config(alembic_config(bare_url)).get_revision(head).down_revision
    assert isinstance(previous, str)
    behind = _another(bare_url)
    upgrade(behind, previous)
    assert current_revisions(behind) == {previous}
    assert ensure_current(behind) is True
    assert current_revisions(behind) == heads


def _another(url: str) -> str:
    from tests import conftest

    return conftest._postgres_url() if url.startswith("postgresql") else url.replace("restart.db", "behind.db")


def test_starting_the_telegram_channel_loads_no_report_or_slack_libraries(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ourvoice.db'}"
    upgrade(url)  # as after a crash: the database is already current
    env = {
        **os.environ,
        "OURVOICE_DATABASE_URL": url,
        "OURVOICE_TELEGRAM_TOKEN": "123456:test-token",
        "OURVOICE_TELEGRAM_API_BASE_URL": "http://127.0.0.1:9/bot",
        "OURVOICE_DEMO": "true",
        "OURVOICE_ALERT_SPOOL_DIR": str(tmp_path / "spool"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert lines, f"ourvoice run did not get to serving: {done.stderr[-2000:]}"
    loaded = set(lines[0].split()[1:])
    assert {"telegram", "fastapi", "sqlalchemy"} <= loaded  # it did build the channel and the app
    assert sorted(loaded & set(NOT_AT_START)) == []
