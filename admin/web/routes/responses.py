"""Responses: aggregates first (counts per flow and per question, small counts hidden); an individual
response only where the young person (or carer) chose to share it with a worker, and every view is audited.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from admin.actions.policy import AGGREGATE_AUDIENCES, SHARED_AUDIENCES, record, sees_flow
from admin.reports.disclosure import protect, protect_list
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


@router.get("/responses")
def overview(request: Request, *, ctx: Annotated[Ctx, Depends(AGGREGATES)]) -> Response:
    web, user = ctx.web, ctx.user
    with web.db() as s:
        counts = admin_views.flow_counts(s, districts=user.scope(), audiences=AGGREGATE_AUDIENCES[user.role])
        shared = []
        if user.role in AUDIENCES:
            shared = admin_views.shared_submissions(s, districts=user.scope(), audiences=AUDIENCES[user.role])
    rows = []
    for c in counts:
        flow = web.library.flows.get(c.flow_id)
        if flow is None or flow.kind == "menu" or not sees_flow(user, flow):
            continue
        # Finished and not finished add up to started: protected together, so neither gives the other away.
        pair = protect_list([c.completed, c.submissions - c.completed])
        rows.append(
            {
                "id": c.flow_id,
                "title": text_for(flow.title, _band_for(flow)),
                "kind": flow.kind,
                "submissions": pair.row_totals[0] if pair.row_totals else None,
                "completed": pair.cells[0][0],
            }
        )
    return web.render(
        request,
        ctx,
        "responses.html",
        title="Responses",
        flows=rows,
        shared=shared,
        can_open=user.role in AUDIENCES,
    )


def band_tables(
    s: Any, flow_id: str, bands: list[str], *, districts: Any, audiences: Any = None
) -> dict[str, tuple[list[tuple[str, list[int]]], Any]]:
    """Per question: each choice's counts by age band (plus any answers without one) protected as one
    table whose row totals are the "All" view, so comparing "All" with one band reveals nothing hidden.
    Only `audiences`' answers count: the fostering team never counts young people's, even in a shared flow."""
    everyone = admin_views.choice_totals(s, flow_id, districts=districts, audiences=audiences)
    per_band = [
        admin_views.choice_totals(s, flow_id, districts=districts, band=b, audiences=audiences) for b in bands
    ]
    out = {}
    for qid, counts in everyone.items():
        choices = []
        for ch, n in counts.items():
            cells = [pb.get(qid, {}).get(ch, 0) for pb in per_band]
            choices.append((ch, [*cells, n - sum(cells)]))
        if not any(c[-1] for _, c in choices):  # every answer has a band: no "without a band" column
            choices = [(ch, c[:-1]) for ch, c in choices]
        table = protect([c for _, c in choices], row_totals=True, col_totals=False, grand_total=False)
        out[qid] = (choices, table)
    return out


@router.get("/responses/flow/{flow_id}")
def flow_summary(
    request: Request, flow_id: str, band: str = "", *, ctx: Annotated[Ctx, Depends(AGGREGATES)]
) -> Response:
    web, user = ctx.web, ctx.user
    flow = web.library.flows.get(flow_id)
    if flow is None or not sees_flow(user, flow):
        raise HTTPException(404, "No such flow.")
    band = band if band in flow.bands else ""
    with web.db() as s:
        totals = band_tables(
            s, flow_id, list(flow.bands), districts=user.scope(), audiences=AGGREGATE_AUDIENCES[user.role]
        )
    word_band = band or _band_for(flow)
    column = None if not band else list(flow.bands).index(band)
    questions = []
    for node in flow.nodes:
        if node.id not in totals:
            continue
        choices, table = totals[node.id]
        shown = [
            (ch, table.row_totals[i] if column is None and table.row_totals else table.cells[i][column])
            for i, (ch, _) in enumerate(choices)  # every choice, even at 0: a missing row would say "none"
        ]
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
        flow={"id": flow.id, "title": text_for(flow.title, word_band), "bands": flow.bands},
        band=band,
        questions=questions,
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
