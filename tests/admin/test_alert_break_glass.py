"""Alerts a person can act on (issue 18): an invite's council case reference, stored encrypted and copied to
the participant on joining, revealed only by a safeguarding lead's audited "break glass" (password, reason,
district rule); who issued the invite; a reply to the young person from the alert page; the alert emails
never say "not yet known" and never carry the reference."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from admin.jobs.alerts import escalate
from bot.alerts import EmailRoute, Recipient
from bot.identity import IdentitySettings, create_invites, invite_onboarding
from storage import alerts as alert_store
from storage import audit
from storage import staff as staff_store
from storage.models import Alert, Invite, OutboxMessage, Participant
from tests.admin.conftest import PASSWORD, Admin, csrf_of
from tests.fakes.smtp_sink import SmtpSink
from tests.helpers import Person

CASE_REF = "LCS-0047711"
WORDS = "my stepdad hits me when mum is at work"


@pytest.fixture
def sink(admin: Admin) -> Any:
    with SmtpSink() as s:
        admin.rt.notifier.recipients.append(Recipient(EmailRoute(s.host, s.port, "ov@test"), "duty@test"))
        yield s


def add_staff(admin: Admin, username: str, role: str, districts: tuple[str, ...] = ()) -> None:
    with admin.db() as s:
        staff_store.create(
            s, username=username, role=role, districts=districts,
            password_hash=admin.web.hasher.hash(PASSWORD), now=admin.clock.now,
        )


def invited(admin: Admin, sender: str, *, district: str = "east", case_ref: str | None = CASE_REF) -> Person:
    """A young person who joined with an invite (carrying a case reference) made by 'pat'."""
    rt = admin.rt
    rt.dispatcher.onboarding = invite_onboarding(
        rt.keyring, rt.settings, rt.library, identity=IdentitySettings(_env_file=None)  # type: ignore[call-arg]
    )
    with admin.db() as s:
        _, made = create_invites(
            s, rt.keyring, role="young_person", age_band="11-16", district=district, council="ocypc",
            expires_days=30, count=1, public_url=rt.settings.public_url, bot_username="", created_by="pat",
            now=admin.clock.now, council_ref=case_ref,
        )
    p = Person(rt.dispatcher, sender, now=admin.clock.now)
    assert p.command("start", made[0].code).participant_id is not None
    return p


def flagged_alert(admin: Admin, p: Person) -> str:
    assert p.text(WORDS).flagged
    with admin.db() as s:
        return next(a.alert_ref for a in alert_store.open_alerts(s) if admin.rt.keyring.decrypt(a.text_enc) == WORDS)


def test_case_reference_is_stored_encrypted_and_copied_on_joining(admin: Admin) -> None:
    invited(admin, "yp-1")
    with admin.db() as s:
        inv = s.execute(select(Invite)).scalar_one()
        person = s.execute(select(Participant)).scalar_one()
    assert inv.council_ref_enc is not None and CASE_REF.encode() not in inv.council_ref_enc
    assert admin.rt.keyring.decrypt(person.council_ref_enc) == CASE_REF
    assert person.invite_id == inv.id
    with admin.db() as s, pytest.raises(ValueError, match="one young person"):
        create_invites(
            s, admin.rt.keyring, role="young_person", age_band="11-16", district="east", council=None,
            expires_days=30, count=2, public_url="", bot_username="", created_by="pat", now=admin.clock.now,
            council_ref=CASE_REF,
        )


def test_alert_emails_say_a_reference_exists_never_what_it_is(admin: Admin, sink: SmtpSink) -> None:
    ref = flagged_alert(admin, invited(admin, "yp-mail"))
    admin.clock.advance(hours=2)
    escalate(admin.rt, now=admin.clock.now)
    assert admin.rt.notifier.wait_idle(10)
    bodies = [m.get_content() for m in sink.messages]
    assert len(bodies) == 2 and all(ref in b for b in bodies)
    assert all("not yet known" not in b and CASE_REF not in b and "hits me" not in b for b in bodies)
    assert "Council case reference: on record" in bodies[1]  # the escalation knows who it is about


def test_break_glass_needs_the_lead_password_and_a_reason_and_is_audited(admin: Admin) -> None:
    add_staff(admin, "lee", "safeguarding_lead")
    add_staff(admin, "mia", "participation_manager")
    add_staff(admin, "wes", "safeguarding_lead", ("west",))
    ref = flagged_alert(admin, invited(admin, "yp-glass"))
    c, _ = admin.client_for("lee")
    page = c.get(f"/admin/alerts/{ref}")
    assert page.status_code == 200
    assert "on record" in page.text and CASE_REF not in page.text
    assert "pat" in page.text  # who issued the invite
    csrf = csrf_of(page.text)
    wrong = c.post(f"/admin/alerts/{ref}/reveal", data={"password": "not it at all", "reason": "Strategy meeting",
                                                         "csrf_token": csrf})
    assert wrong.status_code == 403 and CASE_REF not in wrong.text
    short = c.post(f"/admin/alerts/{ref}/reveal", data={"password": PASSWORD, "reason": "need", "csrf_token": csrf})
    assert short.status_code == 400 and CASE_REF not in short.text
    shown = c.post(f"/admin/alerts/{ref}/reveal", data={"password": PASSWORD, "reason": "Strategy meeting at 3pm",
                                                         "csrf_token": csrf})
    assert shown.status_code == 200
    assert CASE_REF in shown.text
    manager, mcsrf = admin.client_for("mia")
    refused = manager.post(f"/admin/alerts/{ref}/reveal", data={"password": PASSWORD, "reason": "Strategy meeting",
                                                                 "csrf_token": mcsrf})
    assert refused.status_code == 403 and CASE_REF not in refused.text
    west, wcsrf = admin.client_for("wes")
    other = west.post(f"/admin/alerts/{ref}/reveal", data={"password": PASSWORD, "reason": "Strategy meeting",
                                                            "csrf_token": wcsrf})
    assert other.status_code == 404 and CASE_REF not in other.text
    with admin.db() as s:
        rows = audit.entries(s, action="alert.reveal_case_ref")
        assert audit.verify(s) == []
    assert [(r.actor, r.target) for r in rows] == [("lee", ref)]
    assert "Strategy meeting at 3pm" in rows[0].detail and CASE_REF not in rows[0].detail


def test_reply_from_the_alert_reaches_the_young_person_in_their_own_chat(admin: Admin) -> None:
    add_staff(admin, "lee", "safeguarding_lead")
    add_staff(admin, "mia", "participation_manager")
    p = invited(admin, "yp-reply", case_ref=None)  # a reply needs no case reference
    ref = flagged_alert(admin, p)
    c, _ = admin.client_for("lee")
    page = c.get(f"/admin/alerts/{ref}")
    assert "none given with the invite" in page.text
    message = "Thank you for telling us. Sam from the team will call you at 4pm today."
    sent = c.post(f"/admin/alerts/{ref}/reply", data={"message": message, "csrf_token": csrf_of(page.text)})
    assert sent.status_code == 303
    manager, mcsrf = admin.client_for("mia")
    assert manager.post(f"/admin/alerts/{ref}/reply", data={"message": "hi", "csrf_token": mcsrf}).status_code == 403
    with admin.db() as s:
        rows = list(s.execute(select(OutboxMessage).where(OutboxMessage.kind == "notice")).scalars())
        replies = audit.entries(s, action="alert.reply")
    assert len(rows) == 1 and rows[0].channel == "web"
    assert [(r.actor, r.target) for r in replies] == [("lee", ref)]
    assert "4pm" not in replies[0].detail
    # Web chat is pull-only: the young person sees it the next time they write.
    p.text("ok")
    assert "A message from the safeguarding team:" in p.said
    assert message in p.said


def test_alert_pages_show_facts_to_the_queue_roles_in_their_districts(admin: Admin) -> None:
    add_staff(admin, "mia", "participation_manager")
    add_staff(admin, "wes", "safeguarding_lead", ("west",))
    ref = flagged_alert(admin, invited(admin, "yp-facts", district="east"))
    manager, _ = admin.client_for("mia")
    assert ref in manager.get("/admin/alerts").text
    assert manager.get(f"/admin/alerts/{ref}").status_code == 200
    west, _ = admin.client_for("wes")
    assert ref not in west.get("/admin/alerts").text
    assert west.get(f"/admin/alerts/{ref}").status_code == 404
    with admin.db() as s:
        assert s.execute(select(Alert)).scalars().first() is not None


def test_the_invite_form_takes_a_case_reference_for_one_young_person(admin: Admin) -> None:
    """The web door to `invite --case-ref`: stored only encrypted, refused for a batch, never on the sheet."""
    add_staff(admin, "mia", "participation_manager")
    c, csrf = admin.client_for("mia")
    form = {"audience": "young_person", "age_band": "11-16", "district": "east", "council": "ocypc",
            "expires_days": "30", "case_ref": CASE_REF, "csrf_token": csrf}
    batch = c.post("/admin/invites", data={**form, "count": "3"})
    assert batch.status_code == 400 and "one young person" in batch.text
    sheet = c.post("/admin/invites", data={**form, "count": "1"})
    assert sheet.status_code == 200 and CASE_REF not in sheet.text
    with admin.db() as s:
        (inv,) = s.execute(select(Invite)).scalars()
        rows = [e for e in audit.entries(s) if e.action == "invite.create"]
    assert inv.council_ref_enc is not None and CASE_REF.encode() not in inv.council_ref_enc
    assert admin.rt.keyring.decrypt(inv.council_ref_enc) == CASE_REF
    assert len(rows) == 1 and "case_ref=yes" in (rows[0].detail or "") and CASE_REF not in (rows[0].detail or "")
    assert CASE_REF not in c.get("/admin/invites").text


def test_a_review_statements_reference_resolves_for_the_safeguarding_lead_only_audited(admin: Admin) -> None:
    from admin.actions.policy import Actor, Forbidden, Invalid, NotFound
    from admin.actions.review_refs import reveal_review_ref

    add_staff(admin, "sam", "safeguarding_lead", ("east",))
    invited(admin, "yp-review-ref")
    with admin.db() as s:
        ref = s.execute(select(Participant.case_ref).where(Participant.council_ref_enc.is_not(None))).scalar_one()
    lead = Actor("sam", "safeguarding_lead", ("east",))
    reason = "IRO asked who sent a review statement"
    kw: dict[str, Any] = {"ip": "test", "now": admin.clock.now, "hasher": admin.web.hasher}
    with admin.db() as s, pytest.raises(Forbidden):
        reveal_review_ref(admin.rt.keyring, s, Actor("pm", "participation_manager"), ref, password=PASSWORD,
                          reason=reason, **kw)
    with admin.db() as s, pytest.raises(NotFound):  # another district's young person looks like nobody
        reveal_review_ref(admin.rt.keyring, s, Actor("sam", "safeguarding_lead", ("west",)), ref,
                          password=PASSWORD, reason=reason, **kw)
    with admin.db() as s, pytest.raises(Invalid):
        reveal_review_ref(admin.rt.keyring, s, lead, ref, password=PASSWORD, reason="why", **kw)
    with admin.db() as s:
        assert not reveal_review_ref(admin.rt.keyring, s, lead, ref, password="wrong", reason=reason, **kw).ok
    with admin.db() as s:
        shown = reveal_review_ref(admin.rt.keyring, s, lead, ref.lower(), password=PASSWORD, reason=reason, **kw)
    assert (shown.ok, shown.value) == (True, CASE_REF)
    with admin.db() as s:
        rows = audit.entries(s, action="review.reveal_case_ref")
    assert len(rows) == 1 and rows[0].target == ref and reason in (rows[0].detail or "")
