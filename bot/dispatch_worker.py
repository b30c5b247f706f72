"""The dispatcher in a worker process, so a channel's event loop keeps a CPU core to itself.

A step is mostly Python work inside SQLAlchemy; in the channel's own process it competes for the GIL with
python-telegram-bot parsing updates and sending replies, and both slow down. Here the channel process
does the network I/O and a worker process (built from the same settings, with its own database engine)
does the steps. Order per chat is still the channel's job: it sends a chat's next message only after the
previous one's result came back, which is after its commit.

Only a runtime built from settings alone can be rebuilt in a worker; one wired by hand (tests with an
injected library or notifier) keeps the in-process thread.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing as mp
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing import util as mp_util
from typing import Any

from bot.messages import Inbound
from bot.settings import BotSettings

log = logging.getLogger("ourvoice.dispatch_worker")

_dispatcher: Any = None  # the worker process's Dispatcher, set by _start_worker


def _start_worker(settings: BotSettings, log_level: int) -> None:
    """Runs once in each worker process: logging like the parent's, then the runtime from settings."""
    from bot.runtime import build_runtime

    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    global _dispatcher
    rt = build_runtime(settings)
    _dispatcher = rt.dispatcher
    # Alert notices still queued when the pool shuts down go out first (workers skip atexit handlers).
    mp_util.Finalize(None, rt.notifier.stop, exitpriority=10)
    settle_heap()


def settle_heap() -> None:
    """Once start-up is over, move what lives for the whole process (content, lexicon, ORM metadata,
    SDK classes) out of the garbage collector's sight: otherwise every older-generation collection walks
    those objects again (freezing measured about +25% updates/s for the Telegram channel)."""
    gc.collect()
    gc.freeze()
    # Each step or send allocates thousands of short-lived objects that reference counting frees anyway;
    # collecting the young generation every 10,000 allocations instead of 700 keeps the collector's share
    # small (a few per cent in the Telegram benchmark) at the cost of a little garbage held a little longer.
    gc.set_threshold(10_000, 10, 10)


def handle_many(batch: list[tuple[Inbound, datetime]]) -> list[Any]:
    """Runs in a worker: several steps in one transaction (group commit), one result each, in order."""
    return _dispatcher.handle_many(batch)


def warm_up() -> bool:
    """Runs in a worker: proves the runtime was built (so start-up errors show at start, not on a message)."""
    return _dispatcher is not None


class DispatchProcesses(Executor):
    """A process pool for `handle_many`, replaced by a fresh one if a worker dies (the update is then retried
    by the channel: it was not acknowledged, and a step that did commit is found by the dedupe ledger)."""

    def __init__(self, settings: BotSettings, workers: int = 1) -> None:
        self.settings = settings
        self.workers = workers
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers start from a clean server process, never from a copy of this busy one
        # (which holds an event loop, threads and open database connections).
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["bot.runtime"])
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=ctx,
            initializer=_start_worker,
            initargs=(self.settings, logging.getLogger().getEffectiveLevel()),
        )

    def start(self, timeout: float = 120.0) -> None:  # noqa: ASYNC109 - called before the loop serves anything
        """Start every worker and wait until each has built its runtime."""
        futures = [self._pool.submit(warm_up) for _ in range(self.workers)]
        for f in futures:
            if not f.result(timeout=timeout):
                raise RuntimeError("dispatch worker did not start")

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._lock:
            try:
                return self._pool.submit(fn, *args, **kwargs)
            except BrokenProcessPool:
                log.error("dispatch_worker.pool_broken: starting new workers")
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
                return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)
