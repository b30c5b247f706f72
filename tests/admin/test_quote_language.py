"""Issue 24 item 6: free text in another language is marked for translation before it can be quoted."""

from __future__ import annotations

import pytest

from admin.actions.approvals import decide_quote, quote_language
from admin.actions.policy import Actor, Invalid
from storage import quotes, submissions
from storage.models import Submission
from tests.admin.conftest import Admin
from tests.admin.conftest import people_with_check_ins as _people


def _quote(admin: Admin, text: str, council: str) -> int:
    sub = _people(admin, "east", 1, council=council)[0]
    with admin.db() as s:
        ans = submissions.put_answer(
            s, s.get(Submission, sub), "why", "x", skipped=False, free_text=True, quarantined=False,
            now=admin.clock.now,
        )
        q = quotes.add(
            s, answer_id=ans.id, flow_id="wellbeing", question_id="why", band="teen", scrubbed_text=text,
            answered_at=admin.clock.now, now=admin.clock.now,
        )
        return int(q.id)


def test_each_entry_has_a_language() -> None:
    assert quote_language("My carer listens to me") == "en"
    assert quote_language("مربيتي تستمع إليّ دائماً") == "ar"
    assert quote_language("Kujdestarja ime më dëgjon") == "sq"


def test_a_quote_in_another_language_cannot_be_approved_until_translated(admin: Admin) -> None:
    arabic = _quote(admin, "مربيتي تستمع إليّ دائماً", "ocypc")
    english = _quote(admin, "My carer always listens to me", "super_council")
    manager = Actor("mgr", "participation_manager")
    with admin.db() as s, pytest.raises(Invalid, match="Arabic .ar.: it is marked for translation"):
        decide_quote(s, manager, arabic, approve=True, now=admin.clock.now)
    with admin.db() as s:
        assert decide_quote(s, manager, english, approve=True, now=admin.clock.now).status == "approved"
        assert decide_quote(s, manager, arabic, approve=False, now=admin.clock.now).status == "rejected"


def test_the_to_read_entry_names_the_language_and_marks_it_for_translation(admin: Admin) -> None:
    from sqlalchemy import select

    from storage.models import ToRead
    from tests.admin.conftest import add_staff, good_news, young_person

    add_staff(admin, "wendy", "participation_worker", ("east",))
    good_news(young_person(admin, "yp-sq", "east"), "Kalova provimin e matematikës sot!")
    good_news(young_person(admin, "yp-en", "east"), "I passed my maths exam today!")
    with admin.db() as s:
        albanian, english = (e.id for e in s.execute(select(ToRead).order_by(ToRead.id)).scalars())
    c, _ = admin.client_for("wendy")
    page = c.get(f"/admin/to-read/{albanian}").text
    assert "Albanian (sq): marked for translation" in page and 'lang="sq" dir="auto"' in page
    page = c.get(f"/admin/to-read/{english}").text
    assert "English (en)" in page and "marked for translation" not in page
