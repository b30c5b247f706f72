"""Every table ourvoice keeps. Ids of content (flows, questions, choices) are plain strings.

Privacy by design: no names, usernames, phone numbers or photos; channel ids only as keyed hashes;
addresses for later messages only encrypted; quarantined text only encrypted.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class Participant(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_ref: str = Field(index=True, unique=True, max_length=16)
    audience: str = Field(default="young_person", max_length=20)
    band: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=40)
    council: str | None = Field(default=None, max_length=40)
    status: str = Field(default="active", max_length=20)  # active | opted_out | deleted
    created_at: datetime


class ChannelIdentity(SQLModel, table=True):
    __tablename__ = "channel_identity"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    channel: str = Field(max_length=20)
    key_hash: str = Field(unique=True, max_length=64)
    address_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: datetime


class Conversation(SQLModel, table=True):
    participant_id: int = Field(foreign_key="participant.id", primary_key=True)
    state_json: str = Field(sa_column=Column(Text, nullable=False))
    version: int = 0
    updated_at: datetime


class InboundEvent(SQLModel, table=True):
    """One row per channel message id: the dedupe key that makes redelivery harmless."""

    __tablename__ = "inbound_event"
    __table_args__ = (UniqueConstraint("channel", "message_id", name="uq_inbound_channel_msg"),)
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=20)
    message_id: str = Field(max_length=128)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    outcome: str = Field(default="ok", max_length=20)
    received_at: datetime


class Submission(SQLModel, table=True):
    """One run through a flow by one participant; answers hang off it. Band/district are snapshots."""

    __table_args__ = (
        UniqueConstraint("participant_id", "flow_id", "run", name="uq_submission_run"),
        Index("ix_submission_flow_status", "flow_id", "status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    flow_id: str = Field(max_length=48)
    run: int = 0
    status: str = Field(default="started", max_length=20)  # started | completed
    mode: str = Field(default="chat", max_length=20)  # chat | phone | paper
    audience: str = Field(default="young_person", max_length=20)
    band: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=40)
    council: str | None = Field(default=None, max_length=40)
    wave_id: int | None = Field(default=None, index=True)
    shared_with_worker: bool = False
    started_at: datetime
    completed_at: datetime | None = None


class Answer(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("submission_id", "question_id", name="uq_answer_question"),)
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)
    question_id: str = Field(max_length=48)
    value_json: str = Field(sa_column=Column(Text, nullable=False))
    text_value: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    skipped: bool = False
    quarantined: bool = False
    answered_at: datetime


class AnswerChoice(SQLModel, table=True):
    """One row per picked option (single, multi, yes/no, scale): what aggregates count in SQL."""

    __tablename__ = "answer_choice"
    __table_args__ = (
        Index("ix_answer_choice_count", "flow_id", "question_id", "choice", "band", "district"),
    )
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", index=True)
    submission_id: int = Field(foreign_key="submission.id")
    flow_id: str = Field(max_length=48)
    question_id: str = Field(max_length=48)
    choice: str = Field(max_length=48)
    band: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=40)
    answered_at: datetime


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_pending", "status", "channel", "not_before"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    inbound_id: int | None = Field(default=None, foreign_key="inbound_event.id", index=True)
    channel: str = Field(max_length=20)
    address_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    payload_json: str = Field(sa_column=Column(Text, nullable=False))
    kind: str = Field(default="reply", max_length=30)
    status: str = Field(default="pending", max_length=20)  # pending | sent | dead
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=200)


class Alert(SQLModel, table=True):
    """A safeguarding alert. The child's words are kept only encrypted, and read only with audit."""

    id: int | None = Field(default=None, primary_key=True)
    alert_ref: str = Field(unique=True, max_length=24)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    case_ref: str | None = Field(default=None, max_length=16)
    channel: str = Field(max_length=20)
    categories: str = Field(max_length=200)
    text_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = Field(default="open", max_length=20)  # open | acknowledged | closed
    escalation_level: int = 0
    notified_count: int = 0
    created_at: datetime
    last_notified_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=80)
    acknowledged_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=80)
    closed_at: datetime | None = None
    outcome: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    followup_sent: bool = False


class JobRun(SQLModel, table=True):
    """Claim row per scheduled occurrence: inserting it is what lets exactly one process run the job."""

    __tablename__ = "job_run"
    job_name: str = Field(primary_key=True, max_length=60)
    scheduled_for: datetime = Field(primary_key=True)
    claimed_at: datetime
    finished_at: datetime | None = None
    result: str | None = Field(default=None, max_length=200)


class AuditEntry(SQLModel, table=True):
    """Append-only and hash-chained: each row's hash covers the previous row's hash."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=120)
    detail: str = Field(default="", max_length=500)
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class TopicPublication(SQLModel, table=True):
    """Staff overrides for a topic defined in content: publish, close, reschedule, target districts."""

    __tablename__ = "topic_publication"
    topic_id: str = Field(primary_key=True, max_length=48)
    status: str = Field(default="published", max_length=20)
    opens: date | None = None
    closes: date | None = None
    districts: str | None = Field(default=None, max_length=400)
    updated_at: datetime


# --- staff admin (issue 9) ---


class StaffAccount(SQLModel, table=True):
    """A staff login for the admin web and CLI. Never a participant; passwords only as Argon2id hashes."""

    __tablename__ = "staff"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, index=True, max_length=80)
    role: str = Field(max_length=40)
    districts: str = Field(default="", max_length=400)  # comma-separated district ids; "" = every district
    password_hash: str = Field(sa_column=Column(Text, nullable=False))
    active: bool = True
    created_at: datetime
    password_changed_at: datetime | None = None
    last_login_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A signed-in browser: only the SHA-256 of the random session id is stored."""

    __tablename__ = "staff_session"
    id_hash: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    created_at: datetime
    last_seen_at: datetime


class LoginAttempt(SQLModel, table=True):
    """Sign-in attempts for rate limiting (per username and per address); pruned after a day."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_user", "username", "at"),
        Index("ix_login_attempt_ip", "ip", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80)
    ip: str = Field(max_length=64)
    success: bool = False
    at: datetime
