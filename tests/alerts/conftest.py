"""Fixtures for the safeguarding alert tests: an SMTP sink as the duty inbox, a runtime wired to it,
a web chat over HTTP with an injected clock, and a scheduler tick."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from admin.scheduler import JOBS, run_job
from bot import runtime as runtime_module
from bot.channels import web
from bot.runtime import Runtime, build_app, build_runtime
from bot.safeguarding import Lexicon
from content.loader import Library, load_library
from tests.conftest import fixed_now, make_settings
from tests.fakes.smtp_sink import SmtpSink
from tests.support.clock import Clock

DUTY = "duty@council.test"
MANAGER = "duty-manager@council.test"
ESCALATION_JOB = next(j for j in JOBS if j.name == "alerts_escalate")


_LIBRARIES: dict[str, Library] = {}
_LEXICONS: dict[tuple[str, float], Lexicon] = {}
_load_lexicon = Lexicon.from_file


def _library(content_dir: str) -> Library:
    """Content parsed once per folder for the whole session (it is read-only)."""
    if content_dir not in _LIBRARIES:
        _LIBRARIES[content_dir] = load_library(Path(content_dir) if content_dir else None)
    return _LIBRARIES[content_dir]


def _cached_lexicon(path: str | Path) -> Lexicon:
    """The live lexicon, compiled once per file version (it is immutable)."""
    key = (str(path), os.stat(path).st_mtime)
    if key not in _LEXICONS:
        _LEXICONS[key] = _load_lexicon(path)
    return _LEXICONS[key]


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as s:
        yield s


@pytest.fixture
def make_rt(sink: SmtpSink, tmp_path: Path) -> Iterator[Callable[..., Runtime]]:
    """Build runtimes whose alert routes point at the sink; stops their notifiers afterwards."""
    made: list[Runtime] = []

    def build(url: str, **overrides: Any) -> Runtime:
        values: dict[str, Any] = {
            "alert_email_to": DUTY,
            "alert_email_escalate_to": MANAGER,
            "smtp_host": sink.host,
            "smtp_port": sink.port,
        }
        values.update(overrides)
        extra = values.pop("runtime_kwargs", {})
        settings = make_settings(url, tmp_path, **values)
        extra.setdefault("library", _library(settings.content_dir))
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(runtime_module.Lexicon, "from_file", _cached_lexicon)
            rt = build_runtime(settings, **extra)
        rt.notifier.retry_seconds = 0.05
        made.append(rt)
        return rt

    yield build
    for rt in made:
        rt.notifier.stop()
        rt.engine.dispose()


@pytest.fixture
def rt(make_rt: Callable[..., Runtime], sqlite_url: str) -> Runtime:
    return make_rt(sqlite_url)


def tick(rt: Runtime, now: datetime) -> str | None:
    """One scheduler tick of the escalation job (claimed like the real scheduler does)."""
    result = run_job(rt, ESCALATION_JOB, now=now)
    rt.notifier.wait_idle()
    return result


def recipients(sink: SmtpSink) -> list[str]:
    return [r for d in sink.deliveries for r in d.rcpt_tos]


class WebChat:
    """A browser on the real ASGI app: cookie, JSON posts, and every raw response body kept."""

    def __init__(self, rt: Runtime, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
        class FixedDatetime(datetime):
            @classmethod
            def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
                return clock.now.astimezone(tz) if tz else clock.now

        monkeypatch.setattr(web, "datetime", FixedDatetime)
        self.rt = rt
        self.client = TestClient(build_app(rt))
        self.client.get("/")
        self.bodies: list[str] = []
        self.last: dict = {"replies": []}

    def send(self, text: str = "", payload: str = "") -> dict:
        r = self.client.post(
            "/api/chat", json={"message_id": uuid.uuid4().hex, "text": text, "payload": payload}
        )
        assert r.status_code == 200, r.text
        self.bodies.append(r.text)
        self.last = r.json()
        return self.last

    def text(self, text: str) -> dict:
        return self.send(text=text)

    def command(self, name: str, args: str = "") -> dict:
        return self.send(text=f"/{name} {args}".strip())

    def press(self, label_start: str) -> dict:
        for rep in reversed(self.last["replies"]):
            for c in rep["choices"]:
                if c["label"].startswith(label_start):
                    return self.send(payload=c["token"])
        labels = [c["label"] for r in self.last["replies"] for c in r["choices"]]
        raise AssertionError(f"no button {label_start!r} in {labels}")

    @property
    def texts(self) -> list[str]:
        return [r["text"] for r in self.last["replies"]]


@pytest.fixture
def clock() -> Clock:
    return Clock(fixed_now())


def walk_to_text_question(chat: Any) -> None:
    """From a first hello to the topic's free-text question 'anything_else' (teen band)."""
    chat.text("hello")
    chat.press("I'm 11 to 16")
    chat.press("🗣")
    chat.press("🙂")
    chat.press("They listen")
    chat.press("Done")
    chat.press("Whether they have pets")
    chat.press("Done")
    chat.press("A meal I like")


def walk_to_choice_question(chat: Any) -> None:
    """To the single-choice question 'first_day'."""
    chat.text("hello")
    chat.press("I'm 11 to 16")
    chat.press("🗣")
    chat.press("🙂")
    chat.press("They listen")
    chat.press("Done")
    chat.press("Whether they have pets")
    chat.press("Done")
