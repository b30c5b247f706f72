"""Council meetings and events through both staff doors (issue 20): the admin's Events pages and `ourvoice event`
call the same actions. A worker adds an event in their district, sees its QR code and short code, takes a paper
register (references plus unnamed people; a person counted once however they came), and counts under 5 are
not shown; the CLI does the same and closes the event."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from typer.testing import CliRunner

from admin.cli import app as cli
from storage import events, participants
from storage.models import AuditEntry
from tests.admin.conftest import PASSWORD, Admin, csrf_of
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now


def _young_people(admin: Admin, n: int, district: str = "east") -> list[str]:
    refs = []
    with admin.db() as s:
        for i in range(n):
            p, _ = participants.create(s, key_hash=f"ev-{district}-{i}", channel="web", address_enc=None,
                                       now=fixed_now(), band="teen", district=district, council="ocypc")
            refs.append(p.case_ref)
    return refs


def test_add_show_and_paper_register_on_the_web(admin: Admin) -> None:
    admin.add_staff("worker", "participation_worker", ("east",))
    refs = _young_people(admin, 6)
    client, _ = admin.client_for("worker")
    page = client.get("/admin/events")
    assert page.status_code == 200 and "Add a meeting or event" in page.text
    form = {"csrf_token": csrf_of(page.text), "kind": "activity_day", "title": "Bowling", "held_on": "2026-11-24",
            "council": "ocypc", "district": "east", "place": "Margate", "topics": "Stigma in school\nNext trip"}
    west = client.post("/admin/events", data={**form, "district": "west"}, follow_redirects=False)
    assert west.status_code == 400  # not their district
    made = client.post("/admin/events", data=form, follow_redirects=False)
    assert made.status_code == 303, made.text
    shown = client.get(made.headers["location"])
    assert shown.status_code == 200
    with admin.db() as s:
        (ev,) = events.list_events(s)
    assert ev.topics == ("Stigma in school", "Next trip") and ev.district == "east"
    assert ev.short_code in shown.text and "data:image/svg+xml" in shown.text  # the check-in QR code
    assert f"?start=ev_{ev.short_code}" in shown.text

    csrf = csrf_of(shown.text)
    unknown = client.post(f"/admin/events/{ev.id}/attend", data={"csrf_token": csrf, "refs": "NOPE99"})
    assert unknown.status_code == 400 and "NOPE99" in unknown.text
    small = client.post(f"/admin/events/{ev.id}/attend", data={"csrf_token": csrf, "refs": " ".join(refs[:3])},
                        follow_redirects=False)
    assert small.status_code == 303
    assert "not shown" in client.get(f"/admin/events/{ev.id}").text  # 3 people: under the threshold
    again = client.post(f"/admin/events/{ev.id}/attend",
                        data={"csrf_token": csrf, "refs": ",".join(refs), "unnamed": "4"}, follow_redirects=False)
    assert again.status_code == 303
    with admin.db() as s:
        (summary,) = events.activity_for_period(s, date(2026, 11, 24), date(2026, 11, 24))
        assert (summary.attended_named, summary.unnamed_attendees, summary.attended) == (6, 4, 10)
        actions = [a.action for a in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
                   if a.action.startswith("event.")]
    assert actions.count("event.add") == 1 and actions.count("event.attend") == 2  # refused forms write nothing
    html = client.get(f"/admin/events/{ev.id}").text
    # 10 came; the 4 unnamed are under 5, so the 6 on the bot is hidden too (10 - 6 would give the 4 away)
    assert '<td class="num">10</td>' in html and '<td class="num">6</td>' not in html


def test_the_cli_adds_lists_takes_the_register_and_closes(admin: Admin) -> None:
    admin.add_staff("mgr", "participation_manager")
    refs = _young_people(admin, 5, "thanet")
    env = {"OURVOICE_DATABASE_URL": str(admin.rt.engine.url), "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY, "OURVOICE_STAFF_PASSWORD": PASSWORD}
    run = CliRunner().invoke
    added = run(cli, ["event", "add", "council_meeting", "--on", "2026-11-20", "--council", "ocypc_extra",
                      "--district", "thanet", "--place", "Ramsgate", "--topic", "Qualities of a good social worker",
                      "--staff", "mgr"], env=env)
    assert added.exit_code == 0, added.output
    assert "OCYPC Extra! meeting" in added.output and "?start=ev_" in added.output
    with admin.db() as s:
        (ev,) = events.list_events(s)
    no_council = run(cli, ["event", "add", "council_meeting", "--on", "2026-11-20", "--staff", "mgr"], env=env)
    assert no_council.exit_code == 2 and "needs its council" in no_council.output
    reg = run(cli, ["event", "attend", str(ev.id), *[x for r in refs for x in ("--ref", r)], "--unnamed", "2",
                    "--staff", "mgr"], env=env)
    assert reg.exit_code == 0 and "5 newly counted" in reg.output, reg.output
    shown = run(cli, ["event", "show", str(ev.id), "--staff", "mgr"], env=env)
    assert shown.exit_code == 0 and "Came: 7 (not shown on the bot, not shown unnamed)" in shown.output, shown.output
    listed = run(cli, ["event", "list", "--from", "2026-11-01", "--staff", "mgr"], env=env)
    assert listed.exit_code == 0 and "OCYPC Extra! meeting" in listed.output
    closed = run(cli, ["event", "close", str(ev.id), "--staff", "mgr"], env=env)
    assert closed.exit_code == 0
    twice = run(cli, ["event", "close", str(ev.id), "--staff", "mgr"], env=env)
    assert twice.exit_code == 2 and "already closed" in twice.output
