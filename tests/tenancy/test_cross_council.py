"""Two councils in one PostgreSQL database (issue 26 item 4): every admin page one council's staff can open
shows nothing of the other's, with the application's own filter on, and again with it switched off so the
database's row-level security is the only guard. The app connects as an ordinary role (superusers bypass RLS).

Sentinels: each council's staff usernames, an event title, an invite batch, a good-news text and its own
district names (from its council file). Pages are walked once per council as a participation manager (who sees
most) and the audit log as its auditor.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import PG_URL, REQUIRE_PG

pytestmark = pytest.mark.skipif(not PG_URL and not REQUIRE_PG, reason="needs PostgreSQL (OURVOICE_TEST_POSTGRES_URL)")

BORSETSHIRE = Path(__file__).resolve().parents[1] / "admin" / "councils" / "borsetshire.yaml"
DB = "ourvoice_tenancy_test"
ROLE = "ourvoice_tenancy_app"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
SENTINELS = {
    "kent": ("mgr-kent", "Kestrel Kent meeting", "KENTBATCH", "Kent kestrel news", "Thanet"),
    "borsetshire": ("mgr-borsetshire", "Badger Borsetshire meeting", "BORSBATCH", "Borsetshire badger news",
                    "Hollerton"),
}

# Seen only in a report of November 2026 (an event's title, a good-news text) and in a subject-access export (a
# case reference).
REPORT_SENTINELS = {
    "kent": (("Kestrel November forum", "we won the kestrel quiz at the youth club"), "P-KENTSEN"),
    "borsetshire": (("Badger November forum", "we won the badger quiz at the youth club"), "P-BORSSEN"),
}


def _url(db: str, user: str | None = None) -> str:
    base = sa.engine.make_url(PG_URL)
    return base.set(database=db, username=user or base.username).render_as_string(hide_password=False)


def _seed(engine: Any, council: str, admin: Any) -> None:
    from bot import tenant
    from storage.db import session
    from storage.models import GoodNews, Invite, Participant, ParticipationEvent

    mgr, event, batch, news, _district = SENTINELS[council]
    in_reports, in_export = REPORT_SENTINELS[council]
    with tenant.serving(engine, council):
        admin.add_staff(mgr, "participation_manager")
        admin.add_staff(f"aud-{council}", "auditor")
        with session(engine) as s:
            code = "1" if council == "kent" else "2"  # six digits, as real check-in codes are
            s.add(ParticipationEvent(kind="activity_day", title=event, held_on=date(2026, 12, 10),
                                     short_code=f"{code}00001", created_by=mgr, created_at=NOW))
            s.add(Invite(code_hash=f"hash-{council}", batch=batch, audience="young_person", band="teen",
                         created_by=mgr, created_at=NOW, expires_at=NOW + timedelta(days=30)))
            s.add(GoodNews(text=news, created_at=NOW))
            # What a report of November and a subject-access export would show: an event held and good news
            # approved in November, and a young person with their case reference.
            s.add(ParticipationEvent(kind="activity_day", title=in_reports[0], held_on=date(2026, 11, 12),
                                     short_code=f"{code}00002", created_by=mgr, created_at=NOW))
            s.add(GoodNews(text=in_reports[1], status="approved", consent=True, band="teen",
                           created_at=datetime(2026, 11, 14, 12, tzinfo=UTC), decided_at=NOW, decided_by=mgr))
            s.add(Participant(case_ref=in_export, audience="young_person", band="teen", created_at=NOW))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from bot import tenant
    from content.loader import load_library
    from storage.migrate import upgrade
    from tests.admin.conftest import make_admin

    root = sa.create_engine(_url("postgres"), isolation_level="AUTOCOMMIT")
    with root.connect() as c:
        c.execute(sa.text(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)"))
        c.execute(sa.text(f"CREATE DATABASE {DB}"))
        c.execute(sa.text(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{ROLE}') "
                          f"THEN CREATE ROLE {ROLE} LOGIN NOSUPERUSER NOBYPASSRLS; END IF; END $$"))
    upgrade(_url(DB))  # as the owner
    owner = sa.create_engine(_url(DB))
    with owner.begin() as c:
        c.execute(sa.text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {ROLE}"))
        c.execute(sa.text(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {ROLE}"))
        assert not c.execute(sa.text(f"SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname='{ROLE}'")).scalar()
    owner.dispose()
    admin = make_admin(_url(DB, ROLE), tmp_path_factory.mktemp("tenancy"), load_library())
    admin.clock.now = NOW
    tenant.add(admin.rt.engine, BORSETSHIRE.read_text(encoding="utf-8"), actor="operator", now=NOW)
    for council in SENTINELS:
        _seed(admin.rt.engine, council, admin)
    yield admin
    admin.client.close()
    admin.rt.engine.dispose()
    root.dispose()


def _pages(admin: Any) -> list[str]:
    """Every admin GET page without a path parameter (the sign-in form and static files aside)."""
    from admin.web.policy import route_table

    out = []
    for info in route_table(admin.app):
        if "GET" in info.methods and info.path.startswith("/admin") and "{" not in info.path \
                and info.path != "/admin/login":
            out.append(info.path)
    return sorted(set(out))


def _walk(admin: Any, council: str) -> dict[str, str]:
    """The text of every page as this council's manager (and the audit log as its auditor)."""
    from bot import tenant

    texts = {}
    for who in (f"mgr-{council}", f"aud-{council}"):
        with tenant.serving(admin.rt.engine, council):  # the session row is made in the account's council
            client, _ = admin.client_for(who)
        for path in _pages(admin):
            resp = client.get(path)
            if resp.status_code in (403, 404):
                continue
            assert resp.status_code == 200, (who, path, resp.status_code)
            texts[f"{who} {path}"] = re.sub(r"\s+", " ", resp.text)
        client.close()
    return texts


