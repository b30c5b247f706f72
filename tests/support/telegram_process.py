"""The loopback fake Bot API in a child process, for the three-process kill test (issue 26).

Why a process of its own: the send-rate check counts sendMessage requests per second as they arrive at the fake,
the way Telegram counts them. With the fake in the test's own event loop, beside the round-robin proxy and the
80 simulated people, a busy test process stamped requests late and in bunches (25 in a second at a limit of 15
in two full CI runs, 14-15 when the test ran alone), so the check measured the test harness, not ourvoice. Real
Telegram runs on other machines; here it runs in a quiet process that does nothing else.

The child tells the parent at once about each delivered message (the people wait for their reply before sending
the next message), and at the end hands over every sendMessage request with its arrival time (monotonic clock,
shared by processes on one machine) and status.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing as mp
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from tests.fakes.telegram_api import Call, FakeBotAPI


def _serve(events: Connection, control: Connection) -> None:
    """Child: serve the fake, report each delivery on `events`, answer "calls" and "stop" on `control`."""

    async def main() -> None:
        async with FakeBotAPI() as tg:
            tg.on_delivered = lambda chat, _message: events.send(("delivered", int(chat), time.monotonic()))
            control.send((tg.bot_base_url, tg.token))
            loop = asyncio.get_running_loop()
            while True:
                ask = await loop.run_in_executor(None, control.recv)
                if ask == "calls":
                    control.send([(c.method, c.params.get("chat_id"), c.params.get("text"), c.at, c.status)
                                  for c in tg.calls_to("sendMessage")])
                elif ask == "stop":
                    control.send("stopped")
                    return

    asyncio.run(main())


class FakeBotAPIProcess:
    """What the kill test uses of FakeBotAPI (token, URL, update builders, `on_delivered`, `calls_to`), with the
    server in a child process. `calls_to` gives what the parent has heard so far (delivered messages, stamped by
    the child) until `collect()` brings the child's full record."""

    def __init__(self) -> None:
        self.token = ""
        self.bot_base_url = ""
        self.on_delivered: Callable[[int, dict[str, Any]], None] | None = None
        self._builder = FakeBotAPI()  # never started: only its update builders (update ids) are used
        self._heard: list[Call] = []
        self._collected: list[Call] | None = None
        self._proc: Any = None
        self._control: Connection | None = None
        self._events: Connection | None = None
        self._reader: threading.Thread | None = None

    def text_update(self, chat: int, text: str) -> dict[str, Any]:
        return self._builder.text_update(chat, text)

    def command_update(self, chat: int, command: str, args: str = "") -> dict[str, Any]:
        return self._builder.command_update(chat, command, args)

    def calls_to(self, method: str) -> list[Call]:
        if method.lower() != "sendmessage":
            raise ValueError("only sendMessage requests are brought back from the child process")
        return list(self._collected if self._collected is not None else self._heard)

    async def __aenter__(self) -> FakeBotAPIProcess:
        ctx = mp.get_context("spawn")
        events_parent, events_child = ctx.Pipe(duplex=False)
        control_parent, control_child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(events_child, control_child), daemon=True)
        self._proc.start()
        events_child.close()
        ready = await asyncio.to_thread(control_parent.poll, 60)
        if not ready:
            self._proc.kill()
            raise RuntimeError("the fake Bot API process did not start")
        self.bot_base_url, self.token = control_parent.recv()
        self._control, self._events = control_parent, events_parent
        loop = asyncio.get_running_loop()
        self._reader = threading.Thread(target=self._read, args=(loop,), daemon=True)
        self._reader.start()
        return self

    def _read(self, loop: asyncio.AbstractEventLoop) -> None:
        assert self._events is not None
        while True:
            try:
                kind, chat, at = self._events.recv()
            except (EOFError, OSError):
                return
            if kind == "delivered":
                with contextlib.suppress(RuntimeError):  # the loop closed: the test is over
                    loop.call_soon_threadsafe(self._delivered, chat, at)

    def _delivered(self, chat: int, at: float) -> None:
        self._heard.append(Call(method="sendMessage", params={"chat_id": chat}, at=at))
        if self.on_delivered is not None:
            self.on_delivered(chat, {})

    async def collect(self) -> None:
        """Bring every sendMessage request the child received, with its arrival time and status."""
        assert self._control is not None
        control = self._control

        def ask() -> Any:
            control.send("calls")
            return control.recv()

        rows = await asyncio.to_thread(ask)
        self._collected = [Call(method=m, params={"chat_id": chat, "text": text}, at=at, status=status)
                           for m, chat, text, at, status in rows]

    async def __aexit__(self, *exc: object) -> None:
        if self._control is not None:
            control = self._control

            def stop() -> None:
                with contextlib.suppress(EOFError, OSError):
                    control.send("stop")
                    if control.poll(10):
                        control.recv()

            await asyncio.to_thread(stop)
        if self._proc is not None:
            await asyncio.to_thread(self._proc.join, 10)
            if self._proc.is_alive():
                self._proc.kill()
        for conn in (self._control, self._events):
            if conn is not None:
                conn.close()
