"""The outbox sender in a process of its own, so delivering replies gets a CPU core of its own.

Sending is most of a channel's CPU (python-telegram-bot builds, posts and parses every message). In the
channel's process it competes with reading updates; here a child process runs the ordinary OutboxSender
(same pacing, 429 handling, dead rows, restart scan) on its own database engine and its own SDK client,
and the channel process talks to it through a pipe. Order per chat holds because commands cross one pipe
in order and the child keeps one queue per chat. Rows are durable, so if the child dies its replacement's
scan finds every row that was not marked sent (as after any crash, a reply may then go twice; none is lost).

The child is started from settings alone (never forked from the busy channel process), like the dispatch
workers in bot.dispatch_worker.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import multiprocessing as mp
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from bot.channels.base import wait_until
from bot.crypto import Keyring
from bot.dispatch_worker import settle_heap
from bot.messages import Outbound
from bot.outbox import OutboxSender, new_holder
from bot.settings import BotSettings
from storage.db import make_engine

log = logging.getLogger("ourvoice.send_worker")

# Builds the child's channel, connected and ready to send: a module-level async function (picklable by name).
ChannelFactory = Callable[[Any], Awaitable[Any]]


# ------------------------------------------------------------------------------------------ the child


def _serve(
    settings: BotSettings, factory: ChannelFactory, channel_settings: Any, limits: dict[str, Any],
    conn: Connection, log_level: int,
) -> None:
    logging.basicConfig(level=log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(_child(settings, factory, channel_settings, limits, conn))


async def _child(
    settings: BotSettings, factory: ChannelFactory, channel_settings: Any, limits: dict[str, Any], conn: Connection
) -> None:
    loop = asyncio.get_running_loop()
    engine = make_engine(settings.database_url)
    keyring = Keyring(settings.id_hash_key, settings.fernet_keys())
    channel = await factory(channel_settings)
    sender = OutboxSender(
        engine=engine, keyring=keyring, channel=channel, clock=lambda: datetime.now(UTC), **limits
    )
    await sender.start()
    inbox: asyncio.Queue[Any] = asyncio.Queue()

    def read() -> None:  # a thread, so the pipe is always drained however busy the loop is
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                msg = ("stop", 2.0, -1)
            loop.call_soon_threadsafe(inbox.put_nowait, msg)
            if msg[0] == "stop":
                return

    threading.Thread(target=read, name="send-worker-read", daemon=True).start()
    await sender.rescan()  # rows left unsent by an earlier sender are queued before we say we're ready
    settle_heap()
    conn.send(("ready", sender.idle))
    seen = 0
    reported = (0, True)

    async def report_state() -> None:
        nonlocal reported
        while True:
            state = (seen, sender.idle)
            if state != reported:
                reported = state
                conn.send(("state", *state))
            await asyncio.sleep(0.005)

    reporter = loop.create_task(report_state())
    while True:
        msg = await inbox.get()
        kind = msg[0]
        if kind == "enqueue":
            _, address, items, seq = msg
            sender.enqueue(address, items)
        elif kind == "send_now":
            _, token, address, messages, seq = msg
            done = sender.send_now(address, messages)
            done.add_done_callback(lambda f, t=token: conn.send(("done", t, bool(not f.cancelled() and f.result()))))
        elif kind == "mark":
            _, ids, seq = msg
            await sender.mark_delivered(ids)
        elif kind == "kick":  # look for due rows now, before saying this command is done
            _, seq = msg
            await sender.rescan()
        elif kind == "call":  # a paced channel call that is not a message, e.g. taking buttons off one
            _, method, args, seq = msg
            sender.call(method, *args)
        elif kind == "stop":
            _, drain, seq = msg
            reporter.cancel()
            await sender.stop(drain=drain)
            await channel.stop()
            engine.dispose()
            conn.send(("stopped",))
            return
        else:
            continue
        seen = max(seen, seq)


# ------------------------------------------------------------------------------------------ the parent


class SenderProcess:
    """The channel process's handle on the child: the same methods as OutboxSender (the Sender protocol,
    plus start, stop, idle), each forwarded down the pipe. A child that dies is started again."""

    START_TIMEOUT = 120.0

    def __init__(
        self,
        settings: BotSettings,
        factory: ChannelFactory,
        channel_settings: Any,
        *,
        per_chat_interval: float,
        global_per_second: float,
        max_in_flight: int,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.channel_settings = channel_settings
        self.limits = {
            "per_chat_interval": per_chat_interval,
            "global_per_second": global_per_second,
            "max_in_flight": max_in_flight,
            # One holder for every child this handle starts: a replacement takes the lease back at once.
            "lease_holder": new_holder(),
        }
        self._proc: Any = None
        self._conn: Connection | None = None
        self._seq = 0
        self._seen = 0
        self._child_idle = True
        self._tokens = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[bool]] = {}
        self._stopping = False
        self._stopped: asyncio.Event | None = None
        self._restart: asyncio.Task[None] | None = None

    # -- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the child and wait until its channel is connected and its sender is running."""
        self._stopping = False
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._spawn)
        assert self._conn is not None
        loop.add_reader(self._conn.fileno(), self._on_readable)

    def _spawn(self) -> None:
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["bot.runtime"])
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_serve,
            args=(self.settings, self.factory, self.channel_settings, self.limits, child,
                  logging.getLogger().getEffectiveLevel()),
            name="ourvoice-sender",
            daemon=True,
        )
        proc.start()
        child.close()
        ready = parent.recv() if parent.poll(self.START_TIMEOUT) else None
        if not (isinstance(ready, tuple) and ready[0] == "ready"):
            proc.kill()
            raise RuntimeError("send worker did not start")
        self._proc, self._conn = proc, parent
        self._seq = self._seen = 0
        self._child_idle = bool(ready[1])
        self._stopped = asyncio.Event()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    async def stop(self, *, drain: float = 5.0) -> None:
        """Let the child send what it holds (up to `drain` seconds), then end it; unsent rows stay pending."""
        self._stopping = True
        if self._restart is not None:
            await asyncio.gather(self._restart, return_exceptions=True)
        conn, proc, stopped = self._conn, self._proc, self._stopped
        if conn is None or proc is None or stopped is None:
            return
        try:
            self._send("stop", drain)
            await asyncio.wait_for(stopped.wait(), drain + 10)
        except (OSError, TimeoutError):
            log.warning("send_worker.stop_timeout")
        self._close()
        await asyncio.get_running_loop().run_in_executor(None, proc.join, 5)
        if proc.is_alive():
            proc.kill()

    def _close(self) -> None:
        if self._conn is not None:
            asyncio.get_running_loop().remove_reader(self._conn.fileno())
            self._conn.close()
        self._conn = None
        for fut in self._waiting.values():
            if not fut.done():
                fut.set_result(False)
        self._waiting.clear()

    @property
    def idle(self) -> bool:
        """Nothing sent to the child that it has not taken in, and nothing queued or unmarked there."""
        if self._restart is not None:
            return False  # a new child is starting: rows committed meanwhile are found by its scan
        return self._seen >= self._seq and self._child_idle and not self._waiting

    async def wait_idle(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a plain bounded wait
        await wait_until(lambda: self.idle, timeout, "send worker")

    # -- the Sender protocol -----------------------------------------------------------------------
    def enqueue(self, address: str, items: Sequence[tuple[int, Outbound]]) -> None:
        self._send("enqueue", address, list(items))

    def send_now(self, address: str, messages: Sequence[Outbound]) -> asyncio.Future[bool]:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        token = next(self._tokens)
        self._waiting[token] = fut
        if not self._send("send_now", token, address, list(messages)):
            self._waiting.pop(token, None)
            fut.set_result(False)
        return fut

    async def mark_delivered(self, ids: Sequence[int]) -> None:
        if ids:
            self._send("mark", list(ids))

    async def pace(self) -> None:
        """Pacing lives in the child: calls that need it go there with `call`."""

    def call(self, method: str, *args: Any) -> None:
        """Run one of the child's channel methods within its rate limits (e.g. remove_keyboard)."""
        self._send("call", method, args)

    def kick(self) -> None:
        self._send("kick")

    # -- the pipe ----------------------------------------------------------------------------------
    def _send(self, *command: Any) -> bool:
        if self._conn is None:
            if not self._stopping and self._proc is not None:
                self._died()  # an earlier restart failed: try again (the rows wait in the database)
            return False
        self._seq += 1
        try:
            self._conn.send((*command, self._seq))
        except OSError:
            self._died()
            return False
        return True

    def _on_readable(self) -> None:
        conn = self._conn
        if conn is None:
            return
        try:
            while conn.poll():
                msg = conn.recv()
                kind = msg[0]
                if kind == "state":
                    self._seen, self._child_idle = msg[1], msg[2]
                elif kind == "done":
                    fut = self._waiting.pop(msg[1], None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg[2])
                elif kind == "stopped" and self._stopped is not None:
                    self._stopped.set()
        except (EOFError, OSError):
            self._died()

    def _died(self) -> None:
        """The child went away: fail what waits on it and, unless we are stopping, start a new one."""
        self._close()
        if self._stopped is not None:
            self._stopped.set()
        if self._stopping or self._restart is not None:
            return
        log.error("send_worker.died: starting a new one")

        async def again() -> None:
            try:
                await self.start()
                self.kick()  # rows committed while no child was listening
            except Exception as exc:  # noqa: BLE001 - tried again on the next send
                log.error("send_worker.restart_failed error=%s", type(exc).__name__)
            finally:
                self._restart = None

        self._restart = asyncio.get_running_loop().create_task(again())
