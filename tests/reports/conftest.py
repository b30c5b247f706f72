"""Report fixtures: a frozen content library (so golden files only change when reports do) and seeded data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from admin.reports.settings import ReportSettings
from bot.alerts import AlertNotifier
from bot.channels.email import EmailSettings
from content.loader import Library
from content.schema import Flow, Strings
from storage.db import make_engine

FIXTURES = Path(__file__).parent / "fixtures"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FROM, TO = date(2026, 7, 1), date(2026, 9, 30)  # a fixed period (a quarter) that has ended


def frozen_library() -> Library:
    flows = {}
    for path in sorted(FIXTURES.glob("*.yaml")):
        flow = Flow.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        flows[flow.id] = flow
    return Library(flows=flows, strings=Strings(schema_version=1, id="strings", messages={}), root=FIXTURES)


def report_settings(tmp_path: Path, **overrides: object) -> ReportSettings:
    values: dict[str, object] = {"reports_dir": str(tmp_path / "reports"), "panel_dates": ""}
    values.update(overrides)
    return ReportSettings(_env_file=None, **values)  # type: ignore[call-arg]


def runtime(url: str, tmp_path: Path, *, notifier: AlertNotifier | None = None, **overrides: object) -> SimpleNamespace:
    """What report jobs and commands need from the runtime: engine, content, settings, a notifier (none
    of whose routes takes staff notices unless one is given)."""
    from bot.crypto import Keyring
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

    return SimpleNamespace(
        engine=make_engine(url),
        keyring=Keyring(TEST_HASH_KEY, [TEST_FERNET_KEY]),  # the demo's events keep names encrypted
        library=frozen_library(),
        report_settings=report_settings(tmp_path, **overrides),
        settings=SimpleNamespace(public_url="https://ov.example"),
        notifier=notifier or AlertNotifier([]),
        email_settings=EmailSettings(_env_file=None),  # no team addresses: staff notices go to the notifier only
    )


@pytest.fixture
def library() -> Library:
    return frozen_library()


@pytest.fixture(scope="session")
def seeded_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite database with 400 synthetic people, quotes, actions, cards, good news and a carers' wave."""
    from admin.commands.demo_cmd import seed_demo
    from storage.migrate import create_missing_tables, upgrade

    path = tmp_path_factory.mktemp("seeded") / "seeded.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    rt = runtime(url, path.parent)
    seed_demo(rt, people=400, seed=42, months=6, now=NOW)
    rt.engine.dispose()
    return url


def close_first_wave(url: str, on: date) -> None:
    """End the seeded carers' wave (3 August to 29 December) on `on`, so that a paper over a period it closed in
    has its figures (a wave still open at a period's end is listed without them)."""
    from storage.db import make_engine, session
    from storage.models import SurveyWave
    from storage.waves import list_waves

    engine = make_engine(url)
    try:
        with session(engine) as s:
            row = s.get(SurveyWave, list_waves(s)[0].id)
            assert row is not None
            row.closes_on = on
            row.closes_at = datetime(on.year, on.month, on.day, 23, tzinfo=UTC)
            s.add(row)
            s.commit()
    finally:
        engine.dispose()
