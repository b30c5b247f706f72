"""Approval queues: quotes (already scrubbed of names, places and schools) and good news, each approved or
rejected before it can appear in a report. Quotes are Kent-wide (managers); good news is district-scoped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin import services
from admin.web.app import AdminRoute, redirect
from admin.web.policy import ALL, Ctx, requires, resolver
from storage import admin_views

router = APIRouter(route_class=AdminRoute)
NAV = "Approvals"
NEEDS = ("storage.quotes", "storage.good_news", "admin.reports.scrub")
QUEUE = requires("participation_worker", "participation_manager", district_scoped=True)
QUOTES = requires("participation_manager")


@resolver("news_id")
def _news_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    if not raw.isdigit():
        return None
    found = admin_views.good_news_district(s, int(raw))
    if found is admin_views.MISSING:
        return None
    return frozenset({found}) if isinstance(found, str) and found else ALL


@router.get("/approvals")
def approvals(request: Request, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    from storage import good_news, quotes

    user = ctx.user
    with ctx.web.db() as s:
        news = [n for n in good_news.list_items(s, status="pending") if user.sees(n.district)]
        pending_quotes = (
            quotes.list_quotes(s, status="pending") if user.role == "participation_manager" else []
        )
        # The queue shows young people's own words: audited like the CLI's `goodnews list`/`quote list`.
        services.record(
            s, user, "approvals.view", target="approvals",
            detail=f"goodnews={len(news)} quotes={len(pending_quotes)}", now=ctx.now,
        )
    return ctx.web.render(
        request,
        ctx,
        "approvals.html",
        title="Approvals",
        news=news,
        quotes=pending_quotes,
        can_quote=user.role == "participation_manager",
    )


def _guard(ctx: Ctx) -> object:
    """The risk check on approval, with the running server's alert routes."""
    from admin.quote_safety import QuoteGuard

    return QuoteGuard.from_runtime(ctx.web.rt)


def _outcome(view: object, approve: bool) -> str:
    if getattr(view, "status", "") == "withdrawn":
        return "quote_withdrawn"  # the risk check flagged its wording: withdrawn and alerted, not approved
    return "approved" if approve else "rejected"


def _decision(raw: str) -> bool:
    if raw not in ("approve", "reject"):
        raise HTTPException(400, "Choose approve or reject.")
    return raw == "approve"


@router.post("/approvals/quotes/{quote_id}")
def decide_quote(
    request: Request,
    quote_id: int,
    *,
    decision: Annotated[str, Form()],
    text: Annotated[str, Form(max_length=4000)] = "",
    original: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[Ctx, Depends(QUOTES)],
) -> Response:
    approve = _decision(decision)
    edited = text.strip() if text.strip() and text.strip() != original.strip() else None
    try:
        with ctx.web.db() as s:
            view = services.decide_quote(
                s, ctx.user, quote_id, approve=approve, text=edited, now=ctx.now, guard=_guard(ctx)
            )
    except services.StaffError as exc:
        raise HTTPException(404 if "no quote" in str(exc) else 400, str(exc)) from None
    return redirect("/admin/approvals", _outcome(view, approve))


@router.post("/approvals/goodnews/{news_id}")
def decide_news(
    request: Request, news_id: int, *, decision: Annotated[str, Form()], ctx: Annotated[Ctx, Depends(QUEUE)]
) -> Response:
    approve = _decision(decision)
    try:
        with ctx.web.db() as s:
            services.decide_good_news(s, ctx.user, news_id, approve=approve, now=ctx.now)
    except services.StaffError as exc:
        raise HTTPException(400, str(exc)) from None
    return redirect("/admin/approvals", "approved" if approve else "rejected")
