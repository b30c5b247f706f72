"""Submissions (one run through a flow) and their answers, written as they are given."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlmodel import Session

from storage.models import Answer, AnswerChoice, Participant, Submission


def get_or_start(
    session: Session, participant: Participant, flow_id: str, run: int, *, now: datetime, mode: str = "chat"
) -> Submission:
    """The submission for this run, created on first use with a snapshot of band and district."""
    sub = session.execute(
        select(Submission).where(
            Submission.participant_id == participant.id, Submission.flow_id == flow_id, Submission.run == run
        )
    ).scalar_one_or_none()
    if sub is None:
        sub = Submission(
            participant_id=participant.id,
            flow_id=flow_id,
            run=run,
            mode=mode,
            audience=participant.audience,
            band=participant.band,
            district=participant.district,
            council=participant.council,
            started_at=now,
        )
        session.add(sub)
        session.flush()
    return sub


def put_answer(
    session: Session,
    sub: Submission,
    question_id: str,
    value: Any,
    *,
    skipped: bool,
    free_text: bool,
    quarantined: bool,
    now: datetime,
) -> Answer:
    """Store an answer, replacing an earlier answer to the same question (after /back)."""
    existing = session.execute(
        select(Answer).where(Answer.submission_id == sub.id, Answer.question_id == question_id)
    ).scalar_one_or_none()
    if existing is not None:
        session.execute(delete(AnswerChoice).where(AnswerChoice.answer_id == existing.id))
        answer = existing
    else:
        answer = Answer(submission_id=sub.id, question_id=question_id, value_json="null", answered_at=now)
    answer.value_json = json.dumps(None if free_text else value, ensure_ascii=False)
    answer.text_value = value if free_text else None
    answer.skipped = skipped
    answer.quarantined = quarantined
    answer.answered_at = now
    session.add(answer)
    session.flush()
    if not skipped and not free_text and value is not None:
        picks = value if isinstance(value, list) else [value]
        session.add_all(
            AnswerChoice(
                answer_id=answer.id,
                submission_id=sub.id,
                flow_id=sub.flow_id,
                question_id=question_id,
                choice=str(p),
                band=sub.band,
                district=sub.district,
                answered_at=now,
            )
            for p in picks
        )
    return answer


def complete(session: Session, sub: Submission, *, now: datetime) -> None:
    sub.status = "completed"
    sub.completed_at = now
    session.add(sub)


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
