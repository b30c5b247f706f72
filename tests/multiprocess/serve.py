"""`python -m tests.multiprocess.serve run ...`: the real `ourvoice run` with one more scheduled job, the
one-second `tick` probe (tests/multiprocess/tick.py), so the three-process test can see every job run."""

from __future__ import annotations

from admin import scheduler
from admin.cli import main
from tests.multiprocess import tick

if __name__ == "__main__":
    scheduler.JOBS.append(scheduler.Job("test_tick", tick.tick, every_seconds=1))
    main()
