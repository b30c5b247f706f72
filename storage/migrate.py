"""Run Alembic migrations from code (no alembic.ini needed): `ourvoice db upgrade` and start-up.

Alembic is imported only when a migration has to run: importing it loads every database dialect's DDL
support (about 0.17 s), and a restart after a crash almost always finds the database already current
(issue 27: restart to first poll). `ensure_current` checks that cheaply and calls Alembic only when needed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
# The two lines every migration file here has (Alembic's template): `revision: str = "..."` and
# `down_revision: str | None = "..."` (or None). Anything else (a merge's tuple) makes the quick check give up.
_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(.+?)\s*$", re.MULTILINE)
_ID = re.compile(r"""^(?:None|(['"])([0-9A-Za-z_]+)\1)$""")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; creates the SQLite folder if needed."""
    from alembic import command

    from storage.db import make_engine

    engine = make_engine(url)  # creates var/ for SQLite and applies pragmas
    engine.dispose()
    command.upgrade(alembic_config(url), revision)


def heads_in_files(versions: Path = VERSIONS) -> frozenset[str] | None:
    """The head revisions of the migration files, read from their `revision`/`down_revision` lines, or None
    when a file does not have exactly one of each in the plain form (then only Alembic can say)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted(versions.glob("*.py")):
        lines = _LINE.findall(path.read_text(encoding="utf-8"))
        found = dict(lines)
        if len(lines) != 2 or set(found) != {"revision", "down_revision"}:
            return None
        this, parent = _ID.match(found["revision"]), _ID.match(found["down_revision"])
        if this is None or parent is None or not this.group(2):
            return None
        revisions.add(this.group(2))
        if parent.group(2):
            parents.add(parent.group(2))
    return frozenset(revisions - parents) or None


def current_revisions(url: str) -> frozenset[str]:
    """The revisions the database says it is at (empty when it has never been migrated)."""
    from sqlalchemy import inspect, text

    from storage.db import make_engine

    engine = make_engine(url)  # also creates var/ and tightens the SQLite file's mode, as upgrade() does
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return frozenset()
            return frozenset(str(r[0]) for r in conn.execute(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()


def ensure_current(url: str) -> bool:
    """Bring the database to the head revision; True if Alembic had to run.

    Skips Alembic (and its import) when the database already records exactly the heads of the migration
    files. Any doubt (no version table, another revision, a file the quick check cannot read) runs it."""
    heads = heads_in_files()
    if heads is not None and current_revisions(url) == heads:
        return False
    upgrade(url, "head")
    return True


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the models (developer tool)."""
    from alembic import command

    command.revision(alembic_config(url), message=message, autogenerate=True)


def create_missing_tables(url: str) -> None:
    """Test helper: create tables a feature added to models.py before its migration is generated."""
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401
    from storage.db import make_engine

    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
