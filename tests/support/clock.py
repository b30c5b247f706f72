"""The one hand-moved clock the tests inject (rt.clock, the web channel's datetime, the sender lease)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


def fixed_now() -> datetime:
    """A Tuesday at 10:00 London time (office hours), so time-dependent replies are stable."""
    return datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


@dataclass
class Clock:
    """Now, as the code under test sees it; moved only by the test."""

    now: datetime = field(default_factory=fixed_now)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)
