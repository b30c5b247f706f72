"""Bounded waits: poll a condition until it holds, failing with a clear message when it does not in time.

The bound is a ceiling against a hung test, never a claim about the machine's speed.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(predicate: Callable[[], bool], timeout: float, *, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)
