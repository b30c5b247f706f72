"""The council-hosted web chat: a page plus a JSON endpoint on the shared ASGI app.

Replies go back in the HTTP response after the step is committed. The browser keeps an anonymous random id in a
cookie the server issues and signs (web_cookie); it is hashed like any other channel id before storage. "Forget this
device" unlinks this browser from the conversation (through `forget`) and clears the cookie.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from bot.channels.base import split_command
from bot.channels.web_budget import UnjoinedBudget
from bot.channels.web_cookie import ChatCookie
from bot.messages import Inbound, Outbound
from content.translations import is_rtl

STATIC = Path(__file__).parent / "web_static"
COOKIE = "ov_chat"
# Text of any length within this body reaches the risk check and then the question's own "too long"
# reply; only a body beyond it (about 170,000 characters even if every one is escaped) is refused unread.
MAX_BODY_BYTES = 2_000_000
# What one message may cost: the risk check reads every character in time linear in the length (about 1-5 us
# a character), so the text of one message is capped; a longer one is refused unread, like an oversized body.
MAX_TEXT_CHARS = 200_000
REFUSED_READ = 20_000
"""How much of a refused message (too long, or over the budget of someone not yet joined) the risk check reads."""
UNREADABLE = "Sorry, I couldn't read that message. Could you try sending it again?"
NOT_YET = (
    "I can only read a few short messages before you've joined. Please wait a few minutes, or type your invite "
    "code here, like this: AB23CD45 (your worker or the participation team can give you one)."
)
TICK = "✅ "  # how channels without toggles mark a picked choice; a toggle on the page needs no tick
# What a screen reader and a device without an emoji font get for a button whose label is only a face.
FACE_NAMES = {"😢": "Very sad", "🙁": "Sad", "😐": "OK", "🙂": "Good", "😀": "Very happy"}
TOO_BIG = "That's far longer than I can read in one go. Could you send a shorter message?"
FORGOTTEN = (
    "Done. This browser has forgotten you: your chat is no longer on this device, and nobody using it can open it. "
    "Your answers are still safe with us. To chat again, type your invite code. If it doesn't work any more, ask "
    "the person who gave it to you for a new one."
)


class ChatIn(BaseModel):
    message_id: str = Field(min_length=1, max_length=100)
    text: str = ""
    payload: str = Field(default="", max_length=64)


class WebChannel:
    name = "web"

    def to_inbound(self, body: ChatIn, sender: str, origin: str = "") -> Inbound:
        """Translate one browser request into an Inbound (`origin`: the network address, for code-guess limits)."""
        if body.payload:  # any words sent along with a button still reach the risk check
            return Inbound("web", sender, body.message_id, "button", payload=body.payload, said=body.text,
                           origin=origin)
        cmd = split_command(body.text.strip())
        if cmd:
            return Inbound("web", sender, body.message_id, "command", command=cmd[0], args=cmd[1], origin=origin)
        return Inbound("web", sender, body.message_id, "text", text=body.text, origin=origin)

    def render(self, message: Outbound) -> dict[str, Any]:
        """The message as the page's JSON; a button labelled only with emoji also gets words (`name`), so a
        face is never the only thing on it, and a toggle loses the tick that stands in for its state elsewhere."""
        data = message.to_json()
        for choice in data["choices"]:
            if "pressed" in choice and choice["label"].startswith(TICK):
                choice["label"] = choice["label"][len(TICK):]  # the page shows a toggle's state itself
            if not any(ch.isalnum() for ch in choice["label"]):
                choice["name"] = spoken_name(choice["label"])
        # Issue 24: the message's language and direction, so the page sets lang and dir per bubble (a screen
        # reader speaks it in the right voice; Arabic script runs right to left), and a draft translation says so.
        lang = message.meta.get("lang")
        if lang:
            data["lang"] = lang
            data["dir"] = "rtl" if is_rtl(lang) else "ltr"
        if message.meta.get("draft"):
            data["draft"] = True
        return data

    async def send(self, address: str, message: Outbound) -> None:
        """The web chat cannot push: messages wait in the outbox until the page asks."""
        return None


def spoken_name(label: str) -> str:
    """Words for a label made only of emoji: our face words, else each character's Unicode name."""
    words = []
    for ch in label:
        if ch.isspace() or unicodedata.category(ch) in ("Mn", "Cf", "Sk") or "\ufe00" <= ch <= "\ufe0f":
            continue  # joiners and variation selectors carry no name of their own
        words.append(FACE_NAMES.get(ch) or unicodedata.name(ch, "").capitalize())
    return " ".join(w for w in words if w) or "Button"


