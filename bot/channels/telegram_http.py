"""python-telegram-bot's network layer on aiohttp instead of httpx.

PTB keeps its HTTP client behind `telegram.request.BaseRequest`, documented as the place to plug in
another asyncio HTTP library; everything above it (building each call's parameters, reading the JSON
reply, turning error codes into RetryAfter, Forbidden, BadRequest and so on, parsing the result into
Message objects) stays PTB's own. We use it because the send worker spends most of its CPU in the HTTP
client: per request, httpx with httpcore and anyio cost about twice what aiohttp does here (measured in
the README's "What took the Telegram row..." section), and aiohttp is already installed for Slack.

Requests go as JSON bodies (PTB's `RequestData.json_payload`), or as multipart when a call uploads a file.
"""

from __future__ import annotations

from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

USER_AGENT = "ourvoice (python-telegram-bot BaseRequest on aiohttp)"


class AiohttpRequest(BaseRequest):
    """One aiohttp session with a bounded connection pool; PTB owns everything above the socket."""

    __slots__ = ("_connect_timeout", "_pool_size", "_pool_timeout", "_read_timeout", "_session", "_write_timeout")

    def __init__(
        self,
        *,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        """PTB adds a long poll's own timeout to this for getUpdates."""
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": USER_AGENT},
                # Bot API replies are JSON from one host: no cookies to keep, nothing to follow.
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=True,  # HTTPS_PROXY / NO_PROXY from the environment, as PTB's httpx client reads them
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; PTB reads the status and body. Transport failures become PTB's errors."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if _unset(read_timeout) else read_timeout
        write = self._write_timeout if _unset(write_timeout) else write_timeout
        connect = self._connect_timeout if _unset(connect_timeout) else connect_timeout
        pool = self._pool_timeout if _unset(pool_timeout) else pool_timeout
        timeout = _timeout(read=read, write=write, connect=connect, pool=pool)
        kwargs: dict[str, Any] = {}
        if request_data is not None:
            if request_data.contains_files:
                kwargs["data"] = _multipart(request_data)
            else:
                kwargs["data"] = request_data.json_payload
                kwargs["headers"] = {"Content-Type": "application/json"}
        try:
            async with session.request(method, url, timeout=timeout, **kwargs) as resp:
                return resp.status, await resp.read()
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{err.__class__.__name__}: {err}") from err


def _unset(value: Any) -> bool:
    """PTB passes a DefaultValue marker when the caller gave no timeout: then ours applies (as in httpx's)."""
    return isinstance(value, type(BaseRequest.DEFAULT_NONE))


def _timeout(*, read: float | None, write: float | None, connect: float | None, pool: float | None) -> Any:
    """PTB's four timeouts in aiohttp's terms. aiohttp has no write timeout of its own, so `total` bounds
    the whole exchange (a stalled upload cannot hang a sender); `connect` covers waiting for a pooled
    connection and opening it. None anywhere means no limit there, as in PTB."""
    total = None if read is None or write is None else read + write + (connect or 0) + (pool or 0)
    wait = None if pool is None or connect is None else pool + connect
    return aiohttp.ClientTimeout(total=total, connect=wait, sock_connect=connect, sock_read=read)


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The parameters as form fields plus the files PTB collected (documents, photos and the like)."""
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, part in request_data.multipart_data.items():
        if len(part) == 3:
            filename, content, mime = part  # type: ignore[misc]
            form.add_field(name, content, filename=filename, content_type=mime)
        else:
            filename, content = part  # type: ignore[misc]
            form.add_field(name, content, filename=filename)
    return form

