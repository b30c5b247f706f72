"""Injected clock: unacknowledged alerts escalate on time (30 minutes in office hours, 10 out of hours),
repeat every window, and stop once acknowledged; closing needs a name, an outcome and a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from admin.jobs.alerts import is_overdue
from bot.runtime import Runtime
from storage import alerts as alert_store
from storage.alerts import AlertCloseRefused
from storage.db import session
from tests.alerts.conftest import DUTY, MANAGER, recipients, tick
from tests.helpers import Person

TUESDAY_OFFICE = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # 10:00 in London (GMT in November)
TUESDAY_EVENING = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
SATURDAY_MORNING = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
JULY_OFFICE = datetime(2026, 7, 14, 8, 0, tzinfo=UTC)  # 09:00 in London (BST): office hours


def raise_alert(rt: Runtime, now: datetime, sink: Any) -> str:
    p = Person(rt.dispatcher, f"p-{now:%H%M%S}", now=now)
    p.text("hello")
    p.press("I'm 11 to 16")
    assert p.text("i keep cutting myself").flagged
    sink.wait_for(1)
    with session(rt.engine) as s:
        (alert,) = alert_store.open_alerts(s)
        return alert.alert_ref


def ticks_with_escalation(rt: Runtime, start: datetime, minutes: range) -> list[int]:
    """Run a tick at each minute; return the minutes at which the job escalated something."""
    fired = []
    for m in minutes:
        result = tick(rt, start + timedelta(minutes=m))
        assert result is not None
        if "escalated=1" in result:
            fired.append(m)
    return fired


@pytest.mark.parametrize(
    ("start", "window"),
    [(TUESDAY_OFFICE, 30), (JULY_OFFICE, 30), (TUESDAY_EVENING, 10), (SATURDAY_MORNING, 10)],
    ids=["office", "office-summer-time", "evening", "weekend"],
)
def test_escalates_on_time_repeats_and_stops_after_ack(
    rt: Runtime, sink: Any, start: datetime, window: int
) -> None:
    ref = raise_alert(rt, start, sink)
    assert recipients(sink) == [DUTY]

    fired = ticks_with_escalation(rt, start, range(1, 2 * window + 1))
    assert fired == [window, 2 * window]  # not a minute early, not a minute late, and again
    mails = sink.wait_for(5)
    assert recipients(sink)[1:] == [DUTY, MANAGER, DUTY, MANAGER]  # escalation reaches the next contact
    assert all("ESCALATED" in m["Subject"] and ref in m["Subject"] for m in mails[1:])
    assert f"Not acknowledged after {2 * window} minutes" in mails[-1].get_content()
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        assert alert.escalation_level == 2
        assert alert.notified_count == 3
        assert alert_store.acknowledge(
            s, alert, staff="Sam Duty", now=start + timedelta(minutes=2 * window + 1)
        )

    assert ticks_with_escalation(rt, start, range(2 * window + 2, 5 * window)) == []
    assert len(sink.messages) == 5


def test_alert_raised_just_before_closing_time_is_chased_on_the_out_of_hours_clock(rt: Runtime) -> None:
    raised = datetime(2026, 11, 24, 16, 55, tzinfo=UTC)  # office hours end at 17:00
    assert not is_overdue(rt, raised, raised + timedelta(minutes=9))
    assert is_overdue(rt, raised, raised + timedelta(minutes=10))
    assert not is_overdue(rt, TUESDAY_OFFICE, TUESDAY_OFFICE + timedelta(minutes=29, seconds=59))


def test_ack_minutes_come_from_settings(make_rt: Any, sqlite_url: str, sink: Any) -> None:
    rt = make_rt(sqlite_url, alert_ack_minutes_office=5)
    raise_alert(rt, TUESDAY_OFFICE, sink)
    assert ticks_with_escalation(rt, TUESDAY_OFFICE, range(1, 11)) == [5, 10]


def test_safe_reply_promises_the_configured_time(rt: Runtime) -> None:
    assert "within about 30 minutes" in rt.dispatcher.safe_reply("teen", TUESDAY_OFFICE).text
    assert "usually within 10 minutes" in rt.dispatcher.safe_reply("teen", TUESDAY_EVENING).text


@pytest.mark.parametrize(
    ("staff", "outcome", "closed_at"),
    [
        ("", "Spoke to social worker", TUESDAY_OFFICE),
        ("  ", "Spoke to social worker", TUESDAY_OFFICE),
        ("Sam Duty", "", TUESDAY_OFFICE),
        ("Sam Duty", "   ", TUESDAY_OFFICE),
        ("Sam Duty", "Called", None),
        ("Sam Duty", "Called", TUESDAY_OFFICE - timedelta(hours=1)),
    ],
    ids=["no-name", "blank-name", "no-outcome", "blank-outcome", "no-time", "time-before-alert"],
)
def test_storage_refuses_to_close_without_name_outcome_and_time(
    rt: Runtime, sink: Any, staff: str, outcome: str, closed_at: datetime | None
) -> None:
    ref = raise_alert(rt, TUESDAY_OFFICE, sink)
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        with pytest.raises(AlertCloseRefused):
            alert_store.close(s, alert, staff=staff, outcome=outcome, closed_at=closed_at)
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        assert alert.status == "open"
        assert alert.closed_by is None


def test_close_records_everything_and_stops_escalation(rt: Runtime, sink: Any) -> None:
    ref = raise_alert(rt, TUESDAY_OFFICE, sink)
    done = TUESDAY_OFFICE + timedelta(minutes=12)
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        alert_store.close(s, alert, staff="Sam Duty", outcome="Rang the social worker", closed_at=done)
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        assert (alert.status, alert.closed_by, alert.outcome) == (
            "closed",
            "Sam Duty",
            "Rang the social worker",
        )
        assert alert.closed_at == done
        assert alert.acknowledged_at == done
        with pytest.raises(AlertCloseRefused):
            alert_store.close(s, alert, staff="Someone Else", outcome="again", closed_at=done)
    assert ticks_with_escalation(rt, TUESDAY_OFFICE, range(25, 95, 5)) == []


def test_acknowledging_needs_a_name(rt: Runtime, sink: Any) -> None:
    ref = raise_alert(rt, TUESDAY_OFFICE, sink)
    with session(rt.engine) as s:
        alert = alert_store.get(s, ref)
        assert alert is not None
        with pytest.raises(AlertCloseRefused):
            alert_store.acknowledge(s, alert, staff=" ", now=TUESDAY_OFFICE)
        assert alert.status == "open"
