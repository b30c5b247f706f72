"""Fixtures for the identity tests: one shared SQLite runtime per module for tests that only add rows."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.runtime import Runtime
from storage.migrate import create_missing_tables, upgrade
from tests.identity.util import make_rt


@pytest.fixture(scope="module")
def shared_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """A migrated SQLite database and runtime shared by a module's tests (each uses its own senders)."""
    tmp = tmp_path_factory.mktemp("identity")
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = make_rt(url, tmp)
    yield rt
    rt.engine.dispose()
