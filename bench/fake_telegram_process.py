"""The loopback fake Bot API in a process of its own, enforcing Telegram's real limits, with simulated people.

Real Telegram runs on other machines, so the fake (and the people answering) must not take CPU from the bot's
process. Here a child process serves tests.fakes.telegram_api.FakeBotAPI with `enforce_limits()` on (30
messages a second overall, one a second per chat, 429 with retry_after beyond that), and plays every person:
on "go" each sends their first message at once; whenever the bot's reply reaches a chat, that person sends
their next message straight away. The child records when each message arrived (was queued for getUpdates)
and when the first reply to it was delivered, and hands the latencies back at the end.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import httpx

Script = list[str]  # what each person sends, in order; text starting with "/" is a command


def _serve(chats: list[int], script: Script, conn: Connection) -> None:
    """Child process: start the fake, report its URL, then on "go" play the people until told to stop."""
    from tests.fakes.telegram_api import FakeBotAPI

    async def main() -> None:
        async with FakeBotAPI() as tg:
            tg.enforce_limits(per_second=30, per_chat_interval=1.0)
            step = dict.fromkeys(chats, 0)  # how many messages each person has sent
            waiting: dict[int, float] = {}  # chat -> when its unanswered message arrived
            latencies: list[float] = []
            extra = 0  # replies beyond the first to one message (e.g. a message split in two)

            def say(chat: int) -> None:
                text = script[step[chat]]
                step[chat] += 1
                build = tg.command_update if text.startswith("/") else tg.text_update
                tg.push_update(build(chat, text))
                waiting[chat] = time.monotonic()

            def delivered(chat: int, _message: dict[str, Any]) -> None:
                nonlocal extra
                arrived = waiting.pop(chat, None)
                if arrived is None:
                    extra += 1
                    return
                latencies.append(time.monotonic() - arrived)
                if step[chat] < len(script):
                    say(chat)

            tg.on_delivered = delivered
            conn.send((tg.base_url, tg.bot_base_url, tg.token))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)  # "go"
            for chat in chats:
                say(chat)
            while await loop.run_in_executor(None, conn.recv) == "report":
                left = len(waiting) + sum(len(script) - n for n in step.values())
                conn.send({"latencies": latencies, "extra": extra, "over_limit": tg.over_limit,
                           "left": left, "delivered": tg.delivered})

    asyncio.run(main())


class FakeBotAPIProcess:
    """Context manager: the fake Bot API and the people in a child process. `go()` starts the burst,
    `wait_done()` waits for every reply, `report()` returns what the child measured."""

    def __init__(self, chats: list[int], script: Script) -> None:
        self.chats = chats
        self.script = script
        self.base_url = ""
        self.bot_base_url = ""
        self.token = ""
        self._conn: Connection | None = None
        self._proc: Any = None

    def __enter__(self) -> FakeBotAPIProcess:
        ctx = mp.get_context("spawn")  # a clean interpreter: no inherited event loop or threads
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self.chats, self.script, child), daemon=True)
        self._proc.start()
        if not parent.poll(60):
            self._proc.kill()
            raise RuntimeError("fake Bot API process did not start")
        self.base_url, self.bot_base_url, self.token = parent.recv()
        self._conn = parent
        return self

    def go(self) -> None:
        assert self._conn is not None
        self._conn.send("go")

    def report(self) -> dict[str, Any]:
        assert self._conn is not None
        self._conn.send("report")
        return dict(self._conn.recv())

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._conn is not None:
            self._conn.send("stop")
        if self._proc is not None:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    async def wait_done(self, *, delivered: int, timeout: float = 3600) -> dict[str, int]:  # noqa: ASYNC109
        """One long request that returns once nothing is pending and `delivered` messages went out."""
        async with httpx.AsyncClient(timeout=timeout + 5) as client:
            resp = await client.get(
                f"{self.base_url}/_fake/wait", params={"delivered": delivered, "timeout": timeout}
            )
            return dict(resp.json())