def _leaks(admin: Any) -> tuple[list[str], int]:
    leaks, own = [], 0
    for council, other in (("kent", "borsetshire"), ("borsetshire", "kent")):
        pages = _walk(admin, council)
        own += sum(any(s in text for s in SENTINELS[council]) for text in pages.values())
        leaks += [f"{page}: {s}" for page, text in pages.items() for s in SENTINELS[other] if s in text]
    return leaks, own


def test_no_admin_page_shows_the_other_councils_data(world: Any) -> None:
    leaks, own = _leaks(world)
    assert own >= 6, "each council's pages show its own sentinels (events, invites, good news, staff, districts)"
    assert leaks == []


def test_row_level_security_alone_keeps_them_apart(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import tenancy

    monkeypatch.setattr(tenancy.APP_FILTER, "on", False)
    leaks, own = _leaks(world)
    assert own >= 6
    assert leaks == []


def test_the_walk_would_see_a_leak(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Not toothless: through the owner's connection with FORCE row-level security lifted and the filter off,
    Kent's events page shows Borsetshire's event."""
    from bot import tenant
    from storage import tenancy

    monkeypatch.setattr(tenancy.APP_FILTER, "on", False)
    owner = sa.create_engine(_url(DB))
    with owner.begin() as c:
        c.execute(sa.text("ALTER TABLE participation_event NO FORCE ROW LEVEL SECURITY; "
                          "ALTER TABLE participation_event DISABLE ROW LEVEL SECURITY"))
    try:
        with tenant.serving(world.rt.engine, "kent"):
            client, _ = world.client_for("mgr-kent")
        assert SENTINELS["borsetshire"][1] in client.get("/admin/events").text
        client.close()
    finally:
        with owner.begin() as c:
            c.execute(sa.text("ALTER TABLE participation_event ENABLE ROW LEVEL SECURITY; "
                              "ALTER TABLE participation_event FORCE ROW LEVEL SECURITY"))
        owner.dispose()


def test_the_app_role_cannot_write_into_another_council(world: Any) -> None:
    from bot import tenant
    from storage.db import session

    with tenant.serving(world.rt.engine, "kent"), pytest.raises(sa.exc.ProgrammingError), \
            session(world.rt.engine) as s:
        s.execute(sa.text("INSERT INTO good_news (text, created_at, council_id) "
                          "VALUES ('x', now(), 'borsetshire')"))


# CLI commands that show a council's data, one representative invocation each (as the council's manager, or its
# auditor for the audit log). Commands that change one item act through the same scoped queries (tests/tenancy/
# test_filter.py: updates and deletes stay in the council); operator commands (council, db, keys, run, init,
# content, demo) hold no council's data.
READ_COMMANDS: dict[str, tuple[str, ...]] = {
    "staff list": ("staff", "list"), "event list": ("event", "list"), "invite list": ("invite", "list"),
    "goodnews list": ("goodnews", "list", "--status", "all"), "card list": ("card", "list"),
    "alerts list": ("alerts", "list"), "toread list": ("toread", "list"), "requests list": ("requests", "list"),
    "quote list": ("quote", "list", "--status", "all"), "topic list": ("topic", "list"),
    "responses shared": ("responses", "shared"), "report action list": ("report", "action", "list"),
    "audit list": ("audit", "list"), "survey list": ("survey", "list"),
}
NO_SIGN_IN = {("staff", "list"), ("topic", "list"), ("report", "action", "list")}


def _cli(admin: Any, council: str, args: tuple[str, ...], tmp: Path) -> str:
    """One CLI run as `council`'s account, in a context of its own (the CLI sets the council for the rest of its
    context, as a process would)."""
    import contextvars

    from typer.testing import CliRunner

    from admin.cli import app
    from tests.admin.conftest import PASSWORD
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

    who = f"aud-{council}" if args[0] == "audit" else f"mgr-{council}"
    env = {"OURVOICE_DATABASE_URL": admin.rt.settings.database_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD,
           "OURVOICE_AUDIT_ANCHOR_FILE": str(tmp / "anchors.log")}
    # Commands that sign no one in take the council from --council (OURVOICE_COUNCIL), as an operator would.
    argv = [*args, "--staff", who] if args not in NO_SIGN_IN else ["--council", council, *args]
    result = contextvars.copy_context().run(CliRunner().invoke, app, argv, env=env)
    assert result.exit_code == 0, (council, args, result.output)
    return re.sub(r"\s+", " ", result.output)


def _cli_leaks(admin: Any, tmp: Path) -> tuple[list[str], int]:
    leaks, own = [], 0
    for council, other in (("kent", "borsetshire"), ("borsetshire", "kent")):
        for name, args in READ_COMMANDS.items():
            text = _cli(admin, council, args, tmp)
            own += any(s in text for s in SENTINELS[council])
            leaks += [f"{council} {name}: {s}" for s in SENTINELS[other] if s in text]
    return leaks, own


@pytest.mark.parametrize("app_filter", [True, False], ids=["app-filter", "rls-alone"])
def test_no_cli_listing_shows_the_other_councils_data(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app_filter: bool
) -> None:
    from storage import tenancy

    monkeypatch.setattr(tenancy.APP_FILTER, "on", app_filter)
    leaks, own = _cli_leaks(world, tmp_path)
    assert own >= 8, "each council's listings show its own staff, events, invites, good news and audit rows"
    assert leaks == []


def _run(admin: Any, council: str, argv: list[str], tmp: Path) -> tuple[int, str]:
    """One CLI run as `council`'s manager (exit code, output), in a context of its own."""
    import contextvars

    from typer.testing import CliRunner

    from admin.cli import app
    from tests.admin.conftest import PASSWORD
    from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY

    env = {"OURVOICE_DATABASE_URL": admin.rt.settings.database_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD,
           "OURVOICE_AUDIT_ANCHOR_FILE": str(tmp / "anchors.log")}
    result = contextvars.copy_context().run(CliRunner().invoke, app, [*argv, "--staff", f"mgr-{council}"], env=env)
    return result.exit_code, result.output + ("" if result.exception is None or isinstance(result.exception, SystemExit)
                                              else repr(result.exception))


@pytest.mark.parametrize("app_filter", [True, False], ids=["app-filter", "rls-alone"])
def test_reports_and_exports_show_nothing_of_the_other_council(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app_filter: bool
) -> None:
    """The Panel update and the young people's pages for November (Markdown), and a subject-access export, as each
    council's manager: their own event, good news and person are there, the other council's are not, and the
    other council's case reference is "not found"."""
    from storage import tenancy

    monkeypatch.setattr(tenancy.APP_FILTER, "on", app_filter)
    for council, other in (("kent", "borsetshire"), ("borsetshire", "kent")):
        (title, news), ref = REPORT_SENTINELS[council]
        (other_title, other_news), other_ref = REPORT_SENTINELS[other]
        paper, plain = tmp_path / f"{council}-paper.md", tmp_path / f"{council}-plain.md"
        for argv in (["report", "ocypc", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "md",
                      "--out", str(paper)],
                     ["report", "young-people", "--from", "2026-11-01", "--to", "2026-11-30", "--format", "md",
                      "--out", str(plain)]):
            code, output = _run(world, council, argv, tmp_path)
            assert code == 0, (council, argv, output)
        # The same update downloaded from the admin's Reports page.
        from bot import tenant

        with tenant.serving(world.rt.engine, council):
            client, csrf = world.client_for(f"mgr-{council}")
        resp = client.post("/admin/reports/download", data={"report": "ocypc", "fmt": "md", "since": "2026-11-01",
                                                             "until": "2026-11-30", "csrf_token": csrf})
        client.close()
        assert resp.status_code == 200, resp.text[:300]
        paper_text = paper.read_text(encoding="utf-8")
        both = paper_text + plain.read_text(encoding="utf-8") + resp.text
        assert title in resp.text
        assert title in paper_text and news in both, council  # its own November is there
        assert other_title not in both and other_news not in both, council
        assert other_ref not in both and SENTINELS[other][4] not in both
        code, output = _run(world, council, ["participant", "export", ref], tmp_path)
        assert code == 0 and ref in output, (council, output)
        assert other_ref not in output and SENTINELS[other][4] not in output
        code, output = _run(world, council, ["participant", "export", other_ref], tmp_path)
        assert code == 1 and f"no participant {other_ref}" in output, (council, output)


def test_the_report_check_would_see_a_leak(world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Not toothless either: with the filter off and row-level security lifted from events, Kent's November
    update lists Borsetshire's November event."""
    from storage import tenancy

    monkeypatch.setattr(tenancy.APP_FILTER, "on", False)
    owner = sa.create_engine(_url(DB))
    with owner.begin() as c:
        c.execute(sa.text("ALTER TABLE participation_event NO FORCE ROW LEVEL SECURITY; "
                          "ALTER TABLE participation_event DISABLE ROW LEVEL SECURITY"))
    try:
        paper = tmp_path / "paper.md"
        code, output = _run(world, "kent", ["report", "ocypc", "--from", "2026-11-01", "--to", "2026-11-30",
                                            "--format", "md", "--out", str(paper)], tmp_path)
        assert code == 0, output
        assert REPORT_SENTINELS["borsetshire"][0][0] in paper.read_text(encoding="utf-8")
    finally:
        with owner.begin() as c:
            c.execute(sa.text("ALTER TABLE participation_event ENABLE ROW LEVEL SECURITY; "
                              "ALTER TABLE participation_event FORCE ROW LEVEL SECURITY"))
        owner.dispose()


@pytest.mark.parametrize("app_filter", [True, False], ids=["app-filter", "rls-alone"])
def test_an_item_of_the_other_council_is_not_found_by_its_number(
    world: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, app_filter: bool
) -> None:
    """`event show ID` and the event's admin page, given the other council's event number, answer "not found" and
    print nothing of it; given their own, they show it."""
    from sqlmodel import select

    from bot import tenant
    from storage import tenancy
    from storage.db import session
    from storage.models import ParticipationEvent

    ids: dict[str, int] = {}
    for council in SENTINELS:
        with tenant.serving(world.rt.engine, council), session(world.rt.engine) as s:
            ids[council] = int(s.exec(select(ParticipationEvent.id).where(
                ParticipationEvent.title == SENTINELS[council][1])).one())
    monkeypatch.setattr(tenancy.APP_FILTER, "on", app_filter)
    for council, other in (("kent", "borsetshire"), ("borsetshire", "kent")):
        code, output = _run(world, council, ["event", "show", str(ids[council])], tmp_path)
        assert code == 0 and SENTINELS[council][1] in output, (council, ids, output)
        code, output = _run(world, council, ["event", "show", str(ids[other])], tmp_path)
        assert code != 0 and SENTINELS[other][1] not in output, (council, output)
        with tenant.serving(world.rt.engine, council):
            client, _ = world.client_for(f"mgr-{council}")
        assert SENTINELS[council][1] in client.get(f"/admin/events/{ids[council]}").text
        resp = client.get(f"/admin/events/{ids[other]}")
        client.close()
        assert resp.status_code == 404 and SENTINELS[other][1] not in resp.text
