"""Working days: Monday to Friday, less the public holidays of the council's nation.

A safeguarding promise ("a person will read it within one working day", "within 30 minutes in office hours")
is only honest if a bank holiday counts as a day off: on Christmas Day nobody is at a desk. The holiday
calendar comes from the maintained `holidays` package (GOV.UK's published dates, with substitute days), so
nobody has to remember to type next year's dates in.

`region` is "<country>" or "<country>-<subdivision>", e.g. "GB-ENG" (England and Wales share dates except
Scotland and Northern Ireland), as the OURVOICE_BANK_HOLIDAYS setting; "" means weekends only.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date, timedelta
from functools import lru_cache


@lru_cache(maxsize=8)
def _holidays(region: str) -> Container[date]:
    if not region:
        return frozenset()
    import holidays  # imported on first use: answering a message never needs it

    country, _, subdivision = region.partition("-")
    return holidays.country_holidays(country, subdiv=subdivision or None)


def check_region(region: str) -> str:
    """The region, or ValueError saying what is wrong (for the settings validator)."""
    if region:
        try:
            _ = date(2026, 1, 1) in _holidays(region)  # the package builds the calendar on first look
        except NotImplementedError as exc:
            raise ValueError(f"{region!r} is not a country (and subdivision) the holidays package knows") from exc
    return region


def is_working_day(day: date, region: str) -> bool:
    """True on a weekday that is not a public holiday in `region`."""
    return day.weekday() < 5 and day not in _holidays(region)


def next_working_day(day: date, region: str) -> date:
    """The first working day after `day`."""
    day += timedelta(days=1)
    while not is_working_day(day, region):
        day += timedelta(days=1)
    return day
