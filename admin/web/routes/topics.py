"""Topics ("Have your say"): list, publish or schedule with dates and districts, preview per age band, close.

Workers may publish only to their own districts and close only topics wholly inside them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin.actions import topics as topic_actions
from admin.actions.policy import ActionError, Invalid
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect
from content.schema import text_for
from storage import topics as topic_store

router = APIRouter(route_class=AdminRoute)
NAV = "Topics"
READ = for_action("topic.publish")  # whoever may publish a topic may read the list and previews
PUBLISH = for_action("topic.publish")
CLOSE = for_action("topic.close")


@resolver("topic_id")
def _topic_districts(web: Any, s: Any, topic_id: str) -> frozenset[str] | None:
    return topic_actions.topic_districts(s, web.library, topic_id)


def _row(flow: Any, window: Any) -> dict:
    meta = flow.topic
    return {
        "id": flow.id,
        "title": text_for(flow.title, "teen"),
        "bands": flow.bands,
        "status": window.status if window else "as in content",
        "opens": (window.opens if window and window.opens else meta.opens),
        "closes": (window.closes if window and window.closes else meta.closes),
        "districts": (window.districts if window and window.districts is not None else meta.districts) or (),
    }


@router.get("/topics")
def list_topics(request: Request, *, ctx: Annotated[Ctx, Depends(READ)]) -> Response:
    web = ctx.web
    with web.db() as s:
        windows = topic_store.windows(s)
    rows = [_row(f, windows.get(f.id)) for f in sorted(web.library.topics(), key=lambda f: f.id)]
    user = ctx.user
    if not user.all_districts:
        rows = [r for r in rows if not r["districts"] or set(r["districts"]) & set(user.districts)]
    return web.render(request, ctx, "topics.html", title="Topics", topics=rows, error="")


def preview_lines(flow: Any, band: str) -> list[dict]:
    """What a participant in `band` would read, node by node (branches shown as a note)."""
    lines: list[dict] = []
    for node in flow.nodes:
        kind = node.type
        text = text_for(getattr(node, "text", ""), band) if getattr(node, "text", "") else ""
        item: dict = {"id": node.id, "type": kind, "text": text, "choices": []}
        if kind in ("choice", "multi"):
            item["choices"] = [text_for(c.label, band) for c in node.choices]
        elif kind == "yesno":
            item["choices"] = ["Yes", "No"] + (["Not sure"] if node.not_sure else [])
        elif kind == "scale":
            item["choices"] = list(topic_actions.FACES)
            item["note"] = " → ".join(
                x
                for x in (
                    text_for(node.low, band) if node.low else "",
                    text_for(node.high, band) if node.high else "",
                )
                if x
            )
        elif kind == "text":
            item["note"] = "They can type an answer, or skip."
        elif kind == "branch":
            item["note"] = "The next question depends on their answers."
        elif kind in ("action", "menu"):
            continue
        if item["text"] or item["choices"] or item.get("note"):
            lines.append(item)
    return lines


@router.get("/topics/{topic_id}")
def preview(request: Request, topic_id: str, *, ctx: Annotated[Ctx, Depends(READ)]) -> Response:
    web = ctx.web
    flow = web.library.flows.get(topic_id)
    if flow is None or flow.kind != "topic":
        raise HTTPException(404, "No such topic.")
    with web.db() as s:
        window = topic_store.windows(s).get(topic_id)
    bands = [
        {
            "band": b,
            "title": text_for(flow.title, b),
            "why": text_for(flow.topic.why, b) if flow.topic.why else "",
            "lines": preview_lines(flow, b),
        }
        for b in flow.bands
    ]
    return web.render(
        request,
        ctx,
        "topic.html",
        title=f"Topic: {text_for(flow.title, 'teen')}",
        topic=_row(flow, window),
        bands=bands,
        error="",
    )


def _parse_date(raw: str) -> date | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{raw!r} is not a date like 2026-12-01") from None


@router.post("/topics/{topic_id}/publish")
def publish(
    request: Request,
    topic_id: str,
    *,
    opens: Annotated[str, Form()] = "",
    closes: Annotated[str, Form()] = "",
    districts: Annotated[list[str] | None, Form()] = None,
    ctx: Annotated[Ctx, Depends(PUBLISH)],
) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            topic_actions.publish_topic(
                s,
                web.library,
                ctx.user,
                topic_id,
                opens=_parse_date(opens),
                closes=_parse_date(closes),
                districts=tuple(districts or ()),
                now=ctx.now,
            )
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect(f"/admin/topics/{topic_id}", "published")


@router.post("/topics/{topic_id}/close")
def close(request: Request, topic_id: str, *, ctx: Annotated[Ctx, Depends(CLOSE)]) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            topic_actions.close_topic(s, web.library, ctx.user, topic_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect(f"/admin/topics/{topic_id}", "closed")
