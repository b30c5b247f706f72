"""Run Alembic migrations from code (no alembic.ini needed): `ourvoice db upgrade` and start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; creates the SQLite folder if needed."""
    from storage.db import make_engine

    engine = make_engine(url)  # creates var/ for SQLite and applies pragmas
    engine.dispose()
    command.upgrade(alembic_config(url), revision)


def revision(url: str, message: str) -> None:
    """Autogenerate a migration from the models (developer tool)."""
    command.revision(alembic_config(url), message=message, autogenerate=True)


def create_missing_tables(url: str) -> None:
    """Test helper: create tables a feature added to models.py before its migration is generated."""
    from sqlmodel import SQLModel

    import storage.models  # noqa: F401
    from storage.db import make_engine

    engine = make_engine(url)
    SQLModel.metadata.create_all(engine)
    engine.dispose()
