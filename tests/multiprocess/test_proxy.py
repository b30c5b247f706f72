"""The loopback round-robin proxy the multiprocess tests put in front of `ourvoice run` processes: requests go
round the backends, a backend that refuses connections (killed) is skipped, and 502 only when all refuse."""

from __future__ import annotations

import httpx
from aiohttp import web

from tests.browser import free_port
from tests.support.proxy import RoundRobinProxy


async def backend(name: str) -> tuple[web.AppRunner, int]:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=name)

    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, int(runner.addresses[0][1])


async def test_round_robin_skips_a_refusing_backend_and_says_502_when_all_refuse() -> None:
    (a, port_a), (b, port_b) = await backend("a"), await backend("b")
    dead = free_port()  # nothing listens here: a killed process
    try:
        async with RoundRobinProxy([port_a, dead, port_b]) as proxy:
            # A new connection per request, as the multiprocess driver makes them.
            async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as client:
                answers = [(await client.get(proxy.url + "/")).text for _ in range(6)]
            assert sorted(answers) == ["a"] * 3 + ["b"] * 3  # every request answered, the dead one skipped
            assert proxy.stats.refused >= 2 and proxy.stats.connections == {port_a: 3, port_b: 3}
            await a.cleanup()  # "a" is killed too: "b" alone answers
            async with httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)) as client:
                assert [(await client.get(proxy.url + "/")).text for _ in range(3)] == ["b"] * 3
                await b.cleanup()
                gone = await client.get(proxy.url + "/")
            assert gone.status_code == 502 and proxy.stats.bad_gateway == 1
    finally:
        await a.cleanup()
        await b.cleanup()


def test_the_proxy_serves_from_a_thread_for_synchronous_callers() -> None:
    import asyncio
    import threading

    ready = threading.Event()
    loop = asyncio.new_event_loop()
    holder: dict[str, int] = {}

    def serve() -> None:  # a backend on a loop of its own, as another process would be
        asyncio.set_event_loop(loop)
        runner, port = loop.run_until_complete(backend("t"))
        holder["port"] = port
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        with RoundRobinProxy([holder["port"]]).in_thread() as proxy:
            assert httpx.get(proxy.url + "/").text == "t"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
