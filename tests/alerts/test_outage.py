"""With the database unavailable, a disclosure still gets the safe reply and the duty email; the alert
record is written from the spool once the database is back (by the next scheduler tick)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from storage.db import session
from storage.migrate import create_missing_tables, upgrade
from storage.models import Alert
from tests.alerts.conftest import DUTY, recipients, tick
from tests.conftest import PG_URL, _postgres_url, fixed_now
from tests.helpers import Person
from tests.support.faults import database_down

FLAGGED = "he said he will hurt me if i tell anyone"


@pytest.fixture(params=["sqlite", "postgres"])
def outage_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated database whose file lives in its own folder, so the folder can be taken away."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip("no PostgreSQL server: set OURVOICE_TEST_POSTGRES_URL")
        url = _postgres_url()
    else:
        url = f"sqlite:///{tmp_path / 'dbdir' / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    return url





def alert_count(rt: Runtime) -> int:
    with session(rt.engine) as s:
        return int(s.execute(select(func.count()).select_from(Alert)).scalar_one())


def test_alert_goes_out_while_database_is_down_and_is_recorded_after(
    make_rt: Callable[..., Runtime], outage_db: str, sink: Any
) -> None:
    rt = make_rt(outage_db)
    now = fixed_now()
    p = Person(rt.dispatcher, "dana", now=now)
    p.text("hello")
    p.press("I'm 11 to 16")

    with database_down(rt, outage_db):
        ordinary = p.text("they listen to me")
        assert not ordinary.stored
        assert "couldn't save" in p.said
        result = p.text(FLAGGED)
        assert result.flagged
        assert not result.stored
        assert [r.text for r in result.replies] == [rt.dispatcher.safe_reply("default", now).text]
        mails = sink.wait_for(1)  # the email does not need the database
        assert recipients(sink) == [DUTY]
        assert FLAGGED not in mails[0].get_content()
        assert rt.dispatcher.spool.pending()
        # A scheduler tick during the outage cannot claim its slot; the record stays spooled.
        with pytest.raises(Exception, match="(?i)operational|unable to open|connect"):
            tick(rt, now + timedelta(minutes=1))
        assert rt.dispatcher.spool.pending()

    assert alert_count(rt) == 0
    assert tick(rt, now + timedelta(minutes=2)) == "spool_written=1 escalated=0 followups=0"
    assert not rt.dispatcher.spool.pending()
    with session(rt.engine) as s:
        (alert,) = s.execute(select(Alert)).scalars()
        assert alert.participant_id is not None
        assert alert.case_ref
        assert alert.alert_ref in mails[0]["Subject"]
        assert alert.status == "open"
        assert alert.notified_count == 1
        assert rt.keyring.decrypt(alert.text_enc) == FLAGGED
    assert len(sink.messages) == 1  # recording it later does not email again


def test_next_message_after_recovery_also_writes_the_spool(
    make_rt: Callable[..., Runtime], tmp_path: Path, sink: Any
) -> None:
    url = f"sqlite:///{tmp_path / 'dbdir' / 'ourvoice.db'}"
    upgrade(url)
    create_missing_tables(url)
    rt = make_rt(url)
    p = Person(rt.dispatcher, "eli", now=fixed_now())
    with database_down(rt, url):
        p.text("i want to kill myself")  # not even a participant yet
    sink.wait_for(1)
    p.text("hello")  # any message once the database is back drains the spool
    assert alert_count(rt) == 1
    assert not rt.dispatcher.spool.pending()
