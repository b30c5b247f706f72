"""Fixtures for the staff admin: a runtime with an injectable clock, the ASGI app, staff of every role."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy import update

from admin.actions import staff as staff_actions
from admin.actions.policy import Actor
from bot.runtime import build_app, build_runtime
from content.loader import load_library
from storage import participants, submissions
from storage import staff as staff_store
from storage.db import session
from storage.migrate import create_missing_tables, upgrade
from storage.models import Participant
from tests.conftest import make_settings
from tests.helpers import Person
from tests.support.clock import Clock

PASSWORD = "a long test password 42"
TEST_PUBLIC_URL = "http://testserver"  # starlette's TestClient's own base URL
SETUP = Actor("test", "participation_manager")  # creates the test accounts


@dataclass
class Admin:
    rt: Any
    app: Any
    clock: Clock
    client: TestClient

    @property
    def web(self) -> Any:
        return self.app.state.ourvoice_admin

    def db(self) -> Any:
        return session(self.rt.engine)

    def add_staff(
        self, username: str, role: str, districts: tuple[str, ...] = (), *, password: str = PASSWORD
    ) -> Any:
        # Built directly (checks, hash, audit row), not through add_staff's two-manager rule: fixtures set up
        # several managers at once with no one signed in (tests/admin/test_signin.py tests the rule itself).
        with self.db() as s:
            return staff_actions._create(
                s,
                username=username,
                role=role,
                districts=districts,
                password=password,
                now=self.clock.now,
                by=SETUP.username,
                hasher=self.web.hasher,
            )

    def session_for(self, username: str) -> tuple[str, str]:
        """(raw session id, csrf token) for a signed-in staff member, without going through the form."""
        from storage import staff as staff_store

        with self.db() as s:
            view = staff_store.by_username(s, username)
            assert view is not None
            raw = self.web.auth.start(s, view.id, now=self.clock.now)
        return raw, self.web.auth.csrf_for(raw)

    def client_for(self, username: str) -> tuple[TestClient, str]:
        """A new client signed in as `username`, and its CSRF token."""
        raw, csrf = self.session_for(username)
        c = TestClient(self.app, follow_redirects=False)
        c.cookies.set("ov_admin", raw, domain="testserver.local", path="/admin")
        return c, csrf

    def login(self, username: str, password: str = PASSWORD, client: TestClient | None = None) -> Any:
        """Sign in through the real form; returns the POST response."""
        c = client or self.client
        page = c.get("/admin/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return c.post("/admin/login", data={"username": username, "password": password, "csrf_token": token})


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


class MemoHasher(PasswordHasher):
    """The production Argon2id parameters, but each distinct password is hashed once per test run.

    Verification stays real (and as slow as in production); only repeated account set-up gets cheaper.
    """

    _memo: dict[str, str] = {}

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        key = password if isinstance(password, str) else password.decode()
        if key not in self._memo:
            self._memo[key] = super().hash(password)
        return self._memo[key]


def memo_hasher() -> MemoHasher:
    ph = staff_actions.password_hasher()
    return MemoHasher(
        time_cost=ph.time_cost,
        memory_cost=ph.memory_cost,
        parallelism=ph.parallelism,
        hash_len=ph.hash_len,
        salt_len=ph.salt_len,
        type=ph.type,
    )


@pytest.fixture(scope="session")
def _shared_content() -> Any:
    """Content loaded once per run (the runtime caches the compiled lexicon itself)."""
    return load_library()


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated empty SQLite file, copied for each test instead of migrating again."""
    path = tmp_path_factory.mktemp("admin-template") / "ourvoice.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    create_missing_tables(url)
    return path


def fresh_db(template: Path, folder: Path) -> str:
    target = folder / "ourvoice.db"
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(template) + suffix)
        if src.exists():
            shutil.copyfile(src, Path(str(target) + suffix))
    return f"sqlite:///{target}"


def make_admin(url: str, tmp_path: Path, library: Any, **settings: Any) -> Admin:
    # TestClient sends Host "testserver": configure it as the public URL (the admin refuses unknown hosts).
    settings.setdefault("public_url", TEST_PUBLIC_URL)
    clock = Clock()
    rt = build_runtime(make_settings(url, tmp_path, **settings), library=library)
    rt.clock = clock
    rt.password_hasher = memo_hasher()
    app = build_app(rt)
    return Admin(rt, app, clock, TestClient(app, follow_redirects=False))


@pytest.fixture
def admin(_template_db: Path, _shared_content: Any, tmp_path: Path) -> Iterator[Admin]:
    a = make_admin(fresh_db(_template_db, tmp_path), tmp_path, _shared_content)
    yield a
    a.client.close()
    a.rt.engine.dispose()


def people_with_check_ins(admin: Admin, district: str, n: int, *, council: str = "ocypc", band: str = "teen") -> list[int]:
    """n young people in a district, each with one answered wellbeing check-in; returns submission ids."""
    ids = []
    with admin.db() as s:
        for i in range(n):
            p, _ = participants.create(
                s,
                key_hash=f"{district}-{council}-{i}",
                channel="web",
                address_enc=None,
                now=admin.clock.now,
                band=band,
                district=district,
                council=council,
            )
            sub = submissions.get_or_start(s, p, "wellbeing", 1, now=admin.clock.now)
            submissions.put_answer(
                s,
                sub,
                "feel_safe",
                3 + i % 2,
                skipped=False,
                free_text=False,
                quarantined=False,
                now=admin.clock.now,
            )
            ids.append(sub.id)
    return ids


def add_staff(admin: Admin, username: str, role: str, districts: tuple[str, ...] = ()) -> None:
    with admin.db() as s:
        staff_store.create(
            s, username=username, role=role, districts=districts,
            password_hash=admin.web.hasher.hash(PASSWORD), now=admin.clock.now,
        )


def young_person(admin: Admin, sender: str, district: str | None, *, now: datetime | None = None) -> Person:
    """A teen on web chat, at the main menu, living in `district`."""
    p = Person(admin.rt.dispatcher, sender, now=now or admin.clock.now)
    p.text("hi")
    joined = p.press("I'm 11 to 16")
    with admin.db() as s:
        s.execute(update(Participant).values(district=district).where(Participant.id == joined.participant_id))
    return p


def good_news(p: Person, words: str) -> Any:
    """Share good news through the chat: one free-text answer."""
    if not any(b.startswith("🎉") for b in p.buttons):
        p.command("menu")
    p.press("🎉")
    p.feel("😀")
    return p.text(words)
