"""Wording approved for a quote is risk-checked like any message: the original and any edited wording. A
flagged quote is withdrawn (never approved, kept out of every report) and alerted: an alert record and the
usual email, which carries no words."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage import participants as people
from storage import quotes, submissions
from storage.models import Alert, AuditEntry, Quote
from tests.admin.conftest import Admin, _shared_content, _template_db, fresh_db, make_admin  # noqa: F401
from tests.alerts.conftest import DUTY, recipients

DISCLOSURE = "My carer [name] hits me and I am pregnant"


@pytest.fixture
def admin(_template_db: Path, _shared_content: Any, tmp_path: Path, sink: Any) -> Any:  # noqa: F811
    a = make_admin(
        fresh_db(_template_db, tmp_path), tmp_path, _shared_content,
        alert_email_to=DUTY, smtp_host=sink.host, smtp_port=sink.port,
    )
    a.add_staff("mgr", "participation_manager")
    yield a
    a.rt.notifier.stop()
    a.client.close()
    a.rt.engine.dispose()


def quote(admin: Admin, text: str, n: int) -> int:
    with admin.db() as s:
        p, _ = people.create(
            s, key_hash=f"quote-person-{n}", channel="web", address_enc=None, now=admin.clock.now,
            band="teen", district="east", council="ocypc",
        )
        sub = submissions.get_or_start(s, p, "wellbeing", 1, now=admin.clock.now)
        ans = submissions.put_answer(
            s, sub, "why", text.replace("[name]", "Jane"), skipped=False, free_text=True, quarantined=False,
            now=admin.clock.now,
        )
        q = quotes.add(
            s, answer_id=ans.id, flow_id="wellbeing", question_id="why", band="teen", scrubbed_text=text,
            answered_at=admin.clock.now, now=admin.clock.now,
        )
        return int(q.id)


def approve(admin: Admin, quote_id: int, text: str = "", original: str = "") -> Any:
    c, csrf = admin.client_for("mgr")
    return c.post(
        f"/admin/approvals/quotes/{quote_id}",
        data={"decision": "approve", "csrf_token": csrf, "text": text, "original": original},
    )


def in_reports(admin: Admin) -> list[int]:
    now = admin.clock.now
    with admin.db() as s:
        return [q.id for q in quotes.approved(s, since=now - timedelta(days=30), until=now + timedelta(days=1))]


def test_a_disclosure_in_a_quote_is_withdrawn_and_alerted_not_approved(admin: Admin, sink: Any) -> None:
    qid = quote(admin, DISCLOSURE, 1)
    resp = approve(admin, qid)
    assert resp.status_code == 303 and "quote_withdrawn" in resp.headers["location"]
    with admin.db() as s:
        row = s.get(Quote, qid)
        (alert,) = s.execute(select(Alert)).scalars().all()
        actions = [e.action for e in s.execute(select(AuditEntry)).scalars()]
    assert row.status == "withdrawn"
    assert qid not in in_reports(admin)
    assert alert.channel == "quote" and alert.text_enc is not None and b"pregnant" not in alert.text_enc
    assert "quote.withdraw" in actions and "quote.approve" not in actions
    (mail,) = sink.wait_for(1)
    assert recipients(sink) == [DUTY]
    body = mail.as_string().lower()
    assert "pregnant" not in body and "hits" not in body and alert.alert_ref in mail.as_string()


def test_edited_wording_is_checked_too(admin: Admin, sink: Any) -> None:
    original = "My carer hits the ball to me at football"  # fine as it stands; cut down, it is not
    qid = quote(admin, original, 2)
    resp = approve(admin, qid, text="My carer hits me", original=original)
    assert resp.status_code == 303
    assert "quote_withdrawn" in resp.headers["location"]
    with admin.db() as s:
        assert s.get(Quote, qid).status == "withdrawn"
        assert len(s.execute(select(Alert)).scalars().all()) == 1
    assert qid not in in_reports(admin)


def test_an_everyday_quote_is_approved_as_before(admin: Admin) -> None:
    qid = quote(admin, "My carer listens to me", 3)
    resp = approve(admin, qid)
    assert "msg=approved" in resp.headers["location"]
    with admin.db() as s:
        assert s.get(Quote, qid).status == "approved"
        assert s.execute(select(Alert)).scalars().all() == []
    assert qid in in_reports(admin)
