"""The outbox sender: delivers a channel's pending outbox rows, in order per chat, within its limits.

Owns pacing (a minimum interval per chat and a cap per second overall), waiting out 429 `retry_after`
(never dropping a row), and marking rows sent or dead (permanent failures such as a blocked bot). It
knows no SDK: it calls the channel's async `send` and reads `DeliveryError`. One sender per channel per
process; row times come from the injected clock.

Across processes (issue 26) every sender sends: it claims whole chats in the database (storage.outbox.claim, a
claim that runs out unless renewed), so one process at a time sends a chat, in order, and a killed process's
chats are taken over when its claims run out, or at once when it is provably gone (`holder_gone`). On
PostgreSQL the global rate is booked from one shared row (bot/send_budget.py) and a 429 blocks every process;
on SQLite (one process) the in-process `RateLimiter` paces alone.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from bot.channels.base import Channel, DeliveryError, wait_until
from bot.crypto import Keyring
from bot.messages import Outbound
from bot.process_role import ROLE, holder_gone, new_holder
from bot.send_budget import SharedBudget
from storage import outbox, send_budget, tenancy
from storage.db import Session, is_postgres, session

log = logging.getLogger("ourvoice.outbox")


class RateLimiter:
    """Minimum spacing between sends to one chat, at most `global_per_second` sends in any 1-second window
    (spread out, not in bursts), and a global pause after a 429. Times are monotonic seconds.

    `margin` widens both the window and the per-chat spacing: the service counts requests when they
    arrive, and a busy event loop lets them leave a little unevenly, so we keep that much clear of the
    limit: in effect ~27/s overall and ~1 per 1.1 s per chat (the bench's survey burst under the real limits
    met no 429 with it; see the README's Benchmarks).
    """

    def __init__(
        self,
        *,
        per_chat_interval: float,
        global_per_second: float,
        margin: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_chat_interval = per_chat_interval + margin if per_chat_interval > 0 else 0.0
        self.window = 1.0 + margin
        self.capacity = max(1, int(global_per_second))
        self.min_gap = 1.0 / global_per_second
        self.clock = clock
        self._last: dict[str, float] = {}
        self._recent: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every send for `seconds` (Telegram said retry_after)."""
        self._paused_until = max(self._paused_until, self.clock() + max(0.0, seconds))

    async def wait_chat(self, chat: str) -> None:
        """Wait until this chat may get its next message (one worker per chat, so no lock)."""
        last = self._last.get(chat)
        if last is not None:
            delay = last + self.per_chat_interval - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)

    async def wait_global(self, chat: str | None = None) -> None:
        """Wait for a slot in the global window and any pause, then record the send (and its chat)."""
        async with self._lock:
            while True:
                now = self.clock()
                if self._paused_until > now:
                    await asyncio.sleep(self._paused_until - now)
                    continue
                while self._recent and self._recent[0] <= now - self.window:
                    self._recent.popleft()
                if self._recent and now - self._recent[-1] < self.min_gap:
                    await asyncio.sleep(self._recent[-1] + self.min_gap - now)
                    continue
                if len(self._recent) < self.capacity:
                    break
                await asyncio.sleep(self._recent[0] + self.window - now)
            self._recent.append(now)
            if chat is not None:
                self._last[chat] = now
                if len(self._last) > 50_000:
                    cutoff = now - max(self.per_chat_interval, self.window)
                    self._last = {k: v for k, v in self._last.items() if v > cutoff}


@dataclass
class _Item:
    row_id: int | None  # None: a direct reply that was never stored (not retried after a restart)
    message: Outbound
    attempts: int = 0
    done: asyncio.Future[bool] | None = field(default=None, repr=False)
    parts: tuple[_Item, ...] = ()  # set when several queued messages go out as this one

    def each(self) -> tuple[_Item, ...]:
        """The queued messages this send stands for (itself, unless it was merged)."""
        return self.parts or (self,)

    def resolve(self, ok: bool) -> None:
        for part in self.each():
            if part.done is not None and not part.done.done():
                part.done.set_result(ok)


