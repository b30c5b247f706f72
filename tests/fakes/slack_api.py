"""A loopback fake of the Slack Web API plus helpers to sign and shape inbound Slack requests.

Owns request recording, rate-limit injection, the ``response_url`` sink and builders for the
Events API / interactivity / slash-command payloads that slack-bolt receives.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.telegram_api import describe_predicate

TEAM_ID = "T1"
BOT_USER_ID = "UBOT"
BOT_ID = "B1"
# Used when a payload builder is not given a response_url: port 1 on loopback refuses connections,
# so a stray ``respond()`` fails fast instead of leaving the machine.
UNROUTABLE_RESPONSE_URL = "http://127.0.0.1:1/response_url/unset"

# Form fields that Slack clients send JSON-encoded.
_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "metadata", "payload"})

_event_ids = itertools.count(1)
_trigger_ids = itertools.count(1)


@dataclass
class Call:
    """One request the fake received; ``status`` is the HTTP status it answered with."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class _RateLimit:
    remaining: int
    retry_after: int
    methods: frozenset[str]


class FakeSlackAPI:
    """Slack Web API double served by aiohttp on 127.0.0.1 (random free port)."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.team_id = TEAM_ID
        self.bot_user_id = BOT_USER_ID
        self.bot_id = BOT_ID
        self._ts = itertools.count(1)
        self._view_ids = itertools.count(1)
        self._rate_limits: list[_RateLimit] = []
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response_url/{id}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlackAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeSlackAPI.start() has not been awaited")
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What ``AsyncWebClient(base_url=...)`` takes (trailing slash included)."""
        return f"{self.base_url}/api/"

    def response_url(self, response_id: str = "1") -> str:
        """A ``response_url`` that posts back into this fake (recorded as method ``response_url``)."""
        return f"{self.base_url}/response_url/{response_id}"

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def posted_messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Params of chat.postMessage calls that succeeded, optionally for one channel."""
        return [
            c.params
            for c in self.calls_to("chat.postMessage")
            if c.status == 200 and (channel is None or c.params.get("channel") == channel)
        ]

    def response_url_posts(self, response_id: str | None = None) -> list[dict[str, Any]]:
        return [
            c.params
            for c in self.calls_to("response_url")
            if response_id is None or c.params.get("response_url_id") == response_id
        ]

    def clear_calls(self) -> None:
        self.calls.clear()

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                recent = ", ".join(f"{c.method}[{c.status}]" for c in self.calls[-15:]) or "none"
                raise AssertionError(
                    f"FakeSlackAPI.wait_for timed out after {timeout}s waiting for: "
                    f"{describe_predicate(predicate)}\n  last calls: {recent}"
                )
            await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ fault injection

    def rate_limit(
        self, times: int, retry_after: int = 1, methods: tuple[str, ...] = ("chat.postMessage",)
    ) -> None:
        self._rate_limits.append(_RateLimit(times, retry_after, frozenset(methods)))

    # ------------------------------------------------------------------ HTTP plumbing

    @staticmethod
    async def _read_params(request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.method != "POST" or not request.can_read_body:
            return params
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = {"filename": value.filename, "data": value.file.read()}
            elif key in _JSON_FIELDS and value.strip()[:1] in ("{", "["):
                try:
                    params[key] = json.loads(value)
                except ValueError:
                    params[key] = value
            else:
                params[key] = value
        return params

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method=method, params={}, at=time.monotonic())
        self.calls.append(call)
        try:
            call.params = await self._read_params(request)
        except ValueError:
            call.status = 400
            return web.json_response({"ok": False, "error": "invalid_json"}, status=400)
        for limit in self._rate_limits:
            if limit.remaining > 0 and method in limit.methods:
                limit.remaining -= 1
                call.status = 429
                return web.json_response(
                    {"ok": False, "error": "ratelimited"},
                    status=429,
                    headers={"Retry-After": str(limit.retry_after)},
                )
        # Slack answers API-level errors with HTTP 200 and ok=false.
        if not request.headers.get("Authorization", "").startswith("Bearer ") and not call.params.get(
            "token"
        ):
            return web.json_response({"ok": False, "error": "not_authed"})
        handler = self._handlers().get(method)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"})
        return web.json_response({"ok": True, **handler(call.params)})

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        call = Call(method="response_url", params={}, at=time.monotonic())
        self.calls.append(call)
        params = await self._read_params(request)
        params["response_url_id"] = request.match_info["id"]
        call.params = params
        return web.json_response({"ok": True})

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "auth.test": self._auth_test,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.open": self._views_open,
            "conversations.open": self._conversations_open,
            "users.info": self._users_info,
            "reactions.add": lambda params: {},
        }

    # ------------------------------------------------------------------ methods

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://ourvoice-test.slack.com/",
            "team": "OurVoice Test",
            "user": "ourvoice",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _next_ts(self) -> str:
        return f"{1_700_000_000 + next(self._ts)}.000100"

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "ts": ts,
            "team": self.team_id,
        }
        if params.get("blocks") is not None:
            message["blocks"] = params["blocks"]
        return message

    def _post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = self._next_ts()
        return {"channel": params.get("channel"), "ts": ts, "message": self._message(params, ts)}

    def _update(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = str(params.get("ts", ""))
        return {
            "channel": params.get("channel"),
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts),
        }

    def _post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"message_ts": self._next_ts()}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        view_id = f"V{next(self._view_ids):05d}"
        return {"view": {**view, "id": view_id, "team_id": self.team_id, "app_id": "A1", "hash": view_id}}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", "")).split(",")[0].strip()
        return {"channel": {"id": f"D{users}"}, "no_op": True, "already_open": True}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("user", ""))
        return {
            "user": {
                "id": user,
                "team_id": self.team_id,
                "name": user.lower(),
                "real_name": f"Test {user}",
                "is_bot": False,
                "deleted": False,
                "tz": "Europe/London",
                "profile": {"real_name": f"Test {user}", "display_name": user.lower()},
            }
        }


# ---------------------------------------------------------------------- inbound request helpers


def sign_slack_request(signing_secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would attach to ``body`` (v0 HMAC-SHA256 signing scheme)."""
    ts = int(time.time()) if timestamp is None else timestamp
    base = f"v0:{ts}:".encode() + body
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": f"v0={digest}"}


