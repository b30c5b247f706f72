"""The import rules from ARCHITECTURE.md, checked on the source (AST), so a violation fails the suite."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY_POINTS = {"admin/cli.py", "bot/__main__.py", "bot/runtime.py"}
DB_LIBS = {"sqlmodel", "sqlalchemy", "alembic"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


def rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


@pytest.mark.parametrize("package", ["bot", "content", "admin"])
def test_only_storage_touches_the_database(package: str) -> None:
    bad = {rel(p): sorted(m for m in imports_of(p) if top(m) in DB_LIBS) for p in sources(package)}
    bad = {k: v for k, v in bad.items() if v}
    assert bad == {}, f"database libraries imported outside storage/: {bad}"


def test_storage_imports_no_feature_packages() -> None:
    bad = {rel(p): sorted(m for m in imports_of(p) if top(m) in {"bot", "content", "admin"}) for p in sources("storage")}
    bad = {k: v for k, v in bad.items() if v and k != "storage/topics.py"}
    assert bad == {}


def test_content_imports_nothing_of_ours_but_itself() -> None:
    bad = {rel(p): sorted(m for m in imports_of(p) if top(m) in {"bot", "storage", "admin"}) for p in sources("content")}
    assert {k: v for k, v in bad.items() if v} == {}


def test_engine_is_pure() -> None:
    forbidden = {"storage", "telegram", "slack_bolt", "slack_sdk", "httpx", "aiohttp", "requests", "sqlmodel",
                 "sqlalchemy", "fastapi"}
    for p in sources("bot/engine"):
        mods = imports_of(p)
        assert not {m for m in mods if top(m) in forbidden or m.startswith("bot.channels")}, rel(p)
        assert "datetime.now" not in p.read_text(encoding="utf-8"), f"{rel(p)} reads the clock"


@pytest.mark.parametrize(("sdk", "homes"), [
    ("telegram", {"bot/channels/telegram.py", "bot/channels/telegram_http.py"}),
    ("slack_bolt", {"bot/channels/slack.py"}),
    ("slack_sdk", {"bot/channels/slack.py"}),
])
def test_each_sdk_lives_in_its_channel_modules(sdk: str, homes: set[str]) -> None:
    users = [rel(p) for pkg in ("bot", "content", "storage", "admin") for p in sources(pkg)
             if any(top(m) == sdk for m in imports_of(p))]
    assert set(users) <= homes, users


def test_channels_do_not_reach_storage_or_engine() -> None:
    for p in sources("bot/channels"):
        mods = imports_of(p)
        assert not {m for m in mods if top(m) == "storage" or m.startswith("bot.engine")}, rel(p)
