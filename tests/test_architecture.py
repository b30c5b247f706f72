"""The import rules from ARCHITECTURE.md, checked on the source (AST), so a violation fails the suite."""

from __future__ import annotations

import ast
import re
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
    ("telegram", {f"bot/channels/telegram/{m}.py" for m in ("channel", "render", "runner", "translate")}),
    ("slack_bolt", {"bot/channels/slack/runner.py"}),
    ("slack_sdk", {f"bot/channels/slack/{m}.py" for m in ("channel", "notices", "runner")}),
])
def test_each_sdk_lives_in_its_channel_modules(sdk: str, homes: set[str]) -> None:
    users = [rel(p) for pkg in ("bot", "content", "storage", "admin") for p in sources(pkg)
             if any(top(m) == sdk for m in imports_of(p))]
    assert set(users) <= homes, users


def test_channels_do_not_reach_storage_or_engine() -> None:
    for p in sources("bot/channels"):
        mods = imports_of(p)
        assert not {m for m in mods if top(m) == "storage" or m.startswith("bot.engine")}, rel(p)


# ------------------------------------------------------------------------------------------ import cycles

PRODUCTION = ("bot", "content", "storage", "admin")
# A dotted name of ours in a string ("admin.commands.x" or "pkg.mod:attr") is followed like an import:
# importlib and registries that name modules are still dependencies.
_DOTTED = re.compile(r"^([a-z_]+(?:\.[a-z_0-9]+)+)(?::[a-z_0-9]+)?$")


# Issue 21: no import cycle among production modules. The last ones (the generated role table reading the
# route modules, quote checks reaching the composition root, `report theme` under `report`) were broken by
# 2026-12-06; a new one fails the test below.


def module_graph() -> dict[str, set[str]]:
    """Every production module -> the production modules it imports (anywhere in the file, including inside
    functions, and names given as strings)."""
    mods: dict[str, Path] = {}
    for pkg in PRODUCTION:
        for p in sources(pkg):
            name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = p

    def resolve(name: str) -> str | None:
        while name:
            if name in mods:
                return name
            name = name.rpartition(".")[0]
        return None

    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        package = m if path.name == "__init__.py" else m.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found = _DOTTED.match(node.value)
                if found and top(found.group(1)) in PRODUCTION:
                    targets = [found.group(1)]
            for t in targets:
                r = resolve(t)
                if r is not None and r != m:
                    graph[m].add(r)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of two or more modules (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, edges = work[-1]
            w = next(edges, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    x = stack.pop()
                    on_stack.discard(x)
                    comp.add(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    found.append(frozenset(comp))
    return found


def test_cycle_finder_follows_strings_and_function_level_imports() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [frozenset({"a", "b", "c"})]
    built = module_graph()
    assert "bot.telegram_service" in built["bot.runtime"]  # a plain import
    assert "admin.web.app" in built["bot.runtime"]


def test_no_import_cycles() -> None:
    """No import cycle among production modules, following imports inside functions and module names given as
    strings: a cycle makes a module's meaning depend on import order, and it hides where a change lands."""
    found = [sorted(c) for c in cycles(module_graph())]
    assert found == [], f"import cycles: {found}"


def _test_imports(path: Path) -> set[str]:
    """The tests.* modules a test file imports (top-level and inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("tests."):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("tests.")}
    return found


def test_no_test_module_imports_another_test_module() -> None:
    """Shared helpers live in tests/support, fixtures in conftest, fakes in tests/fakes: a test file stands alone."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(m for m in _test_imports(path) if m.rsplit(".", 1)[-1].startswith("test_"))
        for path in (ROOT / "tests").rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_one_hand_moved_clock() -> None:
    """Every test moves time with tests/support/clock.py's Clock, not a copy of its own."""
    copies = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "tests").rglob("*.py")
        if re.search(r"^class \w*Clock\b", path.read_text(encoding="utf-8"), re.M) and path.parent.name != "support"
    ]
    assert copies == []


def test_the_readme_traces_one_message_in_at_most_eight_steps_through_files_that_exist() -> None:
    """Issue 21: a newcomer follows one message from channel to database to reply in the README. The trace goes
    stale silently when a module moves, so every step must name a file and every file named must exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## How it fits together", 1)[1].split("\n## ", 1)[0]
    steps = re.findall(r"^(\d+)\. \*\*(.+?)\*\*(.*?)(?=^\d+\. |^\S|\Z)", section, flags=re.M | re.S)
    assert 1 <= len(steps) <= 8, [s[1] for s in steps]
    for number, title, body in steps:
        named = re.findall(r"`([a-z_/]+\.py)`", title + body)
        assert named, f"step {number} ({title}) names no file"
        missing = [f for f in named if not (ROOT / f).is_file()]
        assert missing == [], f"step {number} ({title}) names files that do not exist: {missing}"
