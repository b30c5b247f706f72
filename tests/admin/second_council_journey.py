"""One journey and one report for whichever council $OURVOICE_COUNCIL_FILE names, as JSON facts in facts.json.

tests/admin/test_second_council.py runs this in a fresh interpreter: the council file is read once per process,
exactly as a deployment reads it, so the only thing that changes between councils is that one setting.
"""

from __future__ import annotations

import json
import sys
from datetime import date, timedelta
from pathlib import Path

from admin.reports import registry
from admin.reports.settings import ReportSettings
from bot.dispatcher import DispatchResult
from bot.identity import IdentitySettings, create_invites, invite_onboarding
from bot.runtime import build_runtime
from storage.db import session
from storage.migrate import create_missing_tables, upgrade
from tests.conftest import fixed_now, make_settings
from tests.helpers import Person


def _words(result: DispatchResult) -> list[str]:
    return [r.text for r in result.replies] + [c.label for r in result.replies for c in r.choices]


def main(tmp: Path, district: str, council: str) -> dict[str, object]:
    url = f"sqlite:///{tmp / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    now = fixed_now()  # a Tuesday morning: office hours
    rt = build_runtime(make_settings(url, tmp))
    rt.dispatcher.onboarding = invite_onboarding(
        rt.keyring, rt.settings, rt.library, identity=IdentitySettings(_env_file=None)  # type: ignore[call-arg]
    )
    replies: list[str] = []
    for n in range(6):
        with session(rt.engine) as s:
            _, made = create_invites(
                s, rt.keyring, role="young_person", age_band="11-16", district=district, council=council,
                expires_days=30, count=1, public_url="", bot_username="", created_by="pat", now=now,
            )
        p = Person(rt.dispatcher, f"yp-{n}", now=now)
        replies += _words(p.command("start", made[0].code))
        replies += _words(p.press("OK, let's go"))
        replies += _words(p.press("💬"))  # a topic from the menu
        p.feel("😀")
        replies += _words(p.press("🙂") if any(c.label.startswith("🙂") for r in p.last for c in r.choices) else p.text("ok"))
        if n == 0:
            replies += _words(p.text("my stepdad hits me"))
    with session(rt.engine) as s:
        out = registry.produce(
            "ocypc", s, rt.library, since=date(2026, 11, 1), until=date(2026, 11, 30), now=now + timedelta(days=10),
            settings=ReportSettings(_env_file=None, reports_dir=str(tmp / "reports"), panel_dates=""),  # type: ignore[call-arg]
            fmt="md",
        )
    rt.notifier.stop()
    return {"replies": replies, "report": out.data.decode("utf-8")}


if __name__ == "__main__":
    tmp = Path(sys.argv[1])
    (tmp / "facts.json").write_text(json.dumps(main(tmp, sys.argv[2], sys.argv[3])), encoding="utf-8")
