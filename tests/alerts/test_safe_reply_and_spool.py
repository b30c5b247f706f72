"""The safe reply takes every number from configuration, for every band; the alert spool keeps records
until they are written, survives a crashed drainer and a torn line; notices carry no words."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from bot.alerts import AlertNotice, AlertNotifier, AlertSpool, Recipient, new_alert_ref
from bot.settings import HelpNumbers
from tests.conftest import fixed_now

BANDS = ["junior", "teen", "young_adult", "carer", "default"]


def test_every_number_in_the_safe_reply_comes_from_configuration(make_rt: Any, sqlite_url: str) -> None:
    numbers = HelpNumbers(
        _env_file=None,
        emergency="112",
        childline="0800 000 0001",  # type: ignore[call-arg]
        samaritans="0800 000 0002",
        shout_text="00003",
    )
    rt = make_rt(
        sqlite_url,
        duty_number="01234 000004",
        out_of_hours_number="01234 000005",
        runtime_kwargs={"help_numbers": numbers},
    )
    for band in BANDS:
        text = rt.dispatcher.safe_reply(band, fixed_now()).text
        assert not [n for n in ("999", "1111", "116 123", "85258") if n in text], band  # no built-in numbers
        assert all(n in text for n in ("112", "01234 000004")), band
        assert "{" not in text, band
        if band != "carer":
            assert "0800 000 0001" in text, band  # Childline for every young person
    adult = rt.dispatcher.safe_reply("young_adult", fixed_now()).text
    assert "0800 000 0002" in adult
    assert "00003" in adult
    for band in BANDS:  # honest about sharing, never a promise of secrecy
        text = rt.dispatcher.safe_reply(band, fixed_now()).text.lower()
        assert "secret" not in text
        assert "won't tell" not in text


def test_alert_refs_are_stable_per_message_and_distinct_otherwise() -> None:
    now = fixed_now()
    assert new_alert_ref(now, key="abc") == new_alert_ref(now, key="abc")
    assert new_alert_ref(now, key="abc") != new_alert_ref(now, key="abd")
    refs = {new_alert_ref(now) for _ in range(2000)}
    assert len(refs) == 2000
    assert all(len(r) <= 24 and r.startswith("A-261124-") for r in refs)


def test_spool_keeps_records_when_writing_fails(tmp_path: Path) -> None:
    spool = AlertSpool(tmp_path)
    spool.put({"alert_ref": "A-1"})
    seen: list[dict] = []

    def write_fails() -> None:
        with spool.draining() as records:
            seen.extend(records)
            raise RuntimeError("database went away mid-write")

    with pytest.raises(RuntimeError):
        write_fails()
    assert seen == [{"alert_ref": "A-1"}]
    assert spool.take_all() == [{"alert_ref": "A-1"}]
    assert not spool.pending()


def test_spool_adopts_a_crashed_drainers_claim_and_sets_torn_lines_aside(tmp_path: Path) -> None:
    spool = AlertSpool(tmp_path)
    dead_pid = 2**22 + 12345  # above the default pid_max: no such process
    (tmp_path / f"alerts.{dead_pid}.abcd.draining").write_text(
        json.dumps({"alert_ref": "A-2"}) + "\n{torn", encoding="utf-8"
    )
    (tmp_path / f"alerts.{os.getpid()}.live.draining").write_text(json.dumps({"alert_ref": "mine"}) + "\n")
    assert spool.pending()
    assert spool.take_all() == [{"alert_ref": "A-2"}]
    assert (tmp_path / "alerts.unreadable").read_text(encoding="utf-8") == "{torn\n"
    assert (tmp_path / f"alerts.{os.getpid()}.live.draining").exists()  # a live drainer's claim is left alone


def test_spool_put_never_raises(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    assert AlertSpool(blocker / "spool").put({"alert_ref": "A-3"}) is False


class Recording:
    name = "recording"

    def __init__(self, fail_first: int = 0) -> None:
        self.sent: list[tuple[AlertNotice, str]] = []
        self.fail_first = fail_first

    def send(self, notice: AlertNotice, recipient: str) -> None:
        if self.fail_first:
            self.fail_first -= 1
            raise ConnectionRefusedError("relay down")
        self.sent.append((notice, recipient))


def test_notifier_retries_routes_by_level_and_suppresses_redelivered_new_notices() -> None:
    route = Recording(fail_first=2)
    n = AlertNotifier([Recipient(route, "duty", 0), Recipient(route, "manager", 1)], retry_seconds=0.01)
    notice = AlertNotice("A-261124-XYZ", ("neglect",), "2026-11-24T10:00")
    assert n.notify(notice) == 1
    assert n.notify(notice) == 0  # the same new alert again (a redelivered message)
    assert (
        n.notify(AlertNotice("A-261124-XYZ", ("neglect",), "2026-11-24T10:00", kind="escalation", level=1))
        == 2
    )
    deadline = time.monotonic() + 10
    while len(route.sent) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)  # retries come back from timers
    n.stop()
    assert sorted((x.kind, who) for x, who in route.sent) == [
        ("escalation", "duty"),
        ("escalation", "manager"),
        ("new", "duty"),
    ]


def test_notifier_without_recipients_says_so_loudly(caplog: pytest.LogCaptureFixture) -> None:
    assert AlertNotifier([]).notify(AlertNotice("A-1", (), "t")) == 0
    assert "alert.no_recipients" in caplog.text
