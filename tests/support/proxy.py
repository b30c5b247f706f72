"""A loopback round-robin proxy in front of several `ourvoice run` processes, as nginx or HAProxy would sit.

Each new client connection goes to the next backend in turn. A backend that refuses the connection (a process
that was killed, or one still starting and not yet listening) is skipped and the next one tried, like nginx's
`proxy_next_upstream error`; only when every backend refuses does the client get a 502. Once connected, bytes
are piped both ways until either side closes, so a backend killed in the middle of a request cuts the client's
connection too: the client sees its request fail and retries, as Telegram and the chat page do. A request that
was already sent is never replayed on another backend by the proxy (nginx does not replay a POST either).

It works at the connection level (HAProxy's `mode tcp`): clients that want every request balanced open a new
connection per request. Run it inside an event loop (`async with RoundRobinProxy(...)`) or on a thread of its
own (`with RoundRobinProxy(...).in_thread()`) for synchronous callers such as a benchmark driver.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass
class ProxyStats:
    """What the proxy did: connections passed to each backend port, refusals skipped, 502s given."""

    connections: dict[int, int] = field(default_factory=dict)
    refused: int = 0
    bad_gateway: int = 0


class RoundRobinProxy:
    """Listens on 127.0.0.1 (a free port unless given) and spreads connections over `backends` (ports on
    127.0.0.1, or (host, port) pairs). `backends` may be changed while it runs."""

    def __init__(self, backends: list[int] | list[tuple[str, int]], *, port: int = 0,
                 connect_timeout: float = 2.0) -> None:
        self.backends: list[tuple[str, int]] = [b if isinstance(b, tuple) else ("127.0.0.1", b) for b in backends]
        self.port = port
        self.connect_timeout = connect_timeout
        self.stats = ProxyStats()
        self._next = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._pipes):
                task.cancel()
            await asyncio.gather(*self._pipes, return_exceptions=True)
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> RoundRobinProxy:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def in_thread(self) -> Iterator[RoundRobinProxy]:
        """Serve from a thread with its own event loop until the block ends."""
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.start())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        thread = threading.Thread(target=serve, name="round-robin-proxy", daemon=True)
        thread.start()
        ready.wait(30)
        try:
            yield self
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(30)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The next backend that accepts a connection, trying each at most once; None when none does."""
        for _ in range(len(self.backends)):
            host, port = self.backends[self._next % len(self.backends)]
            self._next += 1
            try:
                pair = await asyncio.wait_for(asyncio.open_connection(host, port), self.connect_timeout)
            except (OSError, TimeoutError):
                self.stats.refused += 1
                continue
            self.stats.connections[port] = self.stats.connections.get(port, 0) + 1
            return pair
        return None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._pipes.add(task)
        try:
            backend = await self._connect()
            if backend is None:
                self.stats.bad_gateway += 1
                with contextlib.suppress(OSError):
                    writer.write(BAD_GATEWAY)
                    await writer.drain()
                return
            up_reader, up_writer = backend
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                _close(up_writer)
        finally:
            _close(writer)
            if task is not None:
                self._pipes.discard(task)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    """Copy until `source` ends or either side fails; then half-close `sink` so the other side sees the end."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
        if sink.can_write_eof():
            sink.write_eof()
    except (OSError, RuntimeError):
        _close(sink)  # a reset on one side becomes a closed connection on the other


def _close(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError, RuntimeError):
        writer.close()
