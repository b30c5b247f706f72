"""The "To read" queue page: every free-text message no member of staff has read yet, risk-first.

Thin: calls admin/actions/reading.py, which applies the role and district rules and writes one audit row per
view of an entry's words. The list shows no words; an entry's page shows them once, never cached or logged.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from admin.actions import reading as actions
from admin.actions.alerts import QUEUE_ROLES
from admin.actions.policy import ActionError, Forbidden, NotFound
from admin.web.policy import ALL, Ctx, requires, resolver
from admin.web.routing import AdminRoute, redirect
from storage import reading as reading_store

router = APIRouter(route_class=AdminRoute)
NAV = "To read"
READERS = requires(*sorted(actions.READER_ROLES), district_scoped=True)


@resolver("entry_id")
def _entry_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    try:
        item = reading_store.get(s, int(raw))
    except ValueError:
        return None
    if item is None:
        return None
    return frozenset({item.district}) if item.district else ALL


def _http(exc: ActionError) -> HTTPException:
    """403 for a role without the queue, 404 for an entry out of reach (as the policy would answer)."""
    return HTTPException(403, "Your role does not include this page.") if isinstance(exc, Forbidden) else (
        HTTPException(404, "Not found.")
    )


def _window(ctx: Ctx) -> dict[str, str]:
    settings = ctx.web.settings
    return {"within": settings.review_within, "tz": settings.timezone, "holidays": settings.bank_holidays}


@router.get("/to-read")
def queue(request: Request, *, ctx: Annotated[Ctx, Depends(READERS)]) -> Response:
    web = ctx.web
    with web.db() as s:
        waiting = actions.queue(s, ctx.user, now=ctx.now, **_window(ctx))
        done = actions.recently_read(s, ctx.user, now=ctx.now, **_window(ctx))
    return web.render(
        request, ctx, "to_read.html", title="To read", waiting=waiting, done=done,
        within=web.settings.review_within,
    )


@router.get("/to-read/{entry_id}")
def entry(request: Request, entry_id: int, *, ctx: Annotated[Ctx, Depends(READERS)]) -> Response:
    """One entry with its words: each view writes one audit row (toread.view)."""
    web = ctx.web
    try:
        with web.db() as s:
            found, words = actions.show(web.keyring, s, ctx.user, entry_id, now=ctx.now, **_window(ctx))
    except ActionError as exc:
        raise _http(exc) from None
    lang = _language_of(words)
    return web.render(
        request, ctx, "to_read_entry.html", title=f"Message {entry_id}", e=found, words=words, lang=lang,
        language=_language_label(lang),
    )


def _language_of(words: str | None) -> str:
    """Issue 24: the language the words are in, so the reader knows to find an interpreter."""
    from bot.language_id import identify

    return identify(words).locale if words else "en"


def _language_label(lang: str) -> str:
    from bot.language_check import language_name

    return f"{language_name(lang)} ({lang})"


@router.post("/to-read/{entry_id}/read")
def mark_read(request: Request, entry_id: int, *, ctx: Annotated[Ctx, Depends(READERS)]) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            actions.mark_read(s, ctx.user, entry_id, now=ctx.now)
    except ActionError as exc:
        raise _http(exc) from None
    return redirect("/admin/to-read", "marked_read")


@router.post("/to-read/{entry_id}/alert")
def to_alert(request: Request, entry_id: int, *, ctx: Annotated[Ctx, Depends(READERS)]) -> Response:
    """Turn the entry into a safeguarding alert in one step (the duty rota is emailed, without the words)."""
    web = ctx.web
    try:
        with web.db() as s:
            ref = actions.to_alert(web.rt, s, ctx.user, entry_id, now=ctx.now)
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
        raise HTTPException(400, str(exc)) from None
    if ctx.user.role in QUEUE_ROLES:  # who can open the alert page; others go back to the queue
        return redirect(f"/admin/alerts/{ref}", "alert_raised")
    return redirect("/admin/to-read", "alert_raised")
