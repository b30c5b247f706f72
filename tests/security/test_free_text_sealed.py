"""Issue 22, item 14: free-text answers are stored only encrypted; staff views that legitimately show them (the
audited To read queue, a shared response) and the young person's own summary decrypt them; `ourvoice keys rotate`
seals free text left in clear by older versions."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bot.runtime import build_runtime
from storage import admin_views, privacy, submissions
from storage.db import session
from storage.models import Answer, Participant, Submission
from tests.conftest import TEST_FERNET_KEY, TEST_HASH_KEY, fixed_now, make_settings
from tests.helpers import Person
from tests.support.journeys import walk_to_free_text

SENTINEL = "My school is Hartsdown Academy and I live on Sentinel Road"


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path):
    runtime = build_runtime(make_settings(sqlite_url, tmp_path))
    yield runtime
    runtime.engine.dispose()


def _raw(url: str) -> bytes:
    path = Path(url.split("///", 1)[1])
    return b"".join(Path(f"{path}{x}").read_bytes() for x in ("", "-wal") if Path(f"{path}{x}").exists())


def test_a_typed_answer_is_stored_only_encrypted_and_read_back_with_the_key(rt, sqlite_url: str) -> None:
    p = Person(rt.dispatcher, "sealed-1", now=fixed_now())
    walk_to_free_text(p)
    p.text(SENTINEL)
    p.press("Yes")
    with session(rt.engine) as s:
        a = s.execute(select(Answer).where(Answer.question_id == "anything_else")).scalar_one()
        assert a.text_value is None
        assert rt.keyring.decrypt(a.text_enc) == SENTINEL
        s.execute(update(Submission).values(shared_with_worker=True))
        found = admin_views.shared_submission(s, a.submission_id, decrypt=rt.keyring.decrypt)
        assert found is not None
        assert SENTINEL in [line.text for line in found[1]]
        without_key = admin_views.shared_submission(s, a.submission_id)
        assert SENTINEL not in [line.text for line in without_key[1]]  # type: ignore[index]
        assert not s.execute(select(Answer).where(Answer.text_value.is_not(None))).first()  # type: ignore[union-attr]
    rt.engine.dispose()
    raw = _raw(sqlite_url)
    assert SENTINEL.encode() not in raw, "the words are readable in the database file"


def test_my_summary_shows_my_own_sealed_words(rt) -> None:
    p = Person(rt.dispatcher, "sealed-2", now=fixed_now())
    walk_to_free_text(p)
    p.text("They always make time to talk")
    p.press("Yes")
    p.command("mystuff")
    p.press("📋")
    assert "They always make time to talk" in p.said


def test_keys_rotate_seals_free_text_left_in_clear(rt, sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    from admin.cli import app

    with session(rt.engine) as s:
        p = Participant(case_ref="P-OLD0001", created_at=fixed_now(), band="teen", district="east")
        s.add(p)
        s.flush()
        sub = submissions.get_or_start(s, p, "wellbeing", 1, now=fixed_now())
        submissions.put_answer(s, sub, "why", "OLD CLEAR WORDS", skipped=False, free_text=True,
                               quarantined=False, now=fixed_now())
    monkeypatch.chdir(tmp_path)
    env = {"OURVOICE_DATABASE_URL": sqlite_url, "OURVOICE_ID_HASH_KEY": TEST_HASH_KEY,
           "OURVOICE_ENCRYPTION_KEYS": TEST_FERNET_KEY,
           "OURVOICE_AUDIT_ANCHOR_FILE": rt.settings.audit_anchor_file}
    out = CliRunner().invoke(app, ["keys", "rotate"], env=env)
    assert out.exit_code == 0, out.output
    assert "sealed 1" in out.output
    with session(rt.engine) as s:
        a = s.execute(select(Answer).where(Answer.question_id == "why")).scalar_one()
        assert a.text_value is None
        assert rt.keyring.decrypt(a.text_enc) == "OLD CLEAR WORDS"
        assert privacy.seal_clear_answers(s, rt.keyring.encrypt, after_id=0)[0] == 0
