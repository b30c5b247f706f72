"""Reports: choose a report and a period, then download it as PDF, HTML or Markdown.

Reports hold protected aggregates only (small counts hidden, approved quotes only). Every download is an
export and writes one audit row.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.actions.policy import RULES, ActionError, Invalid
from admin.actions.reports import export_report
from admin.web.policy import Ctx, for_action, refusal
from admin.web.routing import AdminRoute, add_security_headers

router = APIRouter(route_class=AdminRoute)
NAV = "Reports"
READERS = for_action("report.export")
PAPER = for_action("report.paper")
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
FORMAT_NAMES = {"pdf": "PDF (to print or send)", "html": "Web page (HTML)", "md": "Markdown (to edit)"}


def report_settings(web: Any) -> Any:
    """The report settings the composition root read (bot.runtime.build_runtime)."""
    return web.rt.report_settings


def _page(request: Request, ctx: Ctx, *, error: str = "", notice: str = "", status: int = 200) -> Response:
    from admin.reports import periods
    from admin.reports.registry import REPORTS

    # Reports run over fixed periods only (so two reports cannot be differenced): offer the last whole quarter.
    today = ctx.now.date()
    this_quarter = (today.month - 1) // 3 + 1
    since, until = periods.quarter(today.year, this_quarter - 1) if this_quarter > 1 else periods.quarter(
        today.year - 1, 4
    )
    return ctx.web.render(
        request,
        ctx,
        "reports.html",
        status=status,
        title="Reports",
        reports=REPORTS,
        formats=FORMAT_NAMES,
        since=since.isoformat(),
        until=until.isoformat(),
        error=error,
        notice=notice,
        can_paper=ctx.user.role in RULES["report.paper"].roles,
        panel_dates=[d.isoformat() for d in report_settings(ctx.web).panel_days()],
    )


@router.get("/reports")
def reports_page(request: Request, *, ctx: Annotated[Ctx, Depends(READERS)]) -> Response:
    return _page(request, ctx)


def _date(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


@router.post("/reports/download")
def download(
    request: Request,
    *,
    report: Annotated[str, Form()],
    fmt: Annotated[str, Form()] = "pdf",
    since: Annotated[str, Form()],
    until: Annotated[str, Form()],
    meeting: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(READERS)],
) -> Response:
    start, end, meet = _date(since), _date(until), _date(meeting)
    if start is None or end is None or end < start:
        return _page(
            request, ctx, error="Give a start and end date, with the end on or after the start.", status=400
        )
    web = ctx.web
    try:
        with web.db() as s:
            produced = export_report(
                s, web.library, ctx.user, report, since=start, until=end, fmt=fmt, now=ctx.now,
                settings=report_settings(web), meeting=meet,
            )
    except Invalid:
        return _page(request, ctx, error="Choose a report and a format from the lists.", status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    name = re.sub(r"[^a-z0-9-]", "", report) + f"-{start}-{end}.{fmt}"
    resp = Response(
        produced.data,
        media_type=MEDIA[fmt],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return add_security_headers(resp)


def _count(raw: str) -> int | None:
    raw = raw.strip().replace(",", "")
    return int(raw) if raw.isdigit() else None


@router.post("/reports/paper")
def paper(
    request: Request,
    *,
    panel: Annotated[str, Form()],
    summary: Annotated[str, Form()] = "",
    recommendation: Annotated[str, Form()] = "",
    children_in_care: Annotated[str, Form()] = "",
    care_leavers: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(PAPER)],
) -> Response:
    """The manager's cover text and population for one Panel's paper (the same actions as the CLI's
    `report cover set` and `report population`)."""
    from admin.actions.reports import set_cover, set_population

    day = _date(panel)
    if day is None:
        return _page(request, ctx, error="Give the Panel meeting date.", status=400)
    cic, leavers = _count(children_in_care), _count(care_leavers)
    if not (summary.strip() or recommendation.strip() or cic or leavers):
        return _page(request, ctx, error="Write a summary or recommendation, or give the numbers.", status=400)
    try:
        with ctx.web.db() as s:
            if summary.strip() or recommendation.strip():
                set_cover(s, ctx.user, day, summary=summary or None, recommendation=recommendation or None,
                          now=ctx.now)
            if cic or leavers:
                set_population(s, ctx.user, day, children_in_care=cic, care_leavers=leavers, now=ctx.now)
    except Invalid as exc:
        return _page(request, ctx, error=f"Not saved: {exc}.", status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    return _page(request, ctx, notice=f"Saved for the Panel of {day}.")
