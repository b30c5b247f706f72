"""A fresh PostgreSQL database for two councils (issue 26 item 4): migrated by its owner, used by the app as an
ordinary role (superusers and BYPASSRLS roles ignore row-level security), with Borsetshire added beside the
deployment's own council (Kent, from content/council.yaml)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.conftest import PG_URL

BORSETSHIRE_FILE = Path(__file__).resolve().parents[1] / "admin" / "councils" / "borsetshire.yaml"
APP_ROLE = "ourvoice_tenancy_app"


def pg_url(db: str, user: str | None = None) -> str:
    base = sa.engine.make_url(PG_URL)
    return base.set(database=db, username=user or base.username).render_as_string(hide_password=False)


def council_database(db: str) -> str:
    """Drop and create `db`, migrate it as the owner, grant the app role; returns the app role's URL."""
    from storage.migrate import upgrade

    root = sa.create_engine(pg_url("postgres"), isolation_level="AUTOCOMMIT")
    with root.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        c.execute(sa.text(f"CREATE DATABASE {db}"))
        c.execute(sa.text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') "
                          f"THEN CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"))
    root.dispose()
    upgrade(pg_url(db))
    owner = sa.create_engine(pg_url(db))
    with owner.begin() as c:
        c.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"))
        c.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}"))
    owner.dispose()
    return pg_url(db, APP_ROLE)


def rows_by_council(db: str, table: str) -> dict[str, int]:
    """How many rows of `table` each council has, read from outside the app (as the server's superuser, whom
    row-level security does not hold)."""
    owner = sa.create_engine(pg_url(db))
    try:
        with owner.begin() as c:
            found = c.execute(sa.text(f"SELECT council_id, count(*) FROM {table} GROUP BY council_id"))
            return {str(council): int(n) for council, n in found}
    finally:
        owner.dispose()


def sealed_by_council(db: str, table: str) -> list[tuple[str, bytes]]:
    """(council, encrypted address) of every row of `table` that holds one, read from outside the app."""
    owner = sa.create_engine(pg_url(db))
    try:
        with owner.begin() as c:
            found = c.execute(sa.text(f"SELECT council_id, address_enc FROM {table} WHERE address_enc IS NOT NULL"))
            return [(str(council), bytes(token)) for council, token in found]
    finally:
        owner.dispose()
