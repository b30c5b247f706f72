"""The safeguarding alerts queue: acknowledge, record the outcome and close, see escalation status.

The young person's words are shown only after the safeguarding lead re-enters their password, and each
read writes one audit row. The words are never stored in a page cache or logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin import services
from admin.web.app import AdminRoute, redirect
from admin.web.policy import ALL, Ctx, requires, resolver
from storage import admin_views
from storage import alerts as alert_store
from storage.db import utc

router = APIRouter(route_class=AdminRoute)
NAV = "Alerts"
QUEUE = requires("safeguarding_lead", "participation_manager", district_scoped=True)
READ_WORDS = requires("safeguarding_lead", district_scoped=True)


@resolver("alert_ref")
def _alert_districts(web: Any, s: Any, ref: str) -> frozenset[str] | None:
    found = admin_views.alert_district(s, ref.strip().upper())
    if found is admin_views.MISSING:
        return None
    return frozenset({found}) if isinstance(found, str) and found else ALL


def _view(a: Any, now: datetime) -> dict:
    created = utc(a.created_at)
    return {
        "ref": a.alert_ref,
        "status": a.status,
        "categories": a.categories.replace(",", ", "),
        "created_at": created,
        "age": now - created if created else None,
        "level": a.escalation_level,
        "notified": a.notified_count,
        "last_notified": utc(a.last_notified_at),
        "case_ref": a.case_ref,
        "channel": a.channel,
        "acknowledged_by": a.acknowledged_by,
        "acknowledged_at": utc(a.acknowledged_at),
        "closed_by": a.closed_by,
        "closed_at": utc(a.closed_at),
        "outcome": a.outcome,
    }


@router.get("/alerts")
def queue(request: Request, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    web, user = ctx.web, ctx.user
    with web.db() as s:
        rows = alert_store.all_alerts(s, limit=300)
        views = []
        for a in rows:
            if not user.all_districts:
                d = admin_views.alert_district(s, a.alert_ref)
                if not (isinstance(d, str) and d in user.districts):
                    continue
            views.append(_view(a, ctx.now))
    waiting = [v for v in views if v["status"] != "closed"]
    closed = [v for v in views if v["status"] == "closed"][:50]
    return web.render(
        request, ctx, "alerts.html", title="Safeguarding alerts", waiting=waiting, closed=closed
    )


def _local_now(web: Any, now: datetime) -> str:
    return now.astimezone(ZoneInfo(web.settings.timezone)).strftime("%Y-%m-%dT%H:%M")


def _detail(
    request: Request, ctx: Ctx, ref: str, *, words: str | None = None, error: str = "", status: int = 200
) -> Response:
    web = ctx.web
    with web.db() as s:
        a = alert_store.get(s, ref.strip().upper())
        if a is None:
            raise HTTPException(404, "No such alert.")
        view = _view(a, ctx.now)
    return web.render(
        request,
        ctx,
        "alert.html",
        status=status,
        title=f"Alert {view['ref']}",
        a=view,
        words=words,
        error=error,
        now_local=_local_now(web, ctx.now),
        tz=web.settings.timezone,
    )


@router.get("/alerts/{alert_ref}")
def detail(request: Request, alert_ref: str, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    return _detail(request, ctx, alert_ref)


@router.post("/alerts/{alert_ref}/ack")
def acknowledge(request: Request, alert_ref: str, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            services.acknowledge_alert(web.rt, s, ctx.user, alert_ref, now=ctx.now)
    except (services.StaffError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from None
    return redirect(f"/admin/alerts/{alert_ref}", "acknowledged")


def parse_local(raw: str, tz: str) -> datetime | None:
    """A datetime-local form value in the council's time zone, as UTC; None when blank or invalid."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return (dt if dt.tzinfo else dt.replace(tzinfo=ZoneInfo(tz))).astimezone(UTC)


@router.post("/alerts/{alert_ref}/close")
def close(
    request: Request,
    alert_ref: str,
    *,
    handled_by: Annotated[str, Form(max_length=80)] = "",
    outcome: Annotated[str, Form(max_length=4000)] = "",
    closed_at: Annotated[str, Form(max_length=40)] = "",
    ctx: Annotated[Ctx, Depends(QUEUE)],
) -> Response:
    web = ctx.web
    when = parse_local(closed_at, web.settings.timezone)
    if when is not None and when > ctx.now:
        return _detail(
            request, ctx, alert_ref, error="The time it was dealt with cannot be in the future.", status=400
        )
    try:
        with web.db() as s:
            services.close_alert(
                web.rt,
                s,
                ctx.user,
                alert_ref,
                handled_by=handled_by,
                outcome=outcome,
                closed_at=when,
                now=ctx.now,
            )
    except services.StaffError as exc:
        return _detail(request, ctx, alert_ref, error=f"Not closed: {exc}.", status=400)
    return redirect(f"/admin/alerts/{alert_ref}", "alert_closed")


@router.post("/alerts/{alert_ref}/read")
def read_words(
    request: Request,
    alert_ref: str,
    *,
    password: Annotated[str, Form(max_length=1000)] = "",
    ctx: Annotated[Ctx, Depends(READ_WORDS)],
) -> Response:
    web, user = ctx.web, ctx.user
    ip = request.client.host if request.client else "unknown"
    with web.db() as s:
        check = services.check_credentials(
            s, user.username, password, ip=ip, now=ctx.now, hasher=web.hasher, record_success=False
        )
    if not check.ok:
        return _detail(
            request,
            ctx,
            alert_ref,
            status=403,
            error="Your password was not right, so the message stays hidden."
            if check.reason == "invalid"
            else "Too many attempts. Please wait 15 minutes.",
        )
    with web.db() as s:
        words = services.read_alert_text(web.keyring, s, user, alert_ref, now=ctx.now)
    return _detail(request, ctx, alert_ref, words=words)
