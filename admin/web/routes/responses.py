"""Responses: aggregates first (people per flow and per answer for one ended quarter, protected once for every
viewer by admin/reports/responses.py); an individual response only where the young person (or carer) chose to
share it with a worker, and every view is audited.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from admin.actions.policy import AGGREGATE_AUDIENCES, SHARED_AUDIENCES, record, sees_flow
from admin.reports import responses as counts
from admin.reports.catalog import DISTRICTS
from admin.reports.periods import PeriodRefused
from admin.web.policy import ALL, Ctx, requires, resolver
from admin.web.routing import AdminRoute
from content.schema import text_for
from storage import admin_views

router = APIRouter(route_class=AdminRoute)
NAV = "Responses"
AGGREGATES = requires(*AGGREGATE_AUDIENCES, district_scoped=True)
INDIVIDUAL = requires(*SHARED_AUDIENCES, district_scoped=True)
AUDIENCES = SHARED_AUDIENCES  # which audiences' shared responses each role may open


@resolver("flow_id")
def _flow_districts(web: Any, s: Any, flow_id: str) -> frozenset[str] | None:
    return ALL if flow_id in web.library.flows else None


@resolver("submission_id")
def _submission_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    if not raw.isdigit():
        return None
    found = admin_views.submission_district(s, int(raw))
    if found is admin_views.MISSING:
        return None
    return frozenset({found}) if isinstance(found, str) and found else ALL


def _label(flow: Any, question_id: str, choice: str, band: str) -> str:
    node = flow.index.get(question_id) if flow else None
    for c in getattr(node, "choices", None) or ():
        if c.id == choice:
            return text_for(c.label, band)
    return choice.replace("_", " ")


def _question(flow: Any, question_id: str, band: str) -> str:
    node = flow.index.get(question_id) if flow else None
    return text_for(node.text, band) if node is not None and getattr(node, "text", "") else question_id


def _band_for(flow: Any) -> str:
    return "carer" if flow is not None and "carer" in flow.bands else "teen"


def _period(web: Any, ctx: Ctx, value: str) -> tuple[date, date]:
    """The ended quarter asked for (default: the last whole one); 400 with the reason otherwise."""
    try:
        return counts.choose_quarter(value, ctx.now, web.rt.report_settings)
    except PeriodRefused as exc:
        raise HTTPException(400, str(exc)) from None


def _flow_counts(
    web: Any, ctx: Ctx, flows: list[Any], quarter: tuple[date, date], *, answers: bool
) -> dict[str, counts.FlowCounts]:
    """The flows' protected figures (worked out once per process and quarter: see responses.for_flows)."""
    with web.db() as s:
        return counts.for_flows(s, web.library, flows, quarter, settings=web.rt.report_settings, now=ctx.now,
                                districts=DISTRICTS, role_audiences=AGGREGATE_AUDIENCES, answers=answers)


def _quarters(web: Any, ctx: Ctx) -> list[str]:
    return [counts.quarter_label(q) for q in counts.ended_quarters(ctx.now, web.rt.report_settings.timezone)]


@router.get("/responses")
def overview(request: Request, period: str = "", *, ctx: Annotated[Ctx, Depends(AGGREGATES)]) -> Response:
    web, user = ctx.web, ctx.user
    quarter = _period(web, ctx, period)
    shared = []
    if user.role in AUDIENCES:
        with web.db() as s:
            shared = admin_views.shared_submissions(s, districts=user.scope(), audiences=AUDIENCES[user.role])
    mine: list[tuple[Any, counts.Layer]] = []
    for flow in counts.counted_flows(web.library):
        layer = counts.layer_for(flow, AGGREGATE_AUDIENCES[user.role]) if sees_flow(user, flow) else None
        if layer is not None:
            mine.append((flow, layer))
    found = _flow_counts(web, ctx, [f for f, _ in mine], quarter, answers=False)
    rows = [
        {
            "id": flow.id,
            "title": text_for(flow.title, _band_for(flow)),
            "kind": flow.kind,
            "everyone": layer.unknown,  # people who took part are counted only for roles that count all
            "people": found[flow.id].took_part_value(layer, flow, districts=user.scope()),
        }
        for flow, layer in mine
    ]
    return web.render(
        request,
        ctx,
        "responses.html",
        title="Responses",
        flows=rows,
        shared=shared,
        can_open=user.role in AUDIENCES,
        period=counts.quarter_label(quarter),
        quarters=_quarters(web, ctx),
    )


