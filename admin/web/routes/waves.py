"""Carer survey waves: open a wave, follow response rates per district, close it, and enter a response
taken by phone or on paper. Calls the same actions as `ourvoice survey` (admin/actions/waves.py; each change
writes one audit row).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from admin.actions import waves as wave_actions
from admin.actions.policy import ActionError, Invalid
from admin.web.policy import Ctx, for_action, refusal, resolver
from admin.web.routing import AdminRoute, redirect
from content.schema import text_for

router = APIRouter(route_class=AdminRoute)
NAV = "Carer surveys"
LIST = for_action("wave.list")
VIEW = for_action("wave.view", changes_object=False)
FOSTERING = for_action("wave.open")
CLOSE = for_action("wave.close")
ENTER = for_action("wave.enter", changes_object=False)


@resolver("wave_id")
def _wave_districts(web: Any, s: Any, raw: str) -> frozenset[str] | None:
    return wave_actions.wave_districts(s, int(raw)) if raw.isdigit() else None


def _surveys(library: Any) -> list[tuple[str, str]]:
    return sorted(
        (f.id, text_for(f.title, "carer"))
        for f in library.flows.values()
        if f.kind == "survey" and "carer" in f.audience
    )


def _list_page(request: Request, ctx: Ctx, *, error: str = "", status: int = 200) -> Response:
    with ctx.web.db() as s:
        rows = wave_actions.visible_waves(s, ctx.user)
        invited = {w.id: wave_actions.invited_shown(s, w.id) for w in rows}
    return ctx.web.render(
        request,
        ctx,
        "waves.html",
        status=status,
        title="Carer surveys",
        waves=rows,
        invited=invited,
        surveys=_surveys(ctx.web.library),
        now=ctx.now,
        error=error,
    )


@router.get("/waves")
def wave_list(request: Request, *, ctx: Annotated[Ctx, Depends(LIST)]) -> Response:
    return _list_page(request, ctx)


@router.post("/waves")
async def wave_open(request: Request, *, ctx: Annotated[Ctx, Depends(FOSTERING)]) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    districts = [str(d) for d in form.getlist("districts")]
    rt = ctx.web.rt

    def open_it() -> None:
        with ctx.web.db() as s:
            wave_actions.open_wave(
                s, rt.library, ctx.user, str(form.get("questionnaire", "")),
                name=str(form.get("name", "")).strip()[:80], opens=str(form.get("opens", "")),
                closes=str(form.get("closes", "")), districts=districts or None,
                timezone=rt.wave_settings.timezone, now=ctx.now,
            )

    try:
        await run_in_threadpool(open_it)
    except Invalid as exc:
        return _list_page(request, ctx, error=str(exc), status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect("/admin/waves", "opened")


@router.get("/waves/{wave_id}")
def wave_detail(request: Request, wave_id: int, *, ctx: Annotated[Ctx, Depends(VIEW)]) -> Response:
    with ctx.web.db() as s:
        try:
            fig = wave_actions.wave_figures(s, ctx.user, wave_id)
        except ActionError as exc:
            raise refusal(exc) from None
    return ctx.web.render(
        request,
        ctx,
        "wave.html",
        title=f"Wave: {fig.status.wave.name}",
        st=fig.status,
        rows=fig.rows,
        total=fig.total,
        state=fig.status.wave.state(ctx.now),
    )


@router.post("/waves/{wave_id}/close")
def wave_close(request: Request, wave_id: int, *, ctx: Annotated[Ctx, Depends(CLOSE)]) -> Response:
    try:
        with ctx.web.db() as s:
            wave_actions.close_wave(s, ctx.user, wave_id, now=ctx.now)
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect(f"/admin/waves/{wave_id}", "closed")


def entry_fields(flow: Any) -> list[dict]:
    """The questionnaire as form fields: (id, kind, question text, options)."""
    from bot.features.carers import SUBMIT_NODE
    from content.schema import QUESTION_TYPES

    out = []
    for node in flow.nodes:
        if not isinstance(node, QUESTION_TYPES) or node.id == SUBMIT_NODE:
            continue
        options: list[tuple[str, str]] = []
        if node.type in ("choice", "multi"):
            options = [(c.id, text_for(c.label, "carer")) for c in node.choices]
        elif node.type == "yesno":
            options = [("yes", "Yes"), ("no", "No")] + ([("not_sure", "Not sure")] if node.not_sure else [])
        elif node.type == "scale":
            options = [(str(i), str(i)) for i in range(1, 6)]
        out.append(
            {
                "id": node.id,
                "kind": node.type,
                "text": text_for(node.text, "carer") if node.text else node.id,
                "options": options,
            }
        )
    return out


def _enter_page(request: Request, ctx: Ctx, wave_id: int, *, error: str = "", status: int = 200) -> Response:
    from storage import waves

    with ctx.web.db() as s:
        wave = waves.get_wave(s, wave_id)
    if wave is None:
        raise HTTPException(404, "No such wave.")
    flow = ctx.web.library.flows.get(wave.questionnaire_id)
    if flow is None:
        raise HTTPException(404, "This questionnaire is no longer in the content.")
    allowed = [
        d
        for d in (wave.districts or ctx.web.env.globals["DISTRICTS"])
        if ctx.user.all_districts or d in ctx.user.districts
    ]
    return ctx.web.render(
        request,
        ctx,
        "wave_entry.html",
        status=status,
        title=f"Enter a response: {wave.name}",
        wave=wave,
        fields=entry_fields(flow),
        districts=allowed,
        error=error,
    )


@router.get("/waves/{wave_id}/enter")
def wave_enter_form(request: Request, wave_id: int, *, ctx: Annotated[Ctx, Depends(ENTER)]) -> Response:
    return _enter_page(request, ctx, wave_id)


@router.post("/waves/{wave_id}/enter")
async def wave_enter(request: Request, wave_id: int, *, ctx: Annotated[Ctx, Depends(ENTER)]) -> Response:
    from starlette.concurrency import run_in_threadpool

    from storage import waves

    form = await request.form()
    district = str(form.get("district", ""))
    if not ctx.user.sees(district):
        return await run_in_threadpool(
            _enter_page, request, ctx, wave_id, error="Choose one of your own districts.", status=400
        )
    with ctx.web.db() as s:
        wave = waves.get_wave(s, wave_id)
    flow = ctx.web.library.flows.get(wave.questionnaire_id) if wave else None
    if flow is None:
        raise HTTPException(404, "No such wave.")
    answers: dict[str, Any] = {}
    for f in entry_fields(flow):
        if f["kind"] == "multi":
            picked = [str(v) for v in form.getlist(f["id"])]
            if picked:
                answers[f["id"]] = picked
            continue
        raw = str(form.get(f["id"], "")).strip()
        if not raw:
            continue
        answers[f["id"]] = int(raw) if f["kind"] == "scale" and raw.isdigit() else raw
    if not answers:
        return await run_in_threadpool(
            _enter_page, request, ctx, wave_id, error="Enter at least one answer before saving.", status=400
        )
    try:
        await run_in_threadpool(
            _enter,
            ctx,
            wave_id,
            mode=str(form.get("mode", "")),
            district=district or None,
            answers=answers,
            case_ref=str(form.get("case_ref", "")).strip() or None,
        )
    except Invalid as exc:
        return await run_in_threadpool(_enter_page, request, ctx, wave_id, error=str(exc), status=400)
    except ActionError as exc:
        raise refusal(exc) from None
    return redirect(f"/admin/waves/{wave_id}", "entered")


def _enter(ctx: Ctx, wave_id: int, *, mode: str, district: str | None, answers: dict[str, Any],
           case_ref: str | None) -> None:
    """The same action `ourvoice survey enter` calls (admin.actions.waves.enter_response)."""
    rt = ctx.web.rt
    with ctx.web.db() as s:
        wave_actions.enter_response(s, rt.library, rt.lexicon, ctx.user, wave_id, mode=mode, district=district,
                                    answers=answers, case_ref=case_ref, now=ctx.now)