def router(
    handle: Callable[[Inbound, datetime], Any],
    *,
    cookies: ChatCookie,
    forget: Callable[[str, datetime], Any] | None = None,
    secure_cookie: bool = False,
    budget: UnjoinedBudget | None = None,
) -> APIRouter:
    """Routes for the chat page and its API; `handle` runs the dispatcher (sync, in a thread). Senders who have
    not joined spend from `budget` (per cookie and per address) before anything is read. `cookies` issues and
    checks the signed chat cookie; `forget(sender, now)` unlinks a browser's id from its participant (sync)."""
    chan = WebChannel()
    unjoined = budget or UnjoinedBudget()
    api = APIRouter()
    page = (STATIC / "chat.html").read_text(encoding="utf-8")

    def keep(resp: Response, sender: str, now: datetime) -> Response:
        # Issued again on every use: it lasts `cookies.lifetime` from the last time this browser was used to chat.
        resp.set_cookie(
            COOKIE, cookies.issue(sender, now=now), httponly=True, samesite="strict", secure=secure_cookie,
            max_age=int(cookies.lifetime.total_seconds()), path="/",
        )
        return resp

    async def who(request: Request, now: datetime) -> str:
        """This browser's id from a cookie we signed; anything else (made up, altered, run out) gets a new one."""
        raw = request.cookies.get(COOKIE)
        checked = cookies.check(raw, now=now)
        if checked.sender is not None:
            return checked.sender
        old = cookies.signed_sender(raw) if checked.expired else None
        if old and forget is not None:  # run out: that browser no longer reaches the conversation
            await run_in_threadpool(forget, old, now)
            unjoined.forget(old)
        return ChatCookie.new_sender()

    @api.get("/", response_class=HTMLResponse)
    async def chat_page(request: Request) -> Response:
        now = datetime.now(UTC)
        resp = keep(HTMLResponse(page), await who(request, now), now)
        resp.headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        resp.headers["Referrer-Policy"] = "no-referrer"
        return resp

    @api.get("/static/chat/{name}")
    def static(name: str) -> Response:
        files = {"chat.js": "text/javascript", "chat.css": "text/css"}
        if name not in files:
            return Response(status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=files[name])

    @api.post("/api/forget")
    async def forget_device(request: Request) -> Response:
        """Forget this device: unlink this browser from the conversation (server side) and replace its cookie with
        one for a new, unknown id, so whoever types next (an invite code, say) starts as a stranger."""
        now = datetime.now(UTC)
        sender = cookies.signed_sender(request.cookies.get(COOKIE))
        if sender and forget is not None:
            await run_in_threadpool(forget, sender, now)
            unjoined.forget(sender)
        return keep(JSONResponse({"forgotten": True, "message": FORGOTTEN}), ChatCookie.new_sender(), now)

    @api.post("/api/chat")
    async def chat(request: Request) -> Response:
        if not request.cookies.get(COOKIE):
            return JSONResponse({"error": "Please reload the page to start a chat."}, status_code=400)
        # Parsed here rather than by FastAPI, whose validation error would echo the message back unchecked.
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return JSONResponse({"error": TOO_BIG}, status_code=413)
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY_BYTES:
                return JSONResponse({"error": TOO_BIG}, status_code=413)
        try:
            body = ChatIn.model_validate_json(bytes(raw))
        except ValidationError:
            return JSONResponse({"error": UNREADABLE}, status_code=422)
        chars = len(body.text)
        address = request.client.host if request.client else "unknown"
        now = datetime.now(UTC)
        sender = await who(request, now)
        refusal: JSONResponse | None = None
        if chars > MAX_TEXT_CHARS:
            refusal = JSONResponse({"error": TOO_BIG}, status_code=413)
        elif not unjoined.charge(cookie=sender, address=address, chars=chars, now=now):
            refusal = JSONResponse({"error": NOT_YET}, status_code=429, headers={"Retry-After": "60"})
        if refusal is not None:
            # Refused, yet still read by the risk check first (its opening REFUSED_READ characters, so the cost
            # stays bounded): a disclosure gets its safe reply and alert whatever else is wrong with the message.
            probe = Inbound("web", sender, body.message_id, "text", said=body.text[:REFUSED_READ], check_only=True)
            checked = await run_in_threadpool(handle, probe, now)
            if getattr(checked, "flagged", False):
                return keep(JSONResponse(
                    {"replies": [chan.render(r) for r in checked.replies], "stored": False, "duplicate": False,
                     "retry": False}
                ), sender, now)
            return keep(refusal, sender, now)
        result = await run_in_threadpool(handle, chan.to_inbound(body, sender, address), now)
        if getattr(result, "participant_id", None) is not None:
            unjoined.mark_joined(sender)
        return keep(JSONResponse(
            {
                "replies": [chan.render(r) for r in result.replies],
                "stored": result.stored,
                "duplicate": result.duplicate,
                # Only a database outage is worth resending (with the same message id); a refusal is final, and
                # a safe reply sent ahead of a slow database is not repeated (the rest follows as notices).
                "retry": bool(getattr(result, "unavailable", False)) and not getattr(result, "deferred", False),
            }
        ), sender, now)

    return api
