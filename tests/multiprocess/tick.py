"""Probe jobs for the multiprocess tests (not tests themselves).

`tick` is the scheduler job every `ourvoice run` process of the three-process test runs each second: it appends
its slot (epoch second) and its process id to OURVOICE_TEST_TICK_FILE, outside the database, so a slot run twice
shows in the file even if the database's own claim rows were wrong. `record` keeps its runs in memory for the
in-process job tests.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

RUNS: list[datetime] = []


def tick(rt: Any, *, now: datetime) -> str:
    line = f"{int(now.timestamp())} {os.getpid()}\n"
    fd = os.open(os.environ["OURVOICE_TEST_TICK_FILE"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())  # one short O_APPEND write: lines from several processes never interleave
    finally:
        os.close(fd)
    return "ticked"


def record(rt: Any, *, now: datetime) -> str:
    RUNS.append(now)
    return "ran"