MERGE_SEPARATOR = "\n\n"
MAX_MERGED = 4  # queued messages joined into one send, at most


def mergeable(first: Outbound, then: Outbound, *, limit: int) -> bool:
    """Whether `then` may be joined onto `first` in one message: only the last part may carry buttons, a
    safe reply always stands alone (so it is never lost above other text), an update (which restates the
    message before it in place) is never joined onto other text, and the result must fit."""
    if first.choices or then.update or "safe_reply" in (first.meta.get("kind"), then.meta.get("kind")):
        return False
    return len(first.text) + len(MERGE_SEPARATOR) + len(then.text) <= limit


def merged(first: Outbound, then: Outbound) -> Outbound:
    """`first`'s text above `then`'s; everything else is `then`'s (its buttons and every hint: progress, free
    text, lasting), since the joined message asks what `then` asks. `replace` keeps fields added later too."""
    text = MERGE_SEPARATOR.join(t for t in (first.text, then.text) if t)
    return replace(then, text=text)


class OutboxSender:
    """Sends a channel's outbox rows: one worker per chat (so each chat stays in order), chats in parallel."""

    MAX_TRANSIENT_TRIES = 5

    def __init__(
        self,
        *,
        engine: Any,  # the storage engine from storage.db.make_engine
        keyring: Keyring,
        channel: Channel,
        clock: Callable[[], datetime],
        per_chat_interval: float = 1.0,
        global_per_second: float = 30.0,
        scan_interval: float = 2.0,
        mark_interval: float = 0.0,
        max_in_flight: int = 8,
        batch: int = 200,
        executor: Executor | None = None,
        claim_ttl: float = 30.0,
        claim_renew: float = 10.0,
        shared_budget: bool | None = None,
        budget_jitter: float = 0.05,
        transient_tries: int | None = None,
        retry_pause: float = 0.5,
        hold_seconds: float | None = None,
    ) -> None:
        self.engine = engine
        # Network errors: tried `transient_tries` times in this process (waiting retry_pause * 2**try between),
        # then the row is postponed in the database and its address held for `hold_seconds` (default: the
        # outbox's own back-off). Email sets these from its settings; chat channels keep the defaults.
        self.transient_tries = transient_tries or self.MAX_TRANSIENT_TRIES
        self.retry_pause = retry_pause
        self.hold_seconds = hold_seconds
        self.keyring = keyring
        self.channel = channel
        self.clock = clock
        self.limiter = RateLimiter(per_chat_interval=per_chat_interval, global_per_second=global_per_second)
        self.scan_interval = scan_interval
        self.mark_interval = mark_interval
        self.batch = batch
        # Storage calls run here. Sharing the dispatcher's single thread on SQLite means our small writes
        # queue behind its steps instead of both sides sleeping in SQLite's busy handler.
        self.executor = executor
        self._slots = asyncio.Semaphore(max_in_flight)
        # A channel may take several queued messages for one chat as one (`merge_limit`: its longest text):
        # the person reads one message instead of several, and under a per-chat limit of about one
        # message a second the question arrives without waiting behind the "thanks" before it.
        self.merge_limit: int | None = getattr(channel, "merge_limit", None)
        self._queues: dict[str, deque[_Item]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._known: set[int] = set()  # row ids queued, in flight, or sent but not yet marked
        self._held: dict[str, float] = {}  # chats waiting after repeated network errors
        self._to_mark: list[int] = []
        self._mark_done: asyncio.Future[bool] | None = None  # resolved when the rows in _to_mark are committed
        # Rows marked sent by commit number n, kept until a scan that began after commit n has finished: a
        # scan that read the table before that commit still sees them pending and must not queue them again.
        self._mark_commits = 0
        self._just_marked: dict[int, int] = {}
        self._scans: list[int] = []  # the commit number each scan now reading began at
        self._kick = asyncio.Event()
        self._marked = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._calls: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.dead = 0
        self.holder = new_holder()  # who we are to other processes (host:pid:random), on every claim
        self.claim_ttl = claim_ttl
        self.claim_renew = claim_renew
        self.active = True  # every process sends (no standby since issue 26)
        self._claims_until = 0.0  # monotonic time our claims are good until (last renewal + ttl - renew)
        self._wanted: dict[int, tuple[str, Outbound]] = {}  # rows committed here: claimed at the next kick
        self.in_doubt = 0  # rows taken over whose send had started elsewhere
        self._claiming = 0  # claims of rows committed here, under way
        # The last full scan found a whole batch: more chats are waiting (a broadcast). Claim again as soon as half
        # of what we hold has gone, not at the next scan interval, so the sender never runs dry while rows wait.
        self._more = False
        shared = (engine is not None and is_postgres(engine)) if shared_budget is None else shared_budget
        self.budget = (
            SharedBudget(self._book, limit=global_per_second, jitter=budget_jitter) if shared else None
        )

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._claims_until = time.monotonic() + self.claim_ttl - self.claim_renew
        ROLE.senders[self.channel.name] = self.holder
        self._tasks = [
            loop.create_task(self._scan_loop(), name=f"outbox-scan-{self.channel.name}"),
            loop.create_task(self._mark_loop(), name=f"outbox-mark-{self.channel.name}"),
            loop.create_task(self._renew_loop(), name=f"outbox-claims-{self.channel.name}"),
        ]
        if self.budget is not None:
            self._tasks.append(loop.create_task(self.budget.run(), name=f"outbox-budget-{self.channel.name}"))
        self.kick()

    async def stop(self, *, drain: float = 5.0) -> None:
        """Give queued messages up to `drain` seconds, then stop; unsent rows stay pending for next time."""
        try:
            await self.wait_idle(timeout=drain)
        except TimeoutError:
            log.warning("outbox.stop_with_pending channel=%s", self.channel.name)
        tasks = [*self._tasks, *self._workers.values(), *self._calls]
        pending = set(tasks)
        while pending:
            for task in pending:
                task.cancel()
            # Cancel again if needed: Python 3.11's wait_for() can swallow a cancel that races with kick().
            _, pending = await asyncio.wait(pending, timeout=0.2)
        await asyncio.gather(*tasks, return_exceptions=True)
        for queue in self._queues.values():
            for item in queue:
                if item.done is not None and not item.done.done():
                    item.done.set_result(False)
        self._tasks, self._workers, self._queues = [], {}, {}
        await self._flush_marks()
        self._wanted.clear()
        await self._db_safely(self._db_release)  # what is left goes to the other processes at once
        ROLE.senders.pop(self.channel.name, None)

    @property
    def idle(self) -> bool:
        return (not self._queues and not self._workers and not self._to_mark and not self._known and not self._calls
                and not self._wanted and not self._claiming)

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        """Wait until nothing is queued, in flight or waiting to be marked sent."""
        await wait_until(lambda: self.idle, timeout, "outbox sender")

    # -- intake ------------------------------------------------------------------------------------
    def kick(self) -> None:
        """Look for due rows now rather than at the next scan."""
        self._kick.set()

    def enqueue(self, address: str, items: Sequence[tuple[int, Outbound]]) -> None:
        """Rows just committed for `address` (already in id order): claimed for this process at once (with any
        older rows of the chat), then queued. When another process holds the chat they stay pending for it."""
        fresh = {rid: (address, msg) for rid, msg in items if rid not in self._known}
        if fresh:
            self._wanted.update(fresh)
            self.kick()

    def _queue(self, address: str, items: Sequence[tuple[int, Outbound]]) -> None:
        """Queue claimed rows for `address` (in id order); rows already known are ignored."""
        fresh = [_Item(rid, msg) for rid, msg in items if rid not in self._known]
        if not fresh:
            return
        self._known.update(i.row_id for i in fresh if i.row_id is not None)
        self._push(address, fresh)

    def send_now(self, address: str, messages: Sequence[Outbound]) -> asyncio.Future[bool]:
        """Send messages that have no outbox row (paced and retried like the rest, but not durable).

        The future is True once all were delivered, False if one could not be."""
        loop = asyncio.get_running_loop()
        futures = [loop.create_future() for _ in messages]
        self._push(address, [_Item(None, m, done=f) for m, f in zip(messages, futures, strict=True)])

        async def all_done() -> bool:
            return all(await asyncio.gather(*futures)) if futures else True

        return asyncio.ensure_future(all_done())

    async def mark_delivered(self, ids: Sequence[int]) -> None:
        """Mark rows sent without sending them (their message already went out another way)."""
        if ids:
            await self._db_safely(self._db_mark_sent, list(ids))

    async def pace(self) -> None:
        """Wait for a slot in the global budget (for edits and other calls that count against it)."""
        if self.budget is not None:
            await self.budget.slot([])
        await self.limiter.wait_global()

    def call(self, method: str, *args: Any) -> None:
        """Run one of the channel's own methods (e.g. remove_keyboard) in the background, within the global
        budget; the sender is not idle until it has finished."""

        async def paced() -> None:
            await self.pace()
            try:
                await getattr(self.channel, method)(*args)
            except Exception as exc:
                log.warning("outbox.call_failed channel=%s method=%s error=%s", self.channel.name, method,
                            type(exc).__name__)

        task = asyncio.get_running_loop().create_task(paced())
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)

    def _push(self, address: str, items: list[_Item]) -> None:
        self._queues.setdefault(address, deque()).extend(items)
        if address not in self._workers:
            self._workers[address] = asyncio.get_running_loop().create_task(self._work(address))

    # -- delivery ----------------------------------------------------------------------------------
    async def _work(self, address: str) -> None:
        queue = self._queues[address]
        item: _Item | None = None
        try:
            while queue:
                item = self._take(queue)
                outcome = await self._attempt(address, item)
                while outcome == "retry":
                    outcome = await self._attempt(address, item)
                if outcome == "lost":
                    self._let_go(address, queue, item)
                    item = None
                    break
                item = None
                if outcome == "hold":
                    self._hold(address, queue)
                    break
        except asyncio.CancelledError:
            if item is not None:  # stopped mid-send: a direct reply's waiter learns it may not have gone
                item.resolve(False)
            raise
        finally:
            self._workers.pop(address, None)
            if not queue:
                self._queues.pop(address, None)

    def _take(self, queue: deque[_Item]) -> _Item:
        """The next send: the head of the queue, joined with the messages behind it when the channel allows."""
        item = queue.popleft()
        if self.merge_limit is None:
            return item
        parts = [item]
        message = item.message
        while queue and len(parts) < MAX_MERGED and mergeable(message, queue[0].message, limit=self.merge_limit):
            nxt = queue.popleft()
            message = merged(message, nxt.message)
            parts.append(nxt)
        if len(parts) == 1:
            return item
        return _Item(None, message, parts=tuple(parts))

    async def _attempt(self, address: str, item: _Item) -> str:
        await self.limiter.wait_chat(address)
        async with self._slots:
            rows = [p.row_id for p in item.each() if p.row_id is not None]
            if rows and time.monotonic() > self._claims_until:
                return "lost"  # our claims may have run out: another process may be sending this chat now
            await self.limiter.wait_global(address)
            if self.budget is not None:  # last before the send: a booked slot is used on time or not at all
                await self.budget.slot(rows)  # the shared global rate (marks the rows as being sent)
            try:
                await self.channel.send(address, item.message)
            except DeliveryError as exc:
                return await self._failed(address, item, exc)
            except Exception as exc:
                return await self._failed(address, item, DeliveryError(type(exc).__name__))
        self.sent += 1
        rows = [p.row_id for p in item.each() if p.row_id is not None]
        item.resolve(True)
        if rows:
            # This chat's next message waits until this one is marked sent (a commit, while the per-chat
            # interval runs anyway): after a crash, at most the message in flight can go to a chat again.
            await self._mark(rows)
        return "sent"

    async def _mark(self, rows: list[int]) -> bool:
        """Have `rows` marked sent by the next commit and wait for it; False if that commit failed (the rows
        are kept, so this process never sends them again, and marked later)."""
        self._to_mark.extend(rows)
        if self._mark_done is None:
            self._mark_done = asyncio.get_running_loop().create_future()
        done = self._mark_done
        self._marked.set()
        return await asyncio.shield(done)

    async def _failed(self, address: str, item: _Item, exc: DeliveryError) -> str:
        if exc.retry_after is not None:
            # Flood control: every send waits (in every process), then this message goes again. Never dropped.
            log.warning("outbox.rate_limited channel=%s retry_after=%.1f", self.channel.name, exc.retry_after)
            self.limiter.pause(exc.retry_after)
            if self.budget is not None:
                self.budget.block(time.time() + exc.retry_after)
                await self._db_safely(self._db_block, time.time() + exc.retry_after)
            return "retry"
        if exc.permanent:
            for part in item.each():
                self.dead += 1
                log.warning("outbox.undeliverable channel=%s row=%s", self.channel.name, part.row_id)
                if part.row_id is not None:
                    await self._db_safely(self._db_mark_dead, part.row_id, str(exc))
                    self._known.discard(part.row_id)
            item.resolve(False)
            return "dead"
        item.attempts += 1
        log.warning("outbox.send_failed channel=%s row=%s try=%d", self.channel.name, item.row_id,
                    item.attempts)
        if item.attempts < self.transient_tries:
            await asyncio.sleep(min(30.0, self.retry_pause * 2**item.attempts))
            return "retry"
        stored = [p for p in item.each() if p.row_id is not None]
        item.resolve(False)  # direct replies are not retried after this
        if not stored:
            return "dead"
        until = self.clock() + outbox.retry_delay(item.attempts)
        for part in stored:
            await self._db_safely(self._db_postpone, part.row_id, until, str(exc))
            self._known.discard(part.row_id)
        return "hold"

    def _hold(self, address: str, queue: deque[_Item]) -> None:
        """Stop sending to a chat for a while; its rows stay pending and come back in order via the scan."""
        hold = self.hold_seconds
        if hold is None:
            hold = outbox.retry_delay(self.transient_tries).total_seconds()
        self._held[address] = time.monotonic() + hold
        for item in queue:
            if item.row_id is not None:
                self._known.discard(item.row_id)
            elif item.done is not None and not item.done.done():
                item.done.set_result(False)
        queue.clear()

    # -- background loops --------------------------------------------------------------------------
    async def _scan_loop(self) -> None:
        while True:
            kicked = False
            with suppress(TimeoutError):
                await asyncio.wait_for(self._kick.wait(), timeout=self.scan_interval)
                kicked = True
            self._kick.clear()
            if kicked and self._wanted:
                await self.rescan(among=True)  # rows committed here: claim just their chats, now
            else:
                await self.rescan()

    async def rescan(self, *, among: bool = False) -> None:
        """Claim due chats and queue their rows not already known (every few seconds, and on a kick); `among`:
        only the chats of the rows committed in this process since the last time."""
        self._claiming += 1
        try:
            await self._rescan(among)
        finally:
            self._claiming -= 1

    async def _rescan(self, among: bool) -> None:
        wanted, fresh = (list(self._wanted), dict(self._wanted)) if among else (None, {})
        if among:
            self._wanted.clear()
        begun = self._mark_commits  # commits up to this one are visible to the read below
        self._scans.append(begun)
        try:
            rows = await self._in_db_thread(self._db_claim, wanted)
        except Exception as exc:
            log.warning("outbox.scan_failed channel=%s error=%s", self.channel.name, type(exc).__name__)
            return
        finally:
            self._scans.remove(begun)
        if not among:
            self._more = len(rows) >= self.batch
        now = time.monotonic()
        self._held = {a: t for a, t in self._held.items() if t > now}
        just_marked = self._just_marked
        seen_by_all = min([begun, *self._scans])  # a scan still reading may have begun earlier
        self._just_marked = {k: n for k, n in just_marked.items() if n > seen_by_all}
        for rid, address_enc, payload, kind, doubt, council in rows:
            if rid in self._known or rid in just_marked:
                continue
            if doubt:
                self.in_doubt += 1
                log.warning("outbox.in_doubt channel=%s row=%d", self.channel.name, rid)  # may arrive twice
            if rid in fresh:
                address, message = fresh[rid]
                self._queue(address, [(rid, message)])
                continue
            if address_enc is None:
                await self._db_safely(self._db_mark_dead, rid, "no address")
                continue
            try:
                address = self.keyring.decrypt(address_enc, council=council)  # its council's keys (bot/crypto)
                message = replace(Outbound.from_json(json.loads(payload)), meta={"kind": kind, "council": council})
            except (ValueError, KeyError) as exc:
                await self._db_safely(self._db_mark_dead, rid, f"unreadable: {type(exc).__name__}")
                continue
            if address in self._held:
                continue
            self._queue(address, [(rid, message)])

    async def _renew_loop(self) -> None:
        while True:
            await asyncio.sleep(self.claim_renew)
            asked = time.monotonic()
            try:
                held = await self._in_db_thread(self._db_renew)
            except Exception as exc:
                log.warning("outbox.renew_failed channel=%s error=%s", self.channel.name, type(exc).__name__)
                if time.monotonic() > self._claims_until:
                    self._stand_by()  # our claims ran out: leave the stored rows to whoever claims them next
            else:
                # Stop a little before the stored expiry, so two senders never overlap on a slow renewal.
                self._claims_until = asked + self.claim_ttl - self.claim_renew
                self._drop(set(self._known) - set(held) - set(self._to_mark))

    def _drop(self, lost: set[int]) -> None:
        """Unqueue rows whose claim ran out before we renewed it (another process may hold them now)."""
        if not lost:
            return
        log.warning("outbox.claims_expired channel=%s count=%d", self.channel.name, len(lost))
        for queue in self._queues.values():
            gone = [item for item in queue if item.row_id in lost]
            for item in gone:
                queue.remove(item)
        self._known.difference_update(lost)

    def _stand_by(self) -> None:
        """Drop queued stored rows (they stay pending for the next claim); direct replies still go."""
        for queue in self._queues.values():
            kept = [item for item in queue if item.row_id is None]
            self._known.difference_update(item.row_id for item in queue if item.row_id is not None)
            queue.clear()
            queue.extend(kept)

    def _let_go(self, address: str, queue: deque[_Item], item: _Item) -> None:
        """A send found our claims run out: this chat's stored rows are left to whoever claims them next."""
        log.warning("outbox.claims_expired channel=%s", self.channel.name)
        for part in item.each():
            if part.row_id is not None:
                self._known.discard(part.row_id)
        item.resolve(False)
        self._stand_by()

    async def _mark_loop(self) -> None:
        while True:
            await self._marked.wait()
            self._marked.clear()
            # Marked as soon as a send succeeds, not gathered for an interval: a crash between a send and its
            # mark sends that message again after the restart, so the window is one commit (plus the wait for
            # the database thread). Sends that succeed while a commit runs are marked together in the next
            # one, so a busy sender still writes few commits. `mark_interval` only spaces commits out.
            await self._flush_marks()
            if self.mark_interval > 0:
                await asyncio.sleep(self.mark_interval)

    async def _flush_marks(self) -> None:
        ids, self._to_mark = self._to_mark, []
        done, self._mark_done = self._mark_done, None
        if not ids:
            _settle(done, True)
            return
        try:
            await self._in_db_thread(self._db_mark_sent, ids)
        except Exception as exc:
            log.warning("outbox.mark_failed channel=%s count=%d error=%s", self.channel.name, len(ids),
                        type(exc).__name__)
            self._to_mark = ids + self._to_mark  # still known, so never sent twice by this process
            _settle(done, False)  # the chats go on; these rows are marked by a later commit
            await asyncio.sleep(1.0)
            self._marked.set()
            return
        except BaseException:
            self._to_mark = ids + self._to_mark  # cancelled (stopping): stop() marks them in its last flush
            _settle(done, False)
            raise
        self._mark_commits += 1
        self._just_marked.update(dict.fromkeys(ids, self._mark_commits))
        self._known.difference_update(ids)
        _settle(done, True)
        if self._more and len(self._known) <= self.batch // 2:
            self._more = False
            self.kick()  # more rows were waiting at the last scan: claim the next batch now

    # -- storage (run in threads) ------------------------------------------------------------------
    async def _in_db_thread(self, fn: Callable[..., Any], *args: object) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    async def _db_safely(self, fn: Callable[..., None], *args: object) -> None:
        try:
            await self._in_db_thread(fn, *args)
        except Exception as exc:
            log.warning("outbox.db_write_failed channel=%s error=%s", self.channel.name, type(exc).__name__)

    def _db_claim(self, among: list[int] | None) -> list[tuple[int, bytes | None, str, str, bool, str]]:
        """Claim chats (those of `among`, or any due) for this sender; the rows it now holds, oldest first."""
        now = self.clock()
        until = now + timedelta(seconds=self.claim_ttl)
        name = self.channel.name
        with _every_council(self.engine) as s:
            gone = tuple(h for h in outbox.claimants(s, name, now=now) if h != self.holder and holder_gone(h))
            if gone:
                log.info("outbox.claims_taken_over channel=%s count=%d", name, len(gone))  # a process died
            return outbox.claim(s, name, self.holder, now=now, until=until, limit=self.batch, among=among,
                                gone=gone)

    def _db_renew(self) -> list[int]:
        now = self.clock()
        with _every_council(self.engine) as s:
            return outbox.renew(s, self.holder, now=now, until=now + timedelta(seconds=self.claim_ttl))

    def _db_release(self) -> None:
        with _every_council(self.engine) as s:
            outbox.release(s, self.holder)

    async def _book(self, count: int, rows: list[list[int]]) -> tuple[float, int]:
        return await self._in_db_thread(self._db_book, count, rows)  # type: ignore[no-any-return]

    def _db_book(self, count: int, rows: list[list[int]]) -> tuple[float, int]:
        """Book send slots from the shared budget and record the rows of the waiters who got one as being sent."""
        assert self.budget is not None
        b = self.budget
        with _every_council(self.engine) as s:
            first, n = send_budget.book(s, self.channel.name, now=time.time(), count=count, gap=b.gap,
                                        horizon=b.horizon)
            ids = [rid for group in rows[:n] for rid in group]
            outbox.mark_sending(s, ids, at=self.clock())
            return first, n

    def _db_block(self, until: float) -> None:
        with _every_council(self.engine) as s:
            send_budget.block(s, self.channel.name, until=until)

    def _db_mark_sent(self, ids: list[int]) -> None:
        with _every_council(self.engine) as s:
            outbox.mark_sent(s, ids, now=self.clock())

    def _db_mark_dead(self, row_id: int, error: str) -> None:
        with _every_council(self.engine) as s:
            outbox.mark_dead(s, row_id, error=error)

    def _db_postpone(self, row_id: int, until: datetime, error: str) -> None:
        with _every_council(self.engine) as s:
            outbox.postpone(s, row_id, until=until, error=error)


@contextmanager
def _every_council(engine: Any) -> Iterator[Session]:
    """The sender's transactions: one bot per channel sends every council's queued replies (the invite decides a
    person's council, not the token), so its outbox statements run in tenancy's delivery window."""
    with tenancy.delivery(), session(engine) as s:
        yield s


def _settle(done: asyncio.Future[bool] | None, ok: bool) -> None:
    if done is not None and not done.done():
        done.set_result(ok)


__all__ = ["OutboxSender", "RateLimiter", "holder_gone", "new_holder"]
