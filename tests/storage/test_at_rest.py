"""Data at rest on SQLite (issue 22, items 15 and 16): an erasure leaves none of the person's words readable in
the database file or its write-ahead log, and the database files are created owner-only."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from storage.db import make_engine, session
from storage.migrate import create_missing_tables, upgrade
from tests.conftest import fixed_now
from tests.identity.util import Who, invite, make_rt

SENTINELS = ("ZEBRA-QUOKKA-7731", "my school is Hartsdown Academy XQ-55", "our flat is on Sentinel Road 42B")


def _raw(path: Path) -> bytes:
    """The database file and its write-ahead log, byte for byte, as someone who copied them would read them."""
    return b"".join(Path(f"{path}{extra}").read_bytes() for extra in ("", "-wal")
                    if Path(f"{path}{extra}").exists())


def _share(p: Who, words: str) -> None:
    p.command("menu")
    p.press("🎉")
    p.feel("😀")  # the mood check-in is asked once a session
    p.text(words)
    p.press("🏆")
    p.press("Yes")


@pytest.fixture
def rt(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    runtime = make_rt(url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def test_erasure_leaves_no_sentinel_in_the_sqlite_file_or_its_wal(rt, tmp_path: Path) -> None:
    db = tmp_path / "ourvoice.db"
    now = fixed_now()
    me = Who(rt.dispatcher, "scan-me", now=now)
    me.command("start", invite(rt, now)[0])
    me.press("OK, let's go")
    other = Who(rt.dispatcher, "scan-other", now=now)
    other.command("start", invite(rt, now)[0])
    other.press("OK, let's go")
    for words in SENTINELS:
        _share(me, words)
    _share(other, "I passed my swimming badge today")
    before = _raw(db)
    # The test can fail: the words are in the files (as sent, or in the log) before the erasure.
    assert [w for w in SENTINELS if w.encode() not in before] == []
    me.command("delete")
    me.press("Yes, delete everything")
    assert "deleted" in me.said.lower()
    after = _raw(db)
    for words in SENTINELS:
        assert words.encode() not in after, f"{words!r} still readable in the raw file"
    # Nothing of another person's was lost on the way.
    with session(rt.engine) as s:
        from sqlalchemy import text

        kept = s.execute(text("SELECT count(*) FROM good_news WHERE text = 'I passed my swimming badge today'")).scalar()
    assert kept == 1


def test_secure_delete_is_on_for_every_connection(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        with engine.connect() as c:
            assert c.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    finally:
        engine.dispose()


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_database_wal_and_shm_are_created_owner_only(tmp_path: Path) -> None:
    db = tmp_path / "var" / "ourvoice.db"
    url = f"sqlite:///{db}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with session(engine) as s:
            from sqlalchemy import text

            s.execute(text("CREATE TABLE IF NOT EXISTS t (x)"))
            s.execute(text("INSERT INTO t VALUES (1)"))
        for f in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            assert f.exists(), f
            assert _mode(f) == 0o600, f"{f.name} is {oct(_mode(f))}"
    finally:
        engine.dispose()


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    db.touch()
    db.chmod(0o644)
    make_engine(f"sqlite:///{db}").dispose()
    assert _mode(db) == 0o600


# Every place a person's own words are kept in clear: good news, and a card raised about their own situation
# (stored as written, and echoed back in the outbox). A disclosure is sealed in its alert, which outlives the
# erasure unlinked for the duty team; typed answers are sealed (tests/security/test_free_text_sealed.py).
CARD_WORDS = "QUOKKA-CARD let me see my brother at Fernhill every week"
WHY_WORDS = "QUOKKA-WHY because nobody asked me first"
NEWS_WORDS = "QUOKKA-NEWS I got my first swimming badge"
ALERT_WORDS = "QUOKKA-ALERT my carer hits me and I am scared"
EVERYWHERE = (CARD_WORDS, WHY_WORDS, NEWS_WORDS, ALERT_WORDS)


def _raise_own_card(p: Who) -> None:
    p.command("menu")
    p.press("✊")
    p.feel("😐")
    p.text(CARD_WORDS)
    p.text(WHY_WORDS)
    p.press("Mostly me")
    p.press("Done")
    p.press("Not sure")
    p.press("✅")


def test_erasure_leaves_none_of_the_persons_words_anywhere_in_the_file(rt, tmp_path: Path) -> None:
    """Found by the issue 22 re-probe: a card the person raised about their own situation outlived their erasure
    with its words (unlinked), though they were told everything was deleted but a safeguarding record."""
    db = tmp_path / "ourvoice.db"
    now = fixed_now()
    me = Who(rt.dispatcher, "everywhere-me", now=now)
    me.command("start", invite(rt, now)[0])
    me.press("OK, let's go")
    _share(me, NEWS_WORDS)
    _raise_own_card(me)
    assert "gone to" in me.said
    me.text(ALERT_WORDS)
    before = _raw(db)
    # The test can fail: what is kept in clear is in the file before the erasure (the disclosure is sealed).
    assert [w for w in (CARD_WORDS, WHY_WORDS, NEWS_WORDS) if w.split()[0].encode() not in before] == []
    me.command("delete")
    me.press("Yes, delete everything")
    after = _raw(db)
    assert [w for w in EVERYWHERE if w.split()[0].encode() in after] == []
    with session(rt.engine) as s:  # the disclosure stays on record for the duty team, sealed and unlinked
        from sqlalchemy import text

        assert s.execute(text("SELECT count(*) FROM alert WHERE participant_id IS NULL")).scalar() == 1
