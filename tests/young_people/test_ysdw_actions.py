"""'You said, we did' carries what staff recorded with `report action add` (issue 20 item 3): sent after a
Panel to everyone who took part in the period, even when no card moved."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from admin.jobs.you_said_we_did import run
from bot.features.young_people import PanelSettings
from storage import report_actions
from storage.db import session
from storage.models import OutboxMessage
from tests.young_people.conftest import join


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T10:05:00+00:00").astimezone(UTC)


def notices(rt) -> dict[int, list[str]]:
    with session(rt.engine) as s:
        rows = s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars().all()
    out: dict[int, list[str]] = {}
    for r in rows:
        out.setdefault(r.participant_id or 0, []).append(r.payload_json)
    return out


def test_staff_actions_reach_everyone_who_took_part_without_any_card(rt) -> None:
    rt.panel_settings = PanelSettings(panel_dates="2026-11-10,2026-12-03", _env_file=None)
    checker = join(rt, "a-checker", "teen")  # took part (wellbeing), raised no card
    checker.press("\U0001f4ac")
    for _ in range(6):
        checker.press("Skip")
    older = join(rt, "a-older", "young_adult")  # took part in another council
    older.press("\U0001f4ac")
    for _ in range(6):
        older.press("Skip")
    bystander = join(rt, "a-bystander", "teen")  # only said hello
    ids = {name: p.text("hello").participant_id for name, p in
           (("checker", checker), ("older", older), ("bystander", bystander))}
    with session(rt.engine) as s:
        report_actions.add(s, said="Bus passes come weeks late.", did="Passes are ordered when the place is offered.",
                           by="sam", now=at("2026-11-20"))
    assert run(rt, now=at("2026-12-04")).startswith("panel=2026-12-03")
    sent = {pid: [b for b in bodies if "Passes are ordered when the place is offered." in b]
            for pid, bodies in notices(rt).items()}
    assert sent.get(ids["checker"]) and sent.get(ids["older"])
    assert not sent.get(ids["bystander"])
    assert "Bus passes come weeks late." in sent[ids["checker"]][0]
    assert run(rt, now=at("2026-12-05")) == "nothing due"  # once per Panel and council
