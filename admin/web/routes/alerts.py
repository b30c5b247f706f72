"""The safeguarding alerts queue: acknowledge, record the outcome and close, see escalation status; for a
safeguarding lead, read the words, reveal the council case reference ("break glass") and reply.

Thin: parses forms and calls admin/actions/alerts.py, which applies the role and district rules and audits.
The young person's words and case reference are shown only after the lead re-enters their password; they
are never stored in a page cache or logged.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from admin.actions import alerts as actions
from admin.actions.policy import ActionError, Forbidden, NotFound
from admin.actions.staff import check_credentials
from admin.web.policy import ALL, Ctx, requires, resolver
from admin.web.routing import AdminRoute, redirect
from storage import admin_views

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


def _http(exc: ActionError) -> HTTPException:
    """A refusal the policy would have given: 404 for an alert out of reach, 403 for a role without it."""
    if isinstance(exc, Forbidden):
        return HTTPException(403, "Your role does not include this.")
    return HTTPException(404, "No such alert.")


def _view(a: actions.AlertFacts, now: datetime) -> dict:
    view = dict(a.__dict__)
    view["age"] = now - a.created_at
    return view


@router.get("/alerts")
def queue(request: Request, *, ctx: Annotated[Ctx, Depends(QUEUE)]) -> Response:
    web, user = ctx.web, ctx.user
    with web.db() as s:
        views = [_view(a, ctx.now) for a in actions.list_alerts(s, user)]
    waiting = [v for v in views if v["status"] != "closed"]
    closed = [v for v in views if v["status"] == "closed"][:50]
    return web.render(
        request, ctx, "alerts.html", title="Safeguarding alerts", waiting=waiting, closed=closed
    )


def _local_now(web: Any, now: datetime) -> str:
    return now.astimezone(ZoneInfo(web.settings.timezone)).strftime("%Y-%m-%dT%H:%M")


def _detail(
    request: Request,
    ctx: Ctx,
    ref: str,
    *,
    words: str | None = None,
    council_ref: str | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    web = ctx.web
    try:
        with web.db() as s:
            view = _view(actions.alert_facts(s, ctx.user, ref), ctx.now)
    except ActionError as exc:
        raise _http(exc) from None
    return web.render(
        request,
        ctx,
        "alert.html",
        status=status,
        title=f"Alert {view['ref']}",
        a=view,
        words=words,
        council_ref=council_ref,
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
            actions.acknowledge_alert(web.rt, s, ctx.user, alert_ref, now=ctx.now)
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except (ActionError, ValueError) as exc:
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
            actions.close_alert(
                web.rt,
                s,
                ctx.user,
                alert_ref,
                handled_by=handled_by,
                outcome=outcome,
                closed_at=when,
                now=ctx.now,
            )
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
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
        check = check_credentials(
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
        words = actions.read_alert_text(web.keyring, s, user, alert_ref, now=ctx.now)
    return _detail(request, ctx, alert_ref, words=words)


@router.post("/alerts/{alert_ref}/reveal")
def reveal_case_ref(
    request: Request,
    alert_ref: str,
    *,
    password: Annotated[str, Form(max_length=1000)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    ctx: Annotated[Ctx, Depends(READ_WORDS)],
) -> Response:
    """Break glass: the council case reference, after the lead's password and a reason (audited)."""
    web = ctx.web
    ip = request.client.host if request.client else "unknown"
    try:
        with web.db() as s:
            result = actions.reveal_council_ref(
                web.keyring, s, ctx.user, alert_ref, password=password, reason=reason, ip=ip,
                now=ctx.now, hasher=web.hasher,
            )
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
        return _detail(request, ctx, alert_ref, error=f"Not shown: {exc}.", status=400)
    if result.reason in ("invalid", "locked"):
        return _detail(
            request,
            ctx,
            alert_ref,
            status=403,
            error="Your password was not right, so the case reference stays hidden."
            if result.reason == "invalid"
            else "Too many attempts. Please wait 15 minutes.",
        )
    if not result.ok:
        return _detail(request, ctx, alert_ref, error="No case reference was given with this young person's invite.")
    return _detail(request, ctx, alert_ref, council_ref=result.value)


@router.post("/alerts/{alert_ref}/reply")
def reply(
    request: Request,
    alert_ref: str,
    *,
    message: Annotated[str, Form(max_length=4000)] = "",
    ctx: Annotated[Ctx, Depends(READ_WORDS)],
) -> Response:
    """Write back to the young person through the bot (queued in the outbox; audited, never the words)."""
    web = ctx.web
    try:
        with web.db() as s:
            actions.reply(web.rt, s, ctx.user, alert_ref, message=message, now=ctx.now)
    except (NotFound, Forbidden) as exc:
        raise _http(exc) from None
    except ActionError as exc:
        return _detail(request, ctx, alert_ref, error=f"Not sent: {exc}.", status=400)
    return redirect(f"/admin/alerts/{alert_ref}", "reply_queued")