@router.get("/responses/flow/{flow_id}")
def flow_summary(
    request: Request, flow_id: str, band: str = "", period: str = "", *, ctx: Annotated[Ctx, Depends(AGGREGATES)]
) -> Response:
    web, user = ctx.web, ctx.user
    flow = web.library.flows.get(flow_id)
    layer = counts.layer_for(flow, AGGREGATE_AUDIENCES[user.role]) if flow is not None else None
    if flow is None or flow.private or layer is None or not sees_flow(user, flow):
        raise HTTPException(404, "No such flow.")
    quarter = _period(web, ctx, period)
    band = band if band in layer.bands else ""
    fc = _flow_counts(web, ctx, [flow], quarter, answers=True)[flow.id]
    word_band = band or _band_for(flow)
    by_question: dict[str, list[tuple[str, int | None]]] = {}
    for a in fc.answers:
        # Every choice, even at 0: a missing row would say "none".
        by_question.setdefault(a.question_id, []).append(
            (a.choice, a.grid.value(layer, districts=user.scope(), band=band))
        )
    questions = []
    for node in flow.nodes:
        if node.id not in by_question:
            continue
        shown = by_question[node.id]
        questions.append(
            {
                "id": node.id,
                "text": _question(flow, node.id, word_band),
                "rows": [
                    {"label": _label(flow, node.id, ch, word_band), "n": n}
                    # Ordered by what is published: hidden ones last, so their order says nothing either.
                    for ch, n in sorted(shown, key=lambda r: (r[1] is None, -(r[1] or 0)))
                ],
            }
        )
    return web.render(
        request,
        ctx,
        "responses_flow.html",
        title=f"Responses: {text_for(flow.title, word_band)}",
        flow={"id": flow.id, "title": text_for(flow.title, word_band), "bands": layer.bands},
        band=band,
        questions=questions,
        period=counts.quarter_label(quarter),
        quarters=_quarters(web, ctx),
    )


@router.get("/responses/shared/{submission_id}")
def shared_response(
    request: Request, submission_id: int, *, ctx: Annotated[Ctx, Depends(INDIVIDUAL)]
) -> Response:
    web, user = ctx.web, ctx.user
    with web.db() as s:
        found = admin_views.shared_submission(s, submission_id, decrypt=web.keyring.decrypt)
        if found is None or found[0].audience not in AUDIENCES[user.role]:
            raise HTTPException(404, "Not found, or not shared with workers.")
        sub, answers = found
        record(s, user, "response.view", target=f"submission:{submission_id}", now=ctx.now)
    flow = web.library.flows.get(sub.flow_id)
    band = sub.band or _band_for(flow)
    lines = []
    for a in answers:
        if a.quarantined:
            shown = "(held back by the safeguarding check)"
        elif a.skipped:
            shown = "(skipped)"
        elif a.text is not None:
            shown = a.text
        elif isinstance(a.value, list):
            shown = ", ".join(_label(flow, a.question_id, str(v), band) for v in a.value)
        elif a.value is None:
            shown = ""
        else:
            shown = _label(flow, a.question_id, str(a.value), band)
        lines.append({"question": _question(flow, a.question_id, band), "answer": shown})
    return web.render(
        request,
        ctx,
        "response.html",
        title="Shared response",
        sub=sub,
        flow_title=text_for(flow.title, band) if flow else sub.flow_id,
        lines=lines,
    )
