"""Every message ourvoice sends first passes the one rule (issue 25 item 3, bot/reach.py): only reach.py and the reply
path write participants' outbox rows, and only bot/notify.py (after reach.decide) queues texts and emails. Checked on
the source (AST), so a new `outbox.add(...)` somewhere else fails here and has to go through bot.reach.send_first."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Where a row may be written, and why that place is allowed.
ALLOWED = {
    ("outbox", "add"): {
        "bot/reach.py": "the one rule itself",
        "bot/dispatcher.py": "the reply path: answers to what someone just wrote are not sent first",
        "bot/mail_queue.py": "staff notices and review statements by email (to staff addresses, never to people "
        "taking part)",
    },
    ("notify_store", "queue"): {"bot/notify.py": "notify_first, after reach.decide"},
}
MODELS = {"OutboxMessage", "NotifyMessage"}  # rows built by hand would slip past the rule


def writers() -> dict[tuple[str, str], set[str]]:
    """(module alias, function) -> the files outside storage that call it; plus ("model", name) for rows built."""
    found: dict[tuple[str, str], set[str]] = {}
    for package in ("bot", "admin", "content"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = str(path.relative_to(ROOT))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                f = node.func
                if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
                    key = (f.value.id, f.attr)
                    if key in ALLOWED:
                        found.setdefault(key, set()).add(rel)
                elif isinstance(f, ast.Name) and f.id in MODELS:
                    found.setdefault(("model", f.id), set()).add(rel)
    return found


def test_only_the_one_rule_and_the_reply_path_queue_messages() -> None:
    found = writers()
    for key, files in found.items():
        allowed = ALLOWED.get(key, {})
        assert files <= set(allowed), f"{key[0]}.{key[1]} called outside the one rule: {sorted(files - set(allowed))}"
    assert found[("outbox", "add")] >= {"bot/reach.py", "bot/dispatcher.py"}  # the scan sees them at all


def test_no_module_imports_the_queue_functions_by_name() -> None:
    # `from storage.outbox import add` would hide a call from the scan above.
    for package in ("bot", "admin"):
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module in {"storage.outbox", "storage.notify_store"}:
                    names = {a.name for a in node.names}
                    assert not names & {"add", "queue"}, str(path.relative_to(ROOT))


def test_event_notices_and_safeguarding_follow_ups_go_through_reach() -> None:
    # The places that used to write rows themselves (issue 25 item 4) now call the rule.
    for rel, purpose in (("admin/jobs/events.py", "event_invitation"), ("admin/jobs/alerts.py", "safeguarding"),
                         ("admin/actions/alerts.py", "safeguarding")):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert f'purpose="{purpose}"' in text and "outbox.add" not in text, rel
