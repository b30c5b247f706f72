"""Real `ourvoice run` processes for multiprocess tests and benchmarks: start, wait for /healthz, SIGKILL, restart.

Each process keeps its port across restarts (the load balancer's list of backends does not change), logs to a file
of its own per life, and is reaped after a kill so its process id is free, as after a real crash (a successor on
the same host then proves it gone and takes its claims over at once: bot/process_role.holder_gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Life:
    """One run of a process, from start to kill or stop (monotonic seconds)."""

    pid: int
    started_at: float
    ready_at: float | None = None
    killed_at: float | None = None


@dataclass
class OurvoiceProcess:
    """`python -m <module> run --port PORT <args>` with `env`, in `work`; `module` defaults to the real entry
    point (`bot`, i.e. `ourvoice run`); a test may name a wrapper that adds a probe job and then runs the same CLI."""

    name: str
    port: int
    env: dict[str, str]
    work: Path
    args: list[str] = field(default_factory=list)
    module: str = "bot"
    proc: asyncio.subprocess.Process | None = None
    lives: list[Life] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    @property
    def ready(self) -> bool:
        return self.running and bool(self.lives) and self.lives[-1].ready_at is not None

    def log_path(self, life: int) -> Path:
        return self.work / f"{self.name}-life{life:02d}.log"

    async def start(self) -> None:
        """Start a new life (not waiting for it to be ready: see `wait_ready`)."""
        out = self.log_path(len(self.lives)).open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self.module, "run", "--port", str(self.port), *self.args,
            cwd=self.work, env={"PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **self.env},
            stdout=out, stderr=subprocess.STDOUT,
        )
        out.close()
        self.lives.append(Life(self.proc.pid, time.monotonic()))

    async def wait_ready(self, timeout: float = 180.0) -> None:  # noqa: ASYNC109 - a guard against a hang
        """Until GET /healthz answers 200 (the app's start-up, channel included, is done)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=2.0) as client:
            while True:
                if not self.running:
                    raise RuntimeError(f"{self.name} exited during start-up:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(self.url + "/healthz")).status_code == 200:
                        self.lives[-1].ready_at = time.monotonic()
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{self.name} did not become ready:\n{self.tail()}")
                await asyncio.sleep(0.1)

    async def kill(self) -> None:
        """SIGKILL, then reap (its process id is free again, as after a crash)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGKILL)
        self.lives[-1].killed_at = time.monotonic()
        await self.proc.wait()

    async def stop(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109 - a guard against a hang
        """A clean stop (SIGINT, as Ctrl-C or a process manager's stop), killed if it hangs."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            await self.kill()

    def tail(self, chars: int = 3000) -> str:
        if not self.lives:
            return ""
        return self.log_path(len(self.lives) - 1).read_text(errors="replace")[-chars:]
