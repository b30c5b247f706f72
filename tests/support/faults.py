"""Faults the tests inject into a running runtime: the database going away and coming back."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storage.db import make_engine


@contextmanager
def database_down(rt: Any, url: str) -> Iterator[None]:
    """Make the database unreachable for the running runtime, then bring it back.

    SQLite: close pooled connections and replace the database's folder by a plain file, so opening
    fails even for root. PostgreSQL: point the runtime at a port where nothing listens.
    """
    if url.startswith("sqlite"):
        folder = Path(url.split("///", 1)[1]).parent
        away = folder.with_name("dbdir-away")
        rt.engine.dispose()
        os.rename(folder, away)
        folder.write_text("the database folder is gone")
        try:
            yield
        finally:
            rt.engine.dispose()
            folder.unlink()
            os.rename(away, folder)
    else:
        real = rt.dispatcher.engine
        dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:9/postgres?connect_timeout=2")
        rt.dispatcher.engine = rt.engine = dead
        try:
            yield
        finally:
            rt.dispatcher.engine = rt.engine = real
            dead.dispose()
