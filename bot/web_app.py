"""The web chat as an installable web app that can get pings (issue 25 item 1): the manifest, its icons, the
service worker, and the API a page uses to turn pings on and off.

The worker is served from the chat's own origin at /sw.js (scope "/", the chat page's path); it has no fetch
handler, so it never sits between the browser and any page. The chat page's Content-Security-Policy
(`default-src 'self'`) already allows a same-origin manifest and worker, so nothing is loosened for them.
Turning pings on needs a joined person (the signed chat cookie); turning them off needs only the subscription's
endpoint, which only that browser knows. Owns HTTP only: bot.push keeps and sends subscriptions.
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, ValidationError

from bot import push, web_device
from bot.channels.web import COOKIE, STATIC
from bot.identity import serving_sender
from storage import participants
from storage.db import session

if TYPE_CHECKING:
    from bot.services import Services

THEME = "#0b5cad"  # the chat's --accent (chat.css)
MAX_BODY = 4096
ON = ("Pings are on. When we send you something, this device will say only \u201cYou have a new message from "
      "ourvoice\u201d. You can turn them off here any time.")
OFF = "Pings are off. You'll still see new messages when you come back to the chat."
JOIN_FIRST = "Start chatting with us first, then you can turn on pings."
NOT_SET_UP = "Pings aren't set up here yet."
NOT_A_SUBSCRIPTION = "Sorry, that didn't work. Please try again."
STATIC_FILES = {"push.js": "text/javascript"}


class Endpoint(BaseModel):
    endpoint: str = Field(min_length=1, max_length=1000)


def manifest() -> dict[str, Any]:
    """What a phone needs to add the chat to its home screen."""
    return {
        "id": "/",
        "name": "ourvoice chat",
        "short_name": "ourvoice",
        "description": "Tell the council what you think.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "background_color": "#eef1f6",
        "theme_color": THEME,
        "icons": [
            {"src": "/static/push/icon-192.png", "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": "/static/push/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": "/static/push/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }


@lru_cache(maxsize=4)
def icon(size: int) -> bytes:
    """A plain icon drawn once: a white speech bubble on the chat's blue (no logo to license, nothing personal)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (size, size), THEME)
    draw = ImageDraw.Draw(img)
    u = size / 16
    draw.rounded_rectangle((3 * u, 3.5 * u, 13 * u, 10.5 * u), radius=2 * u, fill="white")
    draw.polygon([(5 * u, 10 * u), (5 * u, 13 * u), (8.5 * u, 10 * u)], fill="white")
    for x in (5.5, 8, 10.5):
        draw.ellipse(((x - .7) * u, 6.3 * u, (x + .7) * u, 7.7 * u), fill=THEME)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def router(rt: Services) -> APIRouter:
    """Routes for the manifest, icons, worker and pings API; `rt` gives keys, settings and the database."""
    api = APIRouter()
    cookies = web_device.wiring(rt)["cookies"]
    settings: push.PushSettings = rt.push_settings

    def now() -> datetime:
        clock = getattr(rt, "clock", None)
        return clock() if clock is not None else datetime.now(UTC)

    @api.get("/manifest.webmanifest")
    def web_manifest() -> Response:
        return Response(json.dumps(manifest()), media_type="application/manifest+json")

    @api.get("/sw.js")
    def worker() -> Response:
        return Response((STATIC / "sw.js").read_bytes(), media_type="text/javascript",
                        headers={"Content-Security-Policy": "default-src 'self'"})

    @api.get("/static/push/{name}")
    def static(name: str) -> Response:
        if name in ("icon-192.png", "icon-512.png"):
            return Response(icon(int(name[5:8])), media_type="image/png")
        if name not in STATIC_FILES:
            return Response(status_code=404)
        return Response((STATIC / name).read_bytes(), media_type=STATIC_FILES[name])

    @api.get("/api/push/key")
    def key() -> JSONResponse:
        """The public VAPID key a browser subscribes with (empty when pings are not set up)."""
        return JSONResponse({"enabled": settings.enabled, "key": settings.public_key})

    async def body(request: Request) -> bytes | None:
        raw = bytearray()
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > MAX_BODY:
                return None
        return bytes(raw)

    @api.post("/api/push/subscribe")
    async def subscribe(request: Request) -> JSONResponse:
        if not settings.enabled:
            return JSONResponse({"error": NOT_SET_UP}, status_code=404)
        at = now()
        sender = cookies.check(request.cookies.get(COOKIE), now=at).sender
        raw = await body(request)
        sub = push.parse(raw) if raw is not None else None
        if sub is None:
            return JSONResponse({"error": NOT_A_SUBSCRIPTION}, status_code=422)
        with serving_sender(rt, "web", sender), session(rt.engine) as s:  # the browser's council (issue 26)
            found = participants.find_with_address(s, rt.keyring.identity_hash("web", sender)) if sender else None
            if found is None or found[0].status != "active":
                return JSONResponse({"error": JOIN_FIRST}, status_code=403)
            push.subscribe(s, rt.keyring, int(found[0].id or 0), sub, now=at)
        return JSONResponse({"subscribed": True, "message": ON})

    @api.post("/api/push/unsubscribe")
    async def unsubscribe(request: Request) -> JSONResponse:
        raw = await body(request)
        try:
            endpoint = Endpoint.model_validate_json(raw or b"").endpoint
        except ValidationError:
            return JSONResponse({"error": NOT_A_SUBSCRIPTION}, status_code=422)
        sender = cookies.check(request.cookies.get(COOKIE), now=now()).sender
        with serving_sender(rt, "web", sender), session(rt.engine) as s:
            push.unsubscribe(s, rt.keyring, endpoint)
        return JSONResponse({"subscribed": False, "message": OFF})

    return api
