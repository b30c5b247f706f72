"""A loopback fake of the Telegram Bot API for driving the real python-telegram-bot stack in tests.

Owns request recording, the getUpdates queue and long-poll, fault injection (429s, blocked chats),
Telegram's real send limits when asked (`enforce_limits`: 30 messages a second overall, one a second per
chat, answered with 429 and retry_after like Telegram) and builders for raw update dicts shaped like
Telegram's JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from aiohttp import web

BOT_USER: dict[str, Any] = {
    "id": 999,
    "is_bot": True,
    "first_name": "ourvoice",
    "username": "ourvoice_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
# How the bot appears in the "from" field of the messages it sends.
_BOT_SENDER: dict[str, Any] = {k: BOT_USER[k] for k in ("id", "is_bot", "first_name", "username")}

# Parameters that carry free text: never JSON-decoded even if they look like JSON.
_TEXT_PARAMS = frozenset(
    {"text", "caption", "description", "short_description", "title", "question", "explanation", "name"}
)
# Parameters coerced to int when they arrive as form strings.
_INT_PARAMS = frozenset(
    {
        "chat_id",
        "from_chat_id",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "offset",
        "limit",
        "cache_time",
        "timeout",
        "max_connections",
    }
)
# Methods that succeed with a bare ``true`` and need no state.
_TRUE_METHODS = frozenset(
    {
        "answercallbackquery",
        "leavechat",
        "close",
        "logout",
        "sendchataction",
        "deletemessage",
        "setchatmenubutton",
        "setmydescription",
        "setmyshortdescription",
        "setmyname",
    }
)
# Methods a blocked chat refuses (anything that delivers or changes a message in that chat).
_CHAT_WRITE_PREFIXES = ("send", "edit", "copy", "forward")


@dataclass
class Call:
    """One request the fake received; ``status`` is the HTTP status it answered with."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


class MessageOptions(TypedDict, total=False):
    """Keyword options shared by the message-shaped update builders."""

    user_id: int | None
    chat_type: str
    update_id: int | None
    message_id: int | None


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class _RateLimit:
    remaining: int
    retry_after: int
    methods: frozenset[str]


def _decode_value(key: str, value: Any) -> Any:
    """Turn a form/multipart string back into the value PTB JSON-encoded into it."""
    if not isinstance(value, str) or key in _TEXT_PARAMS:
        return value
    stripped = value.strip()
    if stripped[:1] in ("{", "["):
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    if key in _INT_PARAMS:
        with contextlib.suppress(ValueError):
            return int(stripped)
    if stripped in ("true", "false"):
        return stripped == "true"
    return value


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def describe_predicate(predicate: Callable[[], bool]) -> str:
    """Best-effort human description of a wait_for predicate (its source line if available)."""
    try:
        return inspect.getsource(predicate).strip()
    except (OSError, TypeError):
        return getattr(predicate, "__qualname__", repr(predicate))


