"""A test's own SQLite database, copied from the one the session migrated (tests/conftest.py)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def copy_migrated(template: Path, directory: Path) -> str:
    """A private copy of the migrated template as `directory`/ourvoice.db, and its URL."""
    target = directory / "ourvoice.db"
    for suffix in ("", "-wal"):  # the last connection folds the WAL in on close; copy it if one is left
        source = template.with_name(template.name + suffix)
        if source.exists():
            copy = target.with_name(target.name + suffix)
            shutil.copyfile(source, copy)
            os.chmod(copy, 0o600)
    return f"sqlite:///{target}"