def event_callback(
    event: dict[str, Any], *, event_id: str | None = None, team_id: str = TEAM_ID, api_app_id: str = "A1"
) -> dict[str, Any]:
    """Wrap an inner event in the Events API ``event_callback`` envelope."""
    return {
        "token": "verification-token",
        "team_id": team_id,
        "api_app_id": api_app_id,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_event_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }


def _message_ts() -> str:
    return f"{time.time():.6f}"


def dm_message_event(
    user: str, text: str, *, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    """A ``message`` event in a direct message with the bot (``channel_type`` ``im``)."""
    ts = ts or _message_ts()
    return {
        "type": "message",
        "channel": channel or f"D{user}",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "channel_type": "im",
        "team": TEAM_ID,
        "client_msg_id": f"msg-{ts}",
    }


def block_actions_payload(
    user: str,
    action_id: str,
    value: str,
    *,
    channel: str,
    message_ts: str,
    response_url: str | None = None,
) -> dict[str, Any]:
    """The interactivity payload for a button click (send as ``payload=<json>`` form field)."""
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A1",
        "token": "verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": f"{next(_trigger_ids)}.1.trigger",
        "team": {"id": TEAM_ID, "domain": "ourvoice-test"},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "directmessage"},
        "message": {
            "type": "message",
            "ts": message_ts,
            "text": "",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
        },
        "state": {"values": {}},
        "response_url": response_url or UNROUTABLE_RESPONSE_URL,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": f"block-{action_id}",
                "value": value,
                "text": {"type": "plain_text", "text": value},
                "action_ts": _message_ts(),
            }
        ],
    }


def slash_command_form(
    user: str, command: str = "/ourvoice", text: str = "", *, response_url: str | None = None
) -> dict[str, str]:
    """Form fields of a slash-command request (urlencode them for the body)."""
    return {
        "token": "verification-token",
        "team_id": TEAM_ID,
        "team_domain": "ourvoice-test",
        "channel_id": f"D{user}",
        "channel_name": "directmessage",
        "user_id": user,
        "user_name": user.lower(),
        "command": command,
        "text": text,
        "api_app_id": "A1",
        "is_enterprise_install": "false",
        "response_url": response_url or UNROUTABLE_RESPONSE_URL,
        "trigger_id": f"{next(_trigger_ids)}.1.trigger",
    }


def interactive_body(payload: dict[str, Any]) -> bytes:
    """Encode an interactivity payload the way Slack posts it: ``payload=<json>`` form-encoded."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def json_body(payload: dict[str, Any]) -> bytes:
    """Encode an Events API envelope the way Slack posts it."""
    return json.dumps(payload).encode()
