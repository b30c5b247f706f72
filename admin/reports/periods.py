"""The fixed periods reports may cover: calendar months, calendar quarters and Panel cycles.

Reports over arbitrary date ranges could be differenced (two ranges one day apart single out the people
who answered on that day), so every entry point asks this module whether a range is allowed. Pure.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from admin.reports.settings import ReportSettings


class PeriodRefused(ValueError):
    """A date range that is not one of the fixed periods; the message says which periods are allowed."""


def month(year: int, month_: int) -> tuple[date, date]:
    first = date(year, month_, 1)
    nxt = date(year + (month_ == 12), month_ % 12 + 1, 1)
    return first, nxt - timedelta(days=1)


def quarter(year: int, q: int) -> tuple[date, date]:
    first, _ = month(year, 3 * q - 2)
    _, last = month(year, 3 * q)
    return first, last


def panel_cycles(settings: ReportSettings) -> list[tuple[date, date]]:
    """Each Panel's period in whole calendar months: from the month after the previous cycle to the last
    month that ended before its drafting day (the first covers the three months before that).

    Whole months only, so any two reportable periods differ by whole months (each of which is itself a
    published month), never by a day or a week.
    """
    out: list[tuple[date, date]] = []
    previous_until: date | None = None
    for panel in settings.panel_days():
        run_on = panel - timedelta(days=settings.summary_days_before)
        until = run_on.replace(day=1) - timedelta(days=1)
        if previous_until is None:
            first = until.replace(day=1)
            for _ in range(2):
                first = (first - timedelta(days=1)).replace(day=1)
            since = first
        else:
            since = previous_until + timedelta(days=1)
        if until >= since:
            out.append((since, until))
            previous_until = until
    return out


def kind(since: date, until: date, settings: ReportSettings) -> str | None:
    """ "month", "quarter" or "panel" when [since, until] is a fixed period, else None."""
    if since.day == 1 and (since, until) == month(since.year, since.month):
        return "month"
    if since.day == 1 and since.month % 3 == 1 and (since, until) == quarter(since.year, since.month // 3 + 1):
        return "quarter"
    if (since, until) in panel_cycles(settings):
        return "panel"
    return None


def check(since: date, until: date, settings: ReportSettings, *, now: datetime | None = None) -> str:
    """The kind of a fixed period, or PeriodRefused with a sentence a person can act on.

    With `now`, a period that has not ended yet is refused too: its figures would change tomorrow, and
    the difference would single out whoever answered in between.
    """
    if now is not None and until >= now.astimezone(ZoneInfo(settings.timezone)).date():
        raise PeriodRefused(f"the period to {until.isoformat()} has not ended yet: choose one that has")
    found = kind(since, until, settings)
    if found is None:
        raise PeriodRefused(
            f"{since.isoformat()} to {until.isoformat()} is not a fixed reporting period: choose a calendar "
            "month (e.g. 2026-11-01 to 2026-11-30), a quarter (e.g. 2026-10-01 to 2026-12-31) or a Panel "
            "cycle (see `ourvoice report schedule`), so that no two reports can be compared to single "
            "anyone out"
        )
    return found


def answers_quarter(until: date) -> tuple[date, date]:
    """The calendar quarter whose answers a report ending on `until` shows: the last whole quarter that ends on
    or before that day (the report's own, when it is a quarter).

    Answers to questions (people per answer, people who took part in a topic) are published for quarters
    only (issue 19, re-audit leak 1): a quarter's topic tables beside its three months' showed the months were
    different people, and then a hidden September figure was the quarter's less July's and August's. With one
    kind of period there is nothing to take away from anything: a month or Panel paper repeats the quarter's
    figures exactly as the quarter's own paper and Responses pages print them.
    """
    after = until + timedelta(days=1)
    starts = date(after.year, 3 * ((after.month - 1) // 3) + 1, 1)  # the quarter the next day falls in
    last_day = starts - timedelta(days=1)
    return quarter(last_day.year, (last_day.month - 1) // 3 + 1)


def previous(since: date, until: date, settings: ReportSettings) -> tuple[date, date]:
    """The fixed period of the same kind just before this one."""
    k = check(since, until, settings)
    if k == "month":
        p = since - timedelta(days=1)
        return month(p.year, p.month)
    if k == "quarter":
        p = since - timedelta(days=1)
        return quarter(p.year, (p.month - 1) // 3 + 1)
    cycles = panel_cycles(settings)
    i = cycles.index((since, until))
    if i > 0:
        return cycles[i - 1]
    days = (until - since).days + 1  # before the first Panel: the same number of days, fixed by the settings
    return since - timedelta(days=days), since - timedelta(days=1)


def parse(value: str) -> tuple[date, date]:
    """ "2026-11" (a month) or "2026-Q4" (a quarter) as first and last day."""
    value = value.strip().upper()
    try:
        if "-Q" in value:
            y, q = value.split("-Q")
            if int(q) not in (1, 2, 3, 4):
                raise ValueError
            return quarter(int(y), int(q))
        y, m = value.split("-")
        return month(int(y), int(m))
    except ValueError:
        raise PeriodRefused(f"{value!r} is not a month like 2026-11 or a quarter like 2026-Q4") from None