class FakeBotAPI:
    """Telegram Bot API double served by aiohttp on 127.0.0.1 (random free port)."""

    def __init__(self, token: str = "123456:TEST-TOKEN") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.max_long_poll: float = 1.0  # cap on getUpdates' ``timeout`` so tests stay fast
        self.webhook_url: str = ""
        self.commands: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}
        self._updates: list[dict[str, Any]] = []
        self._last_update_id = 0
        self._message_ids = itertools.count(1)
        self._misc_ids = itertools.count(1)
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._rate_limits: list[_RateLimit] = []
        self._blocked: set[int] = set()
        self._update_event = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self.delivered = 0  # sendMessage calls that succeeded (cheap to read, unlike sent_messages())
        # Telegram's limits, off unless enforce_limits() is called; over_limit counts the 429s they caused.
        self._limit_per_second: int | None = None
        self._limit_per_chat = 0.0
        self._recent_sends: deque[float] = deque()
        self._last_send: dict[int, float] = {}
        self.over_limit = 0
        # Called with (chat id, message) after each delivered sendMessage (a benchmark's simulated people).
        self.on_delivered: Callable[[int, dict[str, Any]], None] | None = None
        self._changed = asyncio.Event()  # set after every answered request (for /_fake/wait)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/_fake/stats", self._handle_stats)  # for a driver in another process (bench)
        app.router.add_get("/_fake/wait", self._handle_wait)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._closing = False

    async def stop(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeBotAPI.start() has not been awaited")
        return f"http://127.0.0.1:{self._port}"

    @property
    def bot_base_url(self) -> str:
        """What ``ApplicationBuilder().base_url()`` takes; PTB appends the token."""
        return f"{self.base_url}/bot"

    @property
    def file_base_url(self) -> str:
        """What ``ApplicationBuilder().base_file_url()`` takes."""
        return f"{self.base_url}/file/bot"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        wanted = method.lower()
        return [c for c in self.calls if c.method.lower() == wanted]

    def sent_messages(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Params of sendMessage calls that were delivered (HTTP 200), optionally for one chat."""
        return [
            c.params
            for c in self.calls_to("sendMessage")
            if c.status == 200 and (chat_id is None or _as_int(c.params.get("chat_id")) == int(chat_id))
        ]

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state of a message the bot sent (after any edits), as Telegram would return it."""
        return self._messages.get((int(chat_id), int(message_id)))

    def bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        """Current state (after edits) of every message the bot sent to ``chat_id``, oldest first."""
        found = [m for (chat, _), m in self._messages.items() if chat == int(chat_id) and "text" in m]
        return sorted(found, key=lambda m: m["message_id"])

    def clear_calls(self) -> None:
        self.calls.clear()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                recent = ", ".join(f"{c.method}[{c.status}]" for c in self.calls[-15:]) or "none"
                raise AssertionError(
                    f"FakeBotAPI.wait_for timed out after {timeout}s waiting for: "
                    f"{describe_predicate(predicate)}\n  last calls: {recent}"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ fault injection

    def rate_limit(
        self, times: int, retry_after: int = 1, methods: tuple[str, ...] = ("sendMessage",)
    ) -> None:
        self._rate_limits.append(_RateLimit(times, retry_after, frozenset(m.lower() for m in methods)))

    def enforce_limits(self, *, per_second: int = 30, per_chat_interval: float = 1.0) -> None:
        """From now on refuse a sendMessage that would go over Telegram's limits, as Telegram does: 429 with
        retry_after 1 when `per_second` messages were already delivered in the last second, or when the same
        chat got one less than `per_chat_interval` seconds ago. Refused sends deliver nothing."""
        self._limit_per_second = per_second
        self._limit_per_chat = per_chat_interval

    def _check_limits(self, chat_id: int) -> None:
        if self._limit_per_second is None:
            return
        now = time.monotonic()
        while self._recent_sends and self._recent_sends[0] <= now - 1.0:
            self._recent_sends.popleft()
        last = self._last_send.get(chat_id)
        if len(self._recent_sends) >= self._limit_per_second or (
            last is not None and now - last < self._limit_per_chat
        ):
            self.over_limit += 1
            raise _ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        self._recent_sends.append(now)
        self._last_send[chat_id] = now

    def block_chat(self, chat_id: int) -> None:
        self._blocked.add(int(chat_id))

    def unblock_chat(self, chat_id: int) -> None:
        self._blocked.discard(int(chat_id))

    # ------------------------------------------------------------------ update queue

    def push_update(self, update: dict[str, Any]) -> int:
        if "update_id" not in update:
            update["update_id"] = self._next_update_id()
        update_id = int(update["update_id"])
        self._last_update_id = max(self._last_update_id, update_id)
        self._updates.append(update)
        self._updates.sort(key=lambda u: u["update_id"])
        self._wake_pollers()
        return update_id

    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    def _next_update_id(self) -> int:
        self._last_update_id += 1
        return self._last_update_id

    def _wake_pollers(self) -> None:
        event, self._update_event = self._update_event, asyncio.Event()
        event.set()

    # ------------------------------------------------------------------ update builders

    def text_update(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        update_id: int | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        return self._message_update(
            chat_id,
            {"text": text},
            user_id=user_id,
            chat_type=chat_type,
            update_id=update_id,
            message_id=message_id,
        )

    def command_update(
        self, chat_id: int, command: str, args: str = "", **kw: Unpack[MessageOptions]
    ) -> dict[str, Any]:
        """``/command args`` with the bot_command entity PTB's CommandHandler looks for."""
        head = command if command.startswith("/") else f"/{command}"
        text = f"{head} {args}" if args else head
        entity = {"type": "bot_command", "offset": 0, "length": len(head)}
        return self._message_update(chat_id, {"text": text, "entities": [entity]}, **kw)

    def callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int = 1,
        user_id: int | None = None,
        chat_type: str = "private",
        update_id: int | None = None,
    ) -> dict[str, Any]:
        """A button press on message ``message_id``; reuses that message if the bot sent it here."""
        user = self._user(self._sender_id(chat_id, chat_type, user_id))
        message = self._messages.get((int(chat_id), int(message_id)))
        if message is not None:
            message = json.loads(json.dumps(message))
        else:
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": self._chat(chat_id, chat_type, user),
                "from": dict(_BOT_SENDER),
                "text": "(earlier bot message)",
            }
        query = {
            "id": str(next(self._misc_ids)),
            "from": user,
            "chat_instance": f"ci{abs(int(chat_id))}",
            "data": data,
            "message": message,
        }
        return {"update_id": self._take_update_id(update_id), "callback_query": query}

    def sticker_update(
        self, chat_id: int, *, emoji: str = "🙂", **kw: Unpack[MessageOptions]
    ) -> dict[str, Any]:
        sticker = {
            **self._file_fields("sticker"),
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "type": "regular",
            "emoji": emoji,
        }
        return self._message_update(chat_id, {"sticker": sticker}, **kw)

    def photo_update(
        self, chat_id: int, *, caption: str | None = None, **kw: Unpack[MessageOptions]
    ) -> dict[str, Any]:
        sizes = [
            {**self._file_fields("photo"), "width": side, "height": side, "file_size": side * 40}
            for side in (90, 320, 800)
        ]
        fields: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            fields["caption"] = caption
        return self._message_update(chat_id, fields, **kw)

    def voice_update(
        self, chat_id: int, *, duration: int = 3, **kw: Unpack[MessageOptions]
    ) -> dict[str, Any]:
        voice = {
            **self._file_fields("voice"),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": 4096,
        }
        return self._message_update(chat_id, {"voice": voice}, **kw)

    def document_update(
        self,
        chat_id: int,
        *,
        file_name: str = "notes.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        **kw: Unpack[MessageOptions],
    ) -> dict[str, Any]:
        document = {**self._file_fields("document"), "file_name": file_name, "mime_type": mime_type}
        fields: dict[str, Any] = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return self._message_update(chat_id, fields, **kw)

    def location_update(
        self,
        chat_id: int,
        *,
        latitude: float = 51.5072,
        longitude: float = -0.1276,
        **kw: Unpack[MessageOptions],
    ) -> dict[str, Any]:
        return self._message_update(
            chat_id, {"location": {"latitude": latitude, "longitude": longitude}}, **kw
        )

    def contact_update(
        self,
        chat_id: int,
        *,
        phone_number: str = "+447700900123",
        first_name: str = "Test",
        **kw: Unpack[MessageOptions],
    ) -> dict[str, Any]:
        sender = self._sender_id(chat_id, kw.get("chat_type", "private"), kw.get("user_id"))
        contact = {"phone_number": phone_number, "first_name": first_name, "user_id": sender}
        return self._message_update(chat_id, {"contact": contact}, **kw)

    def edited_message_update(
        self, chat_id: int, *, text: str = "edited text", **kw: Unpack[MessageOptions]
    ) -> dict[str, Any]:
        fields = {"text": text, "edit_date": int(time.time())}
        return self._message_update(chat_id, fields, key="edited_message", **kw)

    def _message_update(
        self,
        chat_id: int,
        fields: dict[str, Any],
        *,
        key: str = "message",
        user_id: int | None = None,
        chat_type: str = "private",
        update_id: int | None = None,
        message_id: int | None = None,
    ) -> dict[str, Any]:
        user = self._user(self._sender_id(chat_id, chat_type, user_id))
        message = {
            "message_id": message_id if message_id is not None else next(self._message_ids),
            "date": int(time.time()),
            "chat": self._chat(chat_id, chat_type, user),
            "from": user,
            **fields,
        }
        return {"update_id": self._take_update_id(update_id), key: message}

    def _take_update_id(self, update_id: int | None) -> int:
        if update_id is None:
            return self._next_update_id()
        self._last_update_id = max(self._last_update_id, update_id)
        return update_id

    @staticmethod
    def _sender_id(chat_id: int, chat_type: str, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        # In private chats Telegram uses the user's id as the chat id.
        return int(chat_id) if chat_type == "private" else 1001

    @staticmethod
    def _user(user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": "Test",
            "username": f"user{user_id}",
            "language_code": "en",
        }

    @staticmethod
    def _chat(chat_id: int, chat_type: str, user: dict[str, Any]) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": int(chat_id), "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = user["first_name"]
            chat["username"] = user["username"]
        else:
            chat["title"] = f"Test {chat_type} {chat_id}"
        return chat

    def _file_fields(self, kind: str) -> dict[str, Any]:
        n = next(self._misc_ids)
        return {"file_id": f"{kind}-{n}", "file_unique_id": f"u{kind}{n}"}

    # ------------------------------------------------------------------ HTTP plumbing

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = {k: _decode_value(k, v) for k, v in request.query.items()}
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as err:
                raise _ApiError(400, "Bad Request: can't parse JSON body") from err
            if isinstance(body, dict):
                params.update({k: _decode_value(k, v) for k, v in body.items()})
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {
                    "filename": value.filename,
                    "content_type": value.content_type,
                    "data": value.file.read(),
                }
            else:
                params[key] = _decode_value(key, value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method=method, params={}, at=time.monotonic())
        self.calls.append(call)
        try:
            call.params = await self._read_params(request)
            if request.match_info["token"] != self.token:
                raise _ApiError(401, "Unauthorized")
            result = await self._dispatch(method, call.params)
            self._changed.set()
        except _ApiError as err:
            call.status = err.status
            body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
            if err.parameters:
                body["parameters"] = err.parameters
            return web.json_response(body, status=err.status)
        return web.json_response({"ok": True, "result": result})

    def _stats(self) -> dict[str, int]:
        return {"delivered": self.delivered, "pending": len(self._updates), "over_limit": self.over_limit}

    async def _handle_stats(self, request: web.Request) -> web.Response:
        return web.json_response(self._stats())

    async def _handle_wait(self, request: web.Request) -> web.Response:
        """Answer once no update is pending and at least `delivered` messages went out (or after `timeout`
        seconds): a driver in another process learns the moment the bot finished without polling for it."""
        wanted = int(request.query.get("delivered", "0"))
        deadline = time.monotonic() + float(request.query.get("timeout", "60"))
        while self._updates or self.delivered < wanted:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)
        return web.json_response(self._stats())

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].rsplit("/", 1)[-1]
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id])

    async def _dispatch(self, method: str, params: dict[str, Any]) -> Any:
        name = method.lower()
        handler = self._handlers().get(name)
        if handler is None and name not in _TRUE_METHODS:
            raise _ApiError(404, "Not Found: method not found")
        self._apply_faults(name, params)
        if handler is None:
            return True
        return await handler(params)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], Any]]:
        return {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "getfile": self._get_file,
        }

    def _apply_faults(self, name: str, params: dict[str, Any]) -> None:
        for limit in self._rate_limits:
            if limit.remaining > 0 and name in limit.methods:
                limit.remaining -= 1
                raise _ApiError(
                    429,
                    f"Too Many Requests: retry after {limit.retry_after}",
                    {"retry_after": limit.retry_after},
                )
        if name.startswith(_CHAT_WRITE_PREFIXES) and _as_int(params.get("chat_id")) in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")

    # ------------------------------------------------------------------ methods

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return dict(BOT_USER)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = _as_int(params.get("offset"))
        limit = min(max(_as_int(params.get("limit")) or 100, 1), 100)
        try:
            timeout = float(params.get("timeout") or 0)
        except (TypeError, ValueError):
            timeout = 0.0
        timeout = min(max(timeout, 0.0), self.max_long_poll)
        if offset is not None:
            if offset < 0:  # negative offset: keep only the last -offset updates
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self._updates or self._closing:
                return self._updates[:limit]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            event = self._update_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: commands must be an array")
        self.commands = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.commands)

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands = []
        return True

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat_id(params)
        text = params.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        self._check_limits(chat_id)
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": dict(_BOT_SENDER),
            "text": str(text),
        }
        self._set_markup(message, params.get("reply_markup"))
        self._messages[(chat_id, message["message_id"])] = message
        self.delivered += 1
        if self.on_delivered is not None:
            self.on_delivered(chat_id, message)
        return message

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable_message(params)
        text = params.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        markup = params.get("reply_markup")
        if message.get("text") == text and message.get("reply_markup") == self._inline_markup(markup):
            raise _ApiError(400, "Bad Request: message is not modified")
        message["text"] = str(text)
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return message

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        message = self._editable_message(params)
        markup = params.get("reply_markup")
        if message.get("reply_markup") == self._inline_markup(markup):
            raise _ApiError(400, "Bad Request: message is not modified")
        self._set_markup(message, markup)
        message["edit_date"] = int(time.time())
        return message

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        if not file_id:
            raise _ApiError(400, "Bad Request: invalid file_id")
        data = self.files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(data),
            "file_path": f"files/{file_id}",
        }

    def _require_chat_id(self, params: dict[str, Any]) -> int:
        chat_id = _as_int(params.get("chat_id"))
        if chat_id is None:
            raise _ApiError(400, "Bad Request: chat not found")
        return chat_id

    def _editable_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat_id(params)
        message_id = _as_int(params.get("message_id"))
        if message_id is None:
            raise _ApiError(400, "Bad Request: message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            # Not sent through this fake (e.g. created by a builder): materialise it so edits work.
            message = {
                "message_id": message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": dict(_BOT_SENDER),
            }
            self._messages[(chat_id, message_id)] = message
        return message

    @staticmethod
    def _inline_markup(markup: Any) -> dict[str, Any] | None:
        # Telegram only reports inline keyboards back in Message.reply_markup; PTB's
        # Message.de_json would choke on a ReplyKeyboardMarkup there.
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            return markup
        return None

    def _set_markup(self, message: dict[str, Any], markup: Any) -> None:
        inline = self._inline_markup(markup)
        if inline is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = inline
