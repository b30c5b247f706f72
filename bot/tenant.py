"""Serving one council's request (issue 26 item 4): the one call entry points make.

`serving(engine, council_id)` makes the council current for the database (storage/tenancy: the app's filter,
new rows' council_id, PostgreSQL's row-level security) and for content (content.loader.current_council: its
districts, help numbers, labels), together, so the two can never disagree. Entry points find the council
from what they are handed: the admin web from the signed-in staff account, the CLI from --council or the
signing-in account, the chat from the invite code or the person's channel id (the invite decides which
council a participant belongs to).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from threading import Lock
from typing import Any

from content.loader import ContentInvalid, own_council, parse_council, serve
from content.loader import serving as content_serving
from content.schema import Council
from storage import councils, tenancy
from storage.db import session

_CACHE: dict[tuple[str, str], Council] = {}
_LOCK = Lock()


class UnknownCouncil(LookupError):
    """No such council on this service."""


def content_of(engine: Any, council_id: str) -> Council:
    """The council's file: the deployment's own from disk, an added one from the council table (kept per
    process once read: a council's file changes only by adding it again under a new id)."""
    if council_id == tenancy.default_id():
        return own_council()
    key = (str(engine.url), council_id)
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    with session(engine) as s:
        row = councils.get(s, council_id)
        text = row.council_yaml if row is not None else None
    if text is None:
        raise UnknownCouncil(council_id)
    council = parse_council(text, f"council {council_id}")
    with _LOCK:
        _CACHE[key] = council
    return council


@contextmanager
def serving(engine: Any, council_id: str) -> Iterator[str]:
    """Inside the block, the database and the content both answer for `council_id`."""
    content = content_of(engine, council_id)
    with tenancy.use(council_id), content_serving(content):
        yield council_id


def enter(engine: Any, council_id: str) -> None:
    """For the rest of this context (a CLI process), serve `council_id`."""
    content = content_of(engine, council_id)
    tenancy.enter(council_id)
    serve(content)


def add(engine: Any, text: str, *, actor: str, now: datetime | None = None) -> Council:
    """Add a council from its file's text: validated as content, refused on SQLite (no row-level security to
    keep two councils apart) and for an id already here. Its first audit row says who added it."""
    from storage import audit

    if engine.dialect.name != "postgresql":
        raise ValueError("several councils need PostgreSQL (row-level security keeps them apart); "
                         "SQLite serves the deployment's own council only")
    council = parse_council(text)
    when = now or datetime.now(UTC)
    with session(engine) as s:
        if councils.bypasses_row_security(s):
            raise ValueError("this database account bypasses row-level security (a superuser or BYPASSRLS): "
                             "several councils need the service to connect as an ordinary role")
        if councils.get(s, council.id) is not None or council.id == tenancy.default_id():
            raise ValueError(f"council {council.id} is already on this service")
        councils.add(s, council_id=council.id, name=council.name, council_yaml=text, now=when)
    with tenancy.use(council.id), session(engine) as s:
        audit.record(s, actor=actor, action="council.add", target=f"council:{council.id}", now=when)
    return council


def listing(engine: Any) -> list[councils.CouncilRow]:
    with session(engine) as s:
        return councils.list_councils(s)


def council_of_staff(engine: Any, username: str) -> str | None:
    with session(engine) as s:
        return councils.council_of_staff(s, username)


def council_of_staff_session(engine: Any, id_hash: str) -> str | None:
    with session(engine) as s:
        return councils.council_of_staff_session(s, id_hash)


__all__ = ["ContentInvalid", "UnknownCouncil", "add", "content_of", "enter", "listing", "serving"]
