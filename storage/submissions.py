"""Submissions (one run through a flow) and their answers, written as they are given."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlmodel import Session

from storage.db import core
from storage.models import Answer, AnswerChoice, Participant, Quote, Submission, ToRead


class Run(NamedTuple):
    """A submission as answers need it: its id and the snapshot (flow, band, district) choices are counted under."""

    id: int
    flow_id: str
    band: str | None
    district: str | None


# Core statements on the tables, built once: the dispatcher starts runs and stores answers on most messages,
# and plain statements skip the ORM's statement building, entity loading and unit-of-work flushes. They run on the
# session's connection (`core`), past the ORM's per-call execution machinery.
_SUB = Submission.__table__  # type: ignore[attr-defined]
_ANS = Answer.__table__  # type: ignore[attr-defined]
_CHOICE = AnswerChoice.__table__  # type: ignore[attr-defined]
_FIND_RUN = select(_SUB.c.id, _SUB.c.flow_id, _SUB.c.band, _SUB.c.district).where(
    _SUB.c.participant_id == bindparam("pid"), _SUB.c.flow_id == bindparam("flow"), _SUB.c.run == bindparam("run")
)
_START_RUN = insert(_SUB)
_COMPLETE = (
    update(_SUB).where(_SUB.c.id == bindparam("sub_id")).values(status="completed", completed_at=bindparam("now"))
)
_FIND_ANSWER = select(_ANS.c.id).where(
    _ANS.c.submission_id == bindparam("sub_id"), _ANS.c.question_id == bindparam("qid")
)
_DROP_CHOICES = delete(_CHOICE).where(_CHOICE.c.answer_id == bindparam("answer_id"))
_ANSWER_VALUES = {
    "value_json": bindparam("new_value_json"),
    "text_value": bindparam("new_text_value"),
    "text_enc": bindparam("new_text_enc"),
    "skipped": bindparam("new_skipped"),
    "quarantined": bindparam("new_quarantined"),
    "answered_at": bindparam("now"),
}
_REPLACE_ANSWER = update(_ANS).where(_ANS.c.id == bindparam("answer_id")).values(_ANSWER_VALUES)
_ADD_ANSWER = insert(_ANS).values(submission_id=bindparam("sub_id"), question_id=bindparam("qid"), **_ANSWER_VALUES)
_ADD_CHOICE = insert(_CHOICE)
# json.dumps with options builds a new encoder per call; this one is built once (same output).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def start_run(
    session: Session, participant: Participant, flow_id: str, run: int, *, now: datetime, mode: str = "chat"
) -> Run:
    """The submission for this run, created on first use with a snapshot of band and district."""
    conn = core(session)
    row = conn.execute(_FIND_RUN, {"pid": participant.id, "flow": flow_id, "run": run}).first()
    if row is not None:
        return Run(*row)
    sub_id = conn.execute(
        _START_RUN,
        {
            "participant_id": participant.id,
            "flow_id": flow_id,
            "run": run,
            "mode": mode,
            "audience": participant.audience,
            "band": participant.band,
            "district": participant.district,
            "council": participant.council,
            "started_at": now,
        },
    ).inserted_primary_key[0]
    return Run(sub_id, flow_id, participant.band, participant.district)


def get_or_start(
    session: Session, participant: Participant, flow_id: str, run: int, *, now: datetime, mode: str = "chat"
) -> Submission:
    """`start_run` as an ORM object, for callers that change the submission afterwards."""
    session.flush()  # the Core statements below don't autoflush: let them see pending ORM changes
    return session.get_one(Submission, start_run(session, participant, flow_id, run, now=now, mode=mode).id)


def write_answer(
    session: Session,
    sub: Submission | Run,
    question_id: str,
    value: Any,
    *,
    skipped: bool,
    free_text: bool,
    quarantined: bool,
    now: datetime,
    sealed: bytes | None = None,
) -> int:
    """Store an answer, replacing an earlier answer to the same question (after /back); returns its id.

    `sealed` is the free text already encrypted by the caller (the dispatcher seals every free-text answer): it is
    stored instead of the words. Unsealed free text (tests, older rows) stays readable until `ourvoice keys rotate`
    seals it.
    """
    values = {
        "new_value_json": _ENCODE(None if free_text else value),
        "new_text_value": value if free_text and sealed is None else None,
        "new_text_enc": sealed,
        "new_skipped": skipped,
        "new_quarantined": quarantined,
        "now": now,
    }
    conn = core(session)
    answer_id = conn.execute(_FIND_ANSWER, {"sub_id": sub.id, "qid": question_id}).scalar_one_or_none()
    if answer_id is not None:
        conn.execute(_DROP_CHOICES, {"answer_id": answer_id})
        conn.execute(_REPLACE_ANSWER, {"answer_id": answer_id, **values})
    else:
        added = conn.execute(_ADD_ANSWER, {"sub_id": sub.id, "qid": question_id, **values})
        answer_id = added.inserted_primary_key[0]
    if not skipped and not free_text and value is not None:
        picks = value if isinstance(value, list) else [value]
        conn.execute(
            _ADD_CHOICE,
            [
                {
                    "answer_id": answer_id,
                    "submission_id": sub.id,
                    "flow_id": sub.flow_id,
                    "question_id": question_id,
                    "choice": str(p),
                    "band": sub.band,
                    "district": sub.district,
                    "answered_at": now,
                }
                for p in picks
            ],
        )
    return answer_id


def put_answer(
    session: Session,
    sub: Submission | Run,
    question_id: str,
    value: Any,
    *,
    skipped: bool,
    free_text: bool,
    quarantined: bool,
    now: datetime,
    sealed: bytes | None = None,
) -> Answer:
    """`write_answer` returning the ORM row, for callers that read or change it afterwards."""
    session.flush()  # the Core statements don't autoflush: let them see pending ORM changes
    answer_id = write_answer(
        session, sub, question_id, value, skipped=skipped, free_text=free_text, quarantined=quarantined, now=now,
        sealed=sealed,
    )
    # Reloaded even if already in the session: the Core update above bypassed any object held there.
    return session.get_one(Answer, answer_id, populate_existing=True)


def complete(session: Session, sub: Submission | Run, *, now: datetime) -> None:
    if isinstance(sub, Submission):
        sub.status = "completed"
        sub.completed_at = now
        session.add(sub)
    else:
        core(session).execute(_COMPLETE, {"sub_id": sub.id, "now": now})


def close_restarted(session: Session, participant_id: int, flow_id: str, run: int, *, now: datetime) -> bool:
    """A run the person chose to start again (or left before answering anything): status "restarted", its
    answers removed so they are never counted twice (a fresh run holds the new ones). False if there is none."""
    del now  # kept for the house signature: nothing about a restart is timed
    conn = core(session)
    row = conn.execute(_FIND_RUN, {"pid": participant_id, "flow": flow_id, "run": run}).first()
    if row is None or conn.execute(select(_SUB.c.status).where(_SUB.c.id == row[0])).scalar_one() == "completed":
        return False
    sub_id = row[0]
    answer_ids = select(_ANS.c.id).where(_ANS.c.submission_id == sub_id)
    conn.execute(delete(Quote.__table__).where(Quote.__table__.c.answer_id.in_(answer_ids)))  # type: ignore[attr-defined]
    conn.execute(delete(ToRead.__table__).where(ToRead.__table__.c.answer_id.in_(answer_ids)))  # type: ignore[attr-defined]
    conn.execute(delete(_CHOICE).where(_CHOICE.c.submission_id == sub_id))
    conn.execute(delete(_ANS).where(_ANS.c.submission_id == sub_id))
    conn.execute(update(_SUB).where(_SUB.c.id == sub_id).values(status="restarted"))
    return True


def completed_flows(session: Session, participant_id: int, flow_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Which of these flows the participant has finished at least once (e.g. topics shown as done)."""
    if not flow_ids:
        return ()
    rows = core(session).execute(
        select(_SUB.c.flow_id)
        .where(_SUB.c.participant_id == participant_id, _SUB.c.status == "completed", _SUB.c.flow_id.in_(flow_ids))
        .distinct()
    )
    return tuple(sorted(r[0] for r in rows))


def answers_of(session: Session, participant_id: int, flow_id: str | None = None) -> list[tuple[Submission, Answer]]:
    """Every answer a participant gave, oldest first (for their own 'my stuff' view and tests)."""
    q = (
        select(Submission, Answer)
        .join(Answer, Answer.submission_id == Submission.id)
        .where(Submission.participant_id == participant_id)
        .order_by(Answer.id)
    )
    if flow_id:
        q = q.where(Submission.flow_id == flow_id)
    return [(s, a) for s, a in session.execute(q).all()]


def count_answers(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(Answer)).scalar_one())
