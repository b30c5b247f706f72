"""Approval queues: quotes (already scrubbed of names, places and schools) and good news, each approved or
rejected before it can appear in a report. Quotes are Kent-wide (managers); good news is district-scoped.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin.actions import approvals as approval_actions
from admin.actions.policy import ActionError, districts_of
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect
from storage import admin_views

router = APIRouter(route_class=AdminRoute)
NAV = "Approvals"
QUEUE = for_action("goodnews.list")
NEWS = for_action("goodnews.decide")
QUOTES = for_action("quote.decide")


@resolver("news_id")
def _news_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    if not raw.isdigit():
        return None
    found = admin_views.good_news_district(s, int(raw))
    if found is admin_views.MISSING:
        return None
    return districts_of(found if isinstance(found, str) else None)


@router.get("/approvals")
def approvals(request: Request, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    user = ctx.user
    with ctx.web.db() as s:
        # The queue shows young people's own words: audited like the CLI's `goodnews list`/`quote list`.
        news, pending_quotes = approval_actions.approval_queue(s, user, now=ctx.now)
    return ctx.web.render(
        request,
        ctx,
        "approvals.html",
        title="Approvals",
        news=news,
        quotes=pending_quotes,
        can_quote=approval_actions.can_decide_quotes(user),
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
            view = approval_actions.decide_quote(
                s, ctx.user, quote_id, approve=approve, text=edited, now=ctx.now, guard=_guard(ctx)
            )
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect("/admin/approvals", _outcome(view, approve))


@router.post("/approvals/goodnews/{news_id}")
def decide_news(
    request: Request, news_id: int, *, decision: Annotated[str, Form()], ctx: Annotated[Ctx, Depends(NEWS)]
) -> Response:
    approve = _decision(decision)
    try:
        with ctx.web.db() as s:
            approval_actions.decide_good_news(s, ctx.user, news_id, approve=approve, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect("/admin/approvals", "approved" if approve else "rejected")
