"""Themes: staff write a short summary of what young people said to one question over one fixed period;
the report shows it above that question's quotes (issue 19, 6). Calls admin.actions.themes.write_theme,
the same action as `ourvoice report theme set`. Shows no counts.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from admin.actions.policy import ActionError, Invalid
from admin.actions.themes import MAX_CHARS, write_theme
from admin.web.policy import Ctx, for_action, refusal
from admin.web.routing import AdminRoute

router = APIRouter(route_class=AdminRoute)
NAV = "Themes"
WRITERS = for_action("theme.write")


def _last_quarter(today: date) -> str:
    q = (today.month - 1) // 3 + 1
    return f"{today.year}-Q{q - 1}" if q > 1 else f"{today.year - 1}-Q4"


def _questions(library: Any) -> list[dict[str, str]]:
    from admin.reports import catalog

    out = []
    for flow in library.flows.values():
        if flow.kind == "menu" or flow.private:
            continue
        for q in catalog.questions(flow, include_text=True):
            out.append({"value": f"{flow.id}/{q.question_id}", "label": f"{catalog.title(flow)}: {q.text}"})
    return out


def _page(request: Request, ctx: Ctx, period: str, *, error: str = "", notice: str = "", status: int = 200,
          form: dict[str, str] | None = None) -> Response:
    from admin.reports.periods import PeriodRefused, parse
    from storage import themes

    try:
        since, until = parse(period)
    except PeriodRefused:
        period = _last_quarter(ctx.now.date())
        since, until = parse(period)
    with ctx.web.db() as s:
        written = themes.for_period(s, (since, until))
    page: Response = ctx.web.render(
        request, ctx, "themes.html", status=status, title="Themes", period=period, questions=_questions(
            ctx.web.library), written=written, error=error, notice=notice, max_chars=MAX_CHARS, form=form or {},
    )
    return page


@router.get("/themes")
def themes_page(request: Request, period: str = "", *, ctx: Annotated[Ctx, Depends(WRITERS)]) -> Response:
    return _page(request, ctx, period)


@router.post("/themes")
def themes_write(
    request: Request,
    *,
    period: Annotated[str, Form()],
    question: Annotated[str, Form()],
    summary: Annotated[str, Form()] = "",
    ctx: Annotated[Ctx, Depends(WRITERS)],
) -> Response:
    from admin.reports.periods import PeriodRefused, parse

    form = {"question": question, "summary": summary}
    try:
        since, until = parse(period)
    except PeriodRefused as exc:
        return _page(request, ctx, period, error=str(exc), status=400, form=form)
    topic_id, _, question_id = question.partition("/")
    web = ctx.web
    try:
        with web.db() as s:
            stored = write_theme(
                s, web.library, ctx.user, topic_id=topic_id, question_id=question_id, since=since, until=until,
                summary=summary, settings=web.rt.report_settings, now=ctx.now,
            )
    except Invalid as exc:
        return _page(request, ctx, period, error=str(exc), status=400, form=form)
    except ActionError as exc:
        raise refusal(exc) from None
    return _page(request, ctx, period, notice="Saved." if stored else "Removed.")
