"""Which council's data a request may touch (issue 26 item 4): tenancy in one place, not in every query.

A council is a tenant: its participants, answers, staff, invites, audit log and reports are rows carrying its
`council_id`. Entry points (the admin web, the CLI, the chat channels, jobs) say which council is current with
`use(council_id)`; nothing below them passes a council around. Three things then hold every query to it:

* the application's filter: every ORM SELECT, UPDATE and DELETE gets `council_id = <current>` for each
  council-owned entity it touches (SQLAlchemy `do_orm_execute` + `with_loader_criteria`);
* stamping: a new row's `council_id` defaults to the current council (a column default, so ORM and Core
  inserts alike get it);
* on PostgreSQL, the database's own guard: every transaction starts with `ourvoice.council` set to the current
  council, and row-level security (migration 0016, FORCEd) shows, changes and accepts only that council's rows,
  whatever the query says. Core and raw SQL statements (the per-message fast path, bulk loads) are held by this
  guard alone; SQLite has no such guard, so it serves one council (`ourvoice council add` refuses there).

With no council set, the current council is the deployment's own (its council file's id): a single-council
deployment, `make demo` and every test that never mentions councils behave exactly as before.

Sign-in and redeeming an invite must find a row before anyone's council is known: `lookup()` opens a
read-only window for that (the app filter is off; on PostgreSQL only SELECT on the few tables named in
migration 0016 is admitted), and the caller then `use()`s the council the row names.

One part works across councils by design: the outbox sender (one bot per channel serves every council; the
invite, not the token, decides a person's council). `delivery()` opens its window: the app filter is off and,
on PostgreSQL, outbox_message alone admits SELECT and UPDATE of every council's rows (migration 0018).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Column, String, UniqueConstraint, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.sql.util import find_tables
from sqlmodel import SQLModel

# Tables that hold no council's data: the list of councils, the processes' own coordination, and rate limits
# on guesses made before anyone's council is known. Every other table is council-owned: a new table is
# guarded unless it is named here (deny by default).
NOT_COUNCIL_OWNED = frozenset({
    "council", "job_run", "sender_lease", "send_budget", "login_attempt", "attempt_counter", "alembic_version",
})
# Keys that were unique per deployment and are unique per council (migration 0016 made them so): two councils
# may each have a roll-up for a month, a theme summary, a panel's paper, or a channel message with one id.
PER_COUNCIL_UNIQUE: dict[str, tuple[str, ...]] = {
    "rollup_choice": ("period", "flow_id", "question_id", "choice", "council", "band", "district"),
    "rollup_reach": ("period", "audience", "council", "band", "district"),
    "theme_summary": ("topic_id", "question_id", "since", "until"),
    "panel_paper": ("panel_date",),
    "inbound_event": ("channel", "message_id"),
}
COUNCIL_SETTING = "ourvoice.council"
LOOKUP_SETTING = "ourvoice.lookup"
DELIVERY_SETTING = "ourvoice.delivery"

_CURRENT: ContextVar[str | None] = ContextVar("ourvoice_council", default=None)
_LOOKUP: ContextVar[bool] = ContextVar("ourvoice_council_lookup", default=False)
_DELIVERY: ContextVar[bool] = ContextVar("ourvoice_council_delivery", default=False)
OWNED: list[type] = []  # council-owned mapped classes (filled by own_tables)
_OWNED_NAMES: dict[str, type] = {}


class _Switch:
    """Test-only: `APP_FILTER.on = False` leaves row-level security as the only guard (the cross-council test
    proves that guard alone holds). Production code never turns it off."""

    on = True


APP_FILTER = _Switch()


@lru_cache(maxsize=1)
def default_id() -> str:
    """The deployment's own council: the id in $OURVOICE_COUNCIL_FILE, else in content/council.yaml.

    Read as a file (storage imports no content code); content.loader reads the same file for everything else."""
    configured = os.environ.get("OURVOICE_COUNCIL_FILE", "").strip()
    path = Path(configured) if configured else Path(__file__).resolve().parents[1] / "content" / "council.yaml"
    return str(yaml.safe_load(path.read_text(encoding="utf-8"))["id"])


def current() -> str:
    """The council this request works for."""
    return _CURRENT.get() or default_id()


def explicit() -> str | None:
    """The council an entry point set, or None (then the deployment's own council is current)."""
    return _CURRENT.get()


@contextmanager
def use(council_id: str) -> Iterator[str]:
    """Work for `council_id` inside the block (sessions opened inside it; a transaction keeps the council it
    began with)."""
    token = _CURRENT.set(council_id)
    try:
        yield council_id
    finally:
        _CURRENT.reset(token)


def enter(council_id: str) -> None:
    """Work for `council_id` for the rest of this context (a CLI process, one ASGI request's task)."""
    _CURRENT.set(council_id)


@contextmanager
def lookup() -> Iterator[None]:
    """Find a row before its council is known (sign-in, an invite code, a channel id). Read only: on PostgreSQL
    only SELECT on the lookup tables is admitted; never write inside."""
    token = _LOOKUP.set(True)
    try:
        yield
    finally:
        _LOOKUP.reset(token)


@contextmanager
def delivery() -> Iterator[None]:
    """The outbox sender's window: claim, renew, mark and release queued replies of every council. Only
    bot/outbox.py opens it, and only around outbox statements (PostgreSQL admits nothing else in it)."""
    token = _DELIVERY.set(True)
    try:
        yield
    finally:
        _DELIVERY.reset(token)


def own_tables(classes: list[type]) -> None:
    """Give every council-owned mapped class its `council_id` column, defaulting to the current council.

    Called once at the end of storage/models.py over every model, so a new table is council-owned unless it is
    in NOT_COUNCIL_OWNED."""
    for cls in classes:
        table = getattr(cls, "__table__", None)
        if table is None or table.name in NOT_COUNCIL_OWNED or "council_id" in table.c:
            continue
        cls.council_id = Column("council_id", String(40), nullable=False, default=current, index=True)  # type: ignore[attr-defined]
        OWNED.append(cls)
        _OWNED_NAMES[table.name] = cls
        if table.name in PER_COUNCIL_UNIQUE:
            _unique_per_council(table, PER_COUNCIL_UNIQUE[table.name])


def _unique_per_council(table: Any, cols: tuple[str, ...]) -> None:
    for constraint in list(table.constraints):
        if isinstance(constraint, UniqueConstraint) and tuple(c.name for c in constraint.columns) == cols:
            table.constraints.discard(constraint)
    for name in cols:
        table.c[name].unique = False
    table.append_constraint(UniqueConstraint("council_id", *cols, name=f"uq_{table.name}_council"))


def _filter(state: ORMExecuteState) -> None:
    council = _CURRENT.get()
    if council is None or not APP_FILTER.on or _LOOKUP.get() or _DELIVERY.get():
        return  # no entry point named a council: the deployment's own, alone in its database (or held by RLS)
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # a lazy load of an object already loaded under the filter
    state.statement = state.statement.options(*(_criterion(council, name) for name in _mentioned(state.statement)))


def _mentioned(statement: Any) -> list[str]:
    """Council-owned tables the statement reads or changes, anywhere in it (joins and subqueries included)."""
    found = find_tables(statement, check_columns=True, include_crud=True)
    return list(dict.fromkeys(name for t in found if (name := getattr(t, "name", None)) in _OWNED_NAMES))


@lru_cache(maxsize=4096)
def _criterion(council: str, table: str) -> Any:
    """`council_id = council` for one class, built once (SQLAlchemy caches the compiled statements)."""
    return with_loader_criteria(_OWNED_NAMES[table], lambda c: c.council_id == council, include_aliases=True)


event.listen(Session, "do_orm_execute", _filter)


def _set_guard(connection: Connection) -> None:
    connection.exec_driver_sql(
        "SELECT set_config(%s, %s, true), set_config(%s, %s, true), set_config(%s, %s, true)",
        (COUNCIL_SETTING, current(), LOOKUP_SETTING, "on" if _LOOKUP.get() else "off",
         DELIVERY_SETTING, "on" if _DELIVERY.get() else "off"),
    )


def guard(engine: Engine) -> None:
    """PostgreSQL: every transaction on this engine starts with the current council set for row-level security
    (Core connections too, not only sessions)."""
    if engine.dialect.name != "postgresql":
        return

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        _set_guard(conn)


def _own_every_model() -> None:
    import storage.models  # noqa: F401 - every table is defined before it is owned

    own_tables([m.class_ for m in SQLModel._sa_registry.mappers])


_own_every_model()
