"""Fixtures for the young people's features: a runtime whose review statements go to a loopback SMTP sink."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.runtime import Runtime, build_runtime
from bot.safeguarding import Lexicon, default_lexicon_path
from content.loader import Library, load_library
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now, make_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.helpers import Person

IRO = "iro@example.invalid"
SOCIAL_WORKER = "social-worker@example.invalid"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def review_env(sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> SmtpSink:
    """Point the mail relay (OURVOICE_SMTP_*) and the shared review mailboxes (OURVOICE_REVIEW_*) at the sink,
    as an operator would in the environment."""
    monkeypatch.setenv("OURVOICE_SMTP_HOST", sink.host)
    monkeypatch.setenv("OURVOICE_SMTP_PORT", str(sink.port))
    monkeypatch.setenv("OURVOICE_EMAIL_TIMEOUT", "5")
    monkeypatch.setenv("OURVOICE_REVIEW_IRO_TO", IRO)
    monkeypatch.setenv("OURVOICE_REVIEW_SOCIAL_WORKER_TO", SOCIAL_WORKER)
    return sink


@pytest.fixture(scope="session")
def library() -> Library:
    return load_library()


@pytest.fixture(scope="session")
def lexicon() -> Lexicon:
    return Lexicon.from_file(default_lexicon_path())


@pytest.fixture
def fast_runtime(library: Library, lexicon: Lexicon, monkeypatch: pytest.MonkeyPatch):
    """build_runtime with the content parsed once per session (the runtime caches the lexicon itself)."""

    def build(settings) -> Runtime:
        return build_runtime(settings, library=library)

    return build


@pytest.fixture
def rt(db_url: str, tmp_path: Path, review_env: SmtpSink, fast_runtime) -> Iterator[Runtime]:
    runtime = fast_runtime(make_settings(db_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def cli_for(url: str):
    """Run `ourvoice ...` against a database, like staff would from a shell."""
    from admin.cli import app

    runner = CliRunner()
    env = {
        "OURVOICE_DATABASE_URL": url,
        "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
        "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY,
    }

    def invoke(*args: str, ok: bool = True) -> str:
        result = runner.invoke(app, list(args), env=env)
        output = result.output  # stdout and stderr, interleaved as a person would see them
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        if ok:
            assert result.exit_code == 0, f"`ourvoice {' '.join(args)}` failed: {output}"
        else:
            assert result.exit_code != 0, f"`ourvoice {' '.join(args)}` should have failed: {output}"
        return output

    return invoke


@pytest.fixture
def cached_content(library: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """Let CLI commands reuse the session's parsed content instead of re-reading YAML on every call."""
    import admin.commands.topic_cmd
    import content.loader

    monkeypatch.setattr(content.loader, "load_library", lambda root=None: library)
    monkeypatch.setattr(admin.commands.topic_cmd, "load_library", lambda root=None: library)


@pytest.fixture
def cli(db_url: str, cached_content: None):
    """The CLI on the parametrised (SQLite and PostgreSQL) test database."""
    return cli_for(db_url)


@pytest.fixture
def cli_nodb(tmp_path: Path, cached_content: None):
    """The CLI for commands that must fail or finish before touching the database."""
    return cli_for(f"sqlite:///{tmp_path / 'unused.db'}")


BAND_LABELS = {"junior": "I'm 7 to 11", "teen": "I'm 11 to 16", "young_adult": "I'm 16 to 25"}


def join(rt: Runtime, sender: str, band: str, *, now=None) -> Person:
    """A new young person on the web channel, through the welcome flow, left at the main menu."""
    p = Person(rt.dispatcher, sender, now=now or fixed_now())
    p.text("hi")
    p.press(BAND_LABELS[band])
    assert "What would you like to do" in p.said, p.said
    return p
