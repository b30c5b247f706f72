"""Fixtures for the carer survey tests: a runtime on the test database, carers made straight in storage,
and a driver that answers whatever question a carer is shown."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from admin.actions.policy import Actor
from admin.commands import survey_cmd
from bot.features.carers import WaveSettings
from bot.runtime import Runtime, build_runtime
from storage import participants
from storage.db import session
from tests.conftest import make_settings
from tests.helpers import Person

DISTRICTS = ("north", "south", "east", "thanet", "west", "out_of_county")
OPENED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # when staff ran `survey open`


def runtime_for(url: str, tmp_path: Path, **survey: object) -> Runtime:
    rt = build_runtime(make_settings(url, tmp_path))
    rt.wave_settings = WaveSettings(_env_file=None, **survey)  # type: ignore[call-arg]
    return rt


@pytest.fixture
def rt(db_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = runtime_for(db_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture
def rt_sqlite(sqlite_url: str, tmp_path: Path) -> Iterator[Runtime]:
    runtime = runtime_for(sqlite_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def make_carers(rt: Runtime, n: int, *, start: int = 0, status: str = "active") -> list[str]:
    """Create `n` carers on the web channel, spread across districts; returns their sender ids."""
    senders = []
    with session(rt.engine) as s:
        for i in range(start, start + n):
            sender = f"carer-{i}"
            p, _ = participants.create(
                s, key_hash=rt.keyring.identity_hash("web", sender), channel="web", address_enc=None,
                now=OPENED, audience="carer", band="carer", district=DISTRICTS[i % len(DISTRICTS)],
            )
            p.status = status
            s.add(p)
            senders.append(sender)
    return senders


def open_wave(rt: Runtime, questionnaire: str = "carer_annual", *, opens: str = "2026-12-01",
              closes: str = "2027-01-15", districts: list[str] | None = None) -> int:
    out = survey_cmd.do_open(rt, questionnaire, name="Annual 2026", opens=opens, closes=closes,
                             districts=districts, actor=Actor("fostering.lead", "participation_manager"), now=OPENED)
    return int(out.split()[2])


def answer_current(person: Person, *, text: str = "Quicker replies would help") -> None:
    """Answer whatever the carer was just asked: first option, 4 on a scale, first pick + Done, or words."""
    asked = next((r for r in reversed(person.last) if r.choices), None)
    assert asked is not None, person.said
    tokens = [c.token for c in asked.choices if c.token not in ("back", "skip", "done")]
    if asked.layout == "scale":
        person.token(tokens[3])
    elif asked.layout == "multi":
        person.token(tokens[0])
        person.token("done")
    elif tokens:
        person.token(tokens[0])
    else:  # a free-text question offers only Back / Skip
        person.text(text)


def answer_n(person: Person, n: int) -> None:
    for _ in range(n):
        answer_current(person)
