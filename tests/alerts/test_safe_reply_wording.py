"""Every safe-reply variant reads as proper sentences: each one starts with a capital letter."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import fixed_now

BANDS = ["junior", "teen", "young_adult", "carer", "default"]
OUT_OF_HOURS = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
# A sentence ends at . ! or ? followed by a space; abbreviations like "e.g." are not used in these texts.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


@pytest.mark.parametrize("band", BANDS)
@pytest.mark.parametrize("now", [fixed_now(), OUT_OF_HOURS], ids=["office", "out_of_hours"])
def test_every_sentence_of_the_safe_reply_starts_with_a_capital(
    make_rt: Any, sqlite_url: str, band: str, now: datetime
) -> None:
    rt = make_rt(sqlite_url)
    text = rt.dispatcher.safe_reply(band, now).text
    bad = [s for s in sentences(text) if not (s[0].isupper() or s[0].isdigit())]
    assert bad == [], f"{band}: sentences starting in lower case: {bad}"


def test_the_checker_catches_a_lower_case_sentence() -> None:
    assert [s[0] for s in sentences("Call us. the duty team is on 0300.")] == ["C", "t"]


def test_a_bank_holiday_is_out_of_hours(make_rt: Any, sqlite_url: str) -> None:
    """On Christmas Day at 11:00 nobody is in the office: the safe reply gives the out-of-hours number and wait."""
    rt = make_rt(sqlite_url)
    christmas = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)
    ordinary = datetime(2026, 12, 23, 11, 0, tzinfo=UTC)
    assert rt.dispatcher.in_office_hours(ordinary)
    assert not rt.dispatcher.in_office_hours(christmas)
    assert rt.dispatcher.safe_reply("teen", christmas).text == rt.dispatcher.safe_reply("teen", OUT_OF_HOURS).text
