"""`ourvoice run` refuses to start when a disclosure would reach nobody: outside demo mode at least one alert
route must work (an SMTP relay that answers, or the Slack staff channel). In demo mode it starts, and alerts
are listed in the admin and said on the console (references only, never words)."""

from __future__ import annotations

import io
import socket
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bot.alert_routes import ConsoleRoute, alert_route_problem
from bot.alerts import AlertNotice
from bot.runtime import build_notifier
from tests.alerts.conftest import DUTY
from tests.conftest import make_settings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A clean working folder and environment for `ourvoice run`; uvicorn replaced by a recorder."""
    import uvicorn

    monkeypatch.chdir(tmp_path)
    for name in ("OURVOICE_ALERT_EMAIL_TO", "OURVOICE_ALERT_EMAIL_ESCALATE_TO", "OURVOICE_SLACK_STAFF_CHANNEL",
                 "OURVOICE_SLACK_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OURVOICE_DATABASE_URL", f"sqlite:///{tmp_path / 'ov.db'}")
    monkeypatch.setenv("OURVOICE_ALERT_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("OURVOICE_DEMO", "false")
    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: started.append(kw))
    monkeypatch.setattr(uvicorn.Server, "run", lambda server, *a, **kw: started.append(server.config))
    return started


def run_cli() -> Any:
    from admin.cli import app

    return CliRunner().invoke(app, ["run", "--no-scheduler"])


def test_run_refuses_to_start_without_an_alert_route(cli_env: list[Any]) -> None:
    result = run_cli()
    assert result.exit_code == 2, result.output
    assert cli_env == []  # the server never started
    lines = [line for line in result.output.splitlines() if "refusing to start" in line]
    assert len(lines) == 1 and "OURVOICE_ALERT_EMAIL_TO" in lines[0] and "OURVOICE_DEMO" in lines[0]


def test_run_refuses_when_the_only_route_does_not_answer(cli_env: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OURVOICE_ALERT_EMAIL_TO", DUTY)
    monkeypatch.setenv("OURVOICE_SMTP_PORT", str(free_port()))  # nothing listens there
    result = run_cli()
    assert result.exit_code == 2, result.output
    assert cli_env == []
    assert "no safeguarding alert route works (email" in result.output


def test_run_starts_with_a_working_email_route(cli_env: list[Any], monkeypatch: pytest.MonkeyPatch, sink: Any) -> None:
    monkeypatch.setenv("OURVOICE_ALERT_EMAIL_TO", DUTY)
    monkeypatch.setenv("OURVOICE_SMTP_HOST", sink.host)
    monkeypatch.setenv("OURVOICE_SMTP_PORT", str(sink.port))
    result = run_cli()
    assert result.exit_code == 0, result.output
    assert len(cli_env) == 1


def test_run_starts_in_demo_mode_and_says_where_alerts_go(cli_env: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OURVOICE_DEMO", "true")
    result = run_cli()
    assert result.exit_code == 0, result.output
    assert len(cli_env) == 1
    assert "/admin/alerts" in result.output


def test_in_demo_mode_an_alert_is_said_on_the_console_without_words(sqlite_url: str, tmp_path: Path) -> None:
    notifier = build_notifier(make_settings(sqlite_url, tmp_path, demo=True))
    (console,) = [r for r in notifier.recipients if isinstance(r.route, ConsoleRoute)]
    out = io.StringIO()
    console.route.stream = out
    notice = AlertNotice("A-261124-DEMO0001", ("physical_abuse",), "2026-11-24T10:00", admin_url="http://x/admin/alerts/A-261124-DEMO0001")
    assert notifier.notify(notice) == 1
    assert notifier.wait_idle()
    notifier.stop()
    said = out.getvalue()
    assert "A-261124-DEMO0001" in said and "http://x/admin/alerts/A-261124-DEMO0001" in said
    assert alert_route_problem(notifier, demo=True) is None
    assert alert_route_problem(notifier, demo=False) is not None  # the console is no route outside a demo


def test_outside_demo_mode_there_is_no_console_route(sqlite_url: str, tmp_path: Path) -> None:
    notifier = build_notifier(make_settings(sqlite_url, tmp_path, demo=False))
    assert not [r for r in notifier.recipients if isinstance(r.route, ConsoleRoute)]
