"""The loopback fake Bot API in a process of its own, for benchmarks.

Real Telegram runs on other machines, so a benchmark that serves the fake from the bot's own event loop
charges the server's work to the bot. Here the fake runs in a child process, preloaded with the updates,
and the bot under test reaches it over loopback HTTP exactly as in the tests. Both bots in a benchmark use
the same kind of server, so the ratio between them stays fair.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import httpx

Plan = list[tuple[int, str]]  # (chat id, text) in arrival order; text starting with "/" is a command


def _serve(plan: Plan, conn: Connection) -> None:
    """Child process: start the fake, queue every update, report the URL, serve until told to stop."""
    from tests.fakes.telegram_api import FakeBotAPI

    async def main() -> None:
        async with FakeBotAPI() as tg:
            for chat, text in plan:
                build = tg.command_update if text.startswith("/") else tg.text_update
                tg.push_update(build(chat, text))
            conn.send((tg.base_url, tg.bot_base_url, tg.token))
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, conn.recv)  # any message means stop

    asyncio.run(main())


class FakeBotAPIProcess:
    """Context manager: a FakeBotAPI child process holding `plan`'s updates; `wait_done()` says when all is done."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        self.base_url = ""
        self.bot_base_url = ""
        self.token = ""
        self._conn: Connection | None = None
        self._proc: Any = None

    def __enter__(self) -> FakeBotAPIProcess:
        ctx = mp.get_context("spawn")  # a clean interpreter: no inherited event loop or threads
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self.plan, child), daemon=True)
        self._proc.start()
        if not parent.poll(60):
            self._proc.kill()
            raise RuntimeError("fake Bot API process did not start")
        self.base_url, self.bot_base_url, self.token = parent.recv()
        self._conn = parent
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._conn is not None:
            self._conn.send("stop")
        if self._proc is not None:
            self._proc.join(10)
            if self._proc.is_alive():
                self._proc.kill()

    async def wait_done(self, *, delivered: int = 0, timeout: float = 600) -> dict[str, int]:  # noqa: ASYNC109
        """One long request that returns as soon as nothing is pending and `delivered` messages went out.

        It costs the bot under test nothing while it works: no polling from its process.
        """
        async with httpx.AsyncClient(timeout=timeout + 5) as client:
            resp = await client.get(
                f"{self.base_url}/_fake/wait", params={"delivered": delivered, "timeout": timeout}
            )
            return dict(resp.json())
