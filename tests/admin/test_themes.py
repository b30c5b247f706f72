"""Theme summaries through both doors (issue 19, 6): the admin's Themes page and `ourvoice report theme`,
one action (theme.write), audited, managers only, staff words checked by the scrubber."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from typer.testing import CliRunner

from admin.cli import app as cli
from storage import themes
from storage.models import AuditEntry
from tests.admin.conftest import PASSWORD, Admin, csrf_of
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

Q3 = (date(2026, 7, 1), date(2026, 9, 30))
WORDS = "Most said a good carer listens; several asked for more time to settle in."


def test_the_themes_page_writes_a_summary_and_refuses_others(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    admin.add_staff("worker", "participation_worker", ("east",))
    client, _ = admin.client_for("mgr")
    page = client.get("/admin/themes?period=2026-Q3")
    assert page.status_code == 200 and "good_foster_carer/anything_else" in page.text
    form = {"csrf_token": csrf_of(page.text), "period": "2026-Q3", "question": "good_foster_carer/anything_else"}
    named = client.post("/admin/themes", data={**form, "summary": "Jamie at Oakwood School loved it."})
    assert named.status_code == 400 and "[name]" in named.text
    saved = client.post("/admin/themes", data={**form, "summary": WORDS})
    assert saved.status_code == 200 and WORDS in saved.text
    with admin.db() as s:
        assert themes.theme_summary(s, "good_foster_carer", "anything_else", Q3) == WORDS
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "theme.write")).scalars().all()
        assert [a.actor for a in audit] == ["mgr"]
    worker, _ = admin.client_for("worker")
    assert worker.get("/admin/themes").status_code == 403


def test_report_theme_set_and_show_from_the_cli(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    env = {"OURVOICE_DATABASE_URL": str(admin.rt.engine.url), "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD}
    run = CliRunner().invoke
    args = ["report", "theme", "set", "--topic", "good_foster_carer", "--question", "anything_else",
            "--period", "2026-Q3", "--staff", "mgr"]
    ok = run(cli, [*args, "--summary", WORDS], env=env)
    assert ok.exit_code == 0, ok.output
    refused = run(cli, [*args, "--summary", "call me on 07700 900123"], env=env)
    assert refused.exit_code == 2 and "refused" in refused.output
    shown = run(cli, ["report", "theme", "show", "--period", "2026-Q3", "--staff", "mgr"], env=env)
    assert shown.exit_code == 0 and WORDS in shown.output, shown.output
    with admin.db() as s:
        assert themes.theme_summary(s, "good_foster_carer", "anything_else", Q3) == WORDS
