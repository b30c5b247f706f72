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

from admin.actions.policy import ActionError, Invalid
from admin.actions.reports import export_report
from admin.web.app import AdminRoute, add_security_headers
from admin.web.policy import Ctx, for_action, refusal

router = APIRouter(route_class=AdminRoute)
NAV = "Reports"
NEEDS = ("admin.reports.registry",)
READERS = for_action("report.export")
MEDIA = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "md": "text/markdown; charset=utf-8"}
FORMAT_NAMES = {"pdf": "PDF (to print or send)", "html": "Web page (HTML)", "md": "Markdown (to edit)"}


def report_settings(web: Any) -> Any:
    """The report settings the composition root read (bot.runtime.build_runtime)."""
    return web.rt.report_settings


def _page(request: Request, ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
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
