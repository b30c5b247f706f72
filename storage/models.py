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
    # The young person's reference in the council's case system, copied from their invite: encrypted,
    # never listed; revealed only by a safeguarding lead's audited "break glass" on an alert.
    council_ref_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    invite_id: int | None = Field(default=None)  # the invite they joined with: who issued it and when
    language: str | None = Field(default=None, max_length=16)  # issue 24: from their invite, until they choose
    # Where this young person's review statements go (issue 25): their IRO's and social worker's addresses from
    # the invite, encrypted; None falls back to the shared mailbox (OURVOICE_REVIEW_IRO_TO / _SOCIAL_WORKER_TO).
    iro_to_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    social_worker_to_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


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
    # Free text that safeguarding flagged is kept only here, encrypted (text_value stays empty).
    text_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    skipped: bool = False
    quarantined: bool = False
    answered_at: datetime


class AnswerChoice(SQLModel, table=True):
    """One row per picked option (single, multi, yes/no, scale): what aggregates count in SQL."""

    __tablename__ = "answer_choice"
    __table_args__ = (
        Index("ix_answer_choice_count", "flow_id", "question_id", "choice", "band", "district"),
        # A period's roll-up reads one flow's answers between two times (storage.reporting.people_counts).
        Index("ix_answer_choice_flow_time", "flow_id", "answered_at"),
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
    __table_args__ = (
        Index("ix_outbox_pending", "status", "channel", "not_before"),
        Index("ix_outbox_chat", "channel", "participant_id", "status", "id"),  # a chat's oldest pending row
    )
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
    # Several processes send (issue 26): a process claims a chat's due rows until `claimed_until` (renewed while
    # it runs); `sending_at` is set when a send starts, so a row still pending with it was in flight at a crash.
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    sending_at: datetime | None = None


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


class SenderLease(SQLModel, table=True):
    """Which process may send a channel's outbox rows: one holder at a time, renewed while it runs.

    Without it, two processes sending for one channel would each find the other's unsent rows.
    """

    __tablename__ = "sender_lease"
    channel: str = Field(primary_key=True, max_length=20)
    holder: str = Field(max_length=64)
    expires_at: datetime


class SendBudget(SQLModel, table=True):
    """A channel's global send rate, shared by every process: the next free send slot and the time a 429 from the
    platform blocks everyone until (epoch seconds)."""

    __tablename__ = "send_budget"
    channel: str = Field(primary_key=True, max_length=20)
    next_at: float = 0.0
    blocked_until: float = 0.0


class JobRun(SQLModel, table=True):
    """Claim row per scheduled occurrence: inserting it is what lets exactly one process run the job."""

    __tablename__ = "job_run"
    job_name: str = Field(primary_key=True, max_length=60)
    scheduled_for: datetime = Field(primary_key=True)
    claimed_at: datetime
    finished_at: datetime | None = None
    result: str | None = Field(default=None, max_length=200)


class AuditEntry(SQLModel, table=True):
    """Append-only (UPDATE and DELETE refused by triggers) and HMAC-chained: each row's hash covers the previous."""

    __tablename__ = "audit_entry"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    actor: str = Field(max_length=80)
    action: str = Field(max_length=60)
    target: str = Field(default="", max_length=120)
    detail: str = Field(default="", max_length=500)
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The audit chain's one-row head (id 1): locked by every append so appends never chain to the same row,
    and holding the count and last hash under an HMAC the database alone cannot forge."""

    __tablename__ = "audit_head"
    id: int = Field(default=1, primary_key=True)
    count: int = 0
    last_id: int = 0
    last_hash: str = Field(max_length=64)
    keyed_from: int = 0  # first id written with the key; earlier rows are legacy unkeyed SHA-256
    mac: str | None = Field(default=None, max_length=64)


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


class DashboardSnapshot(SQLModel, table=True):
    """When the staff dashboard's people-heard counts for a rolling period were last computed."""

    __tablename__ = "dashboard_snapshot"
    period_days: int = Field(primary_key=True)
    computed_at: datetime


class DashboardReach(SQLModel, table=True):
    """People heard in the last `period_days` days per audience, council, band and district ("" = unknown).

    Each person is counted once, in the cell of their current profile, so cells add up to margins.
    """

    __tablename__ = "dashboard_reach"
    id: int | None = Field(default=None, primary_key=True)
    period_days: int = Field(index=True)
    audience: str = Field(default="", max_length=20)
    council: str = Field(default="", max_length=40)
    band: str = Field(default="", max_length=20)
    district: str = Field(default="", max_length=40)
    people: int = 0


# --- participation summaries (issue 8) ---


class RollupPeriod(SQLModel, table=True):
    """One row per rolled-up period: recomputing a period replaces its rows in one transaction."""

    __tablename__ = "rollup_period"
    period: str = Field(primary_key=True, max_length=40)  # "2026-11" or "2026-09-01..2026-11-30"
    since: datetime  # naive UTC, inclusive
    until: datetime  # naive UTC, exclusive
    computed_at: datetime
    cells: int = 0


class RollupChoice(SQLModel, table=True):
    """People (distinct) and answers per period, flow, question, choice, council, band and district.

    Unknown council/band/district are stored as "" so the unique key works on every database.
    Quarantined answers are never counted.
    """

    __tablename__ = "rollup_choice"
    __table_args__ = (
        UniqueConstraint(
            "period", "flow_id", "question_id", "choice", "council", "band", "district",
            name="uq_rollup_choice",
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=40, index=True)
    flow_id: str = Field(max_length=48)
    question_id: str = Field(max_length=48)
    choice: str = Field(max_length=48)
    council: str = Field(default="", max_length=40)
    band: str = Field(default="", max_length=20)
    district: str = Field(default="", max_length=40)
    people: int = 0
    answers: int = 0


class RollupReach(SQLModel, table=True):
    """People heard in a period (at least one answer to a reported flow), by their current profile."""

    __tablename__ = "rollup_reach"
    __table_args__ = (
        UniqueConstraint("period", "audience", "council", "band", "district", name="uq_rollup_reach"),
    )
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=40, index=True)
    audience: str = Field(default="", max_length=20)
    council: str = Field(default="", max_length=40)
    band: str = Field(default="", max_length=20)
    district: str = Field(default="", max_length=40)
    people: int = 0


class Quote(SQLModel, table=True):
    """A free-text answer offered for publication: only the scrubbed text, shown only once approved."""

    __tablename__ = "quote"
    id: int | None = Field(default=None, primary_key=True)
    answer_id: int = Field(foreign_key="answer.id", unique=True)
    flow_id: str = Field(max_length=48, index=True)
    question_id: str = Field(max_length=48)
    band: str | None = Field(default=None, max_length=20)
    scrubbed_text: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default="pending", max_length=20, index=True)  # pending | approved | rejected
    answered_at: datetime
    created_at: datetime
    decided_by: str | None = Field(default=None, max_length=80)
    decided_at: datetime | None = None


class ReportAction(SQLModel, table=True):
    """One "you said, we did" line entered by staff for the Panel update."""

    __tablename__ = "report_action"
    id: int | None = Field(default=None, primary_key=True)
    said: str = Field(sa_column=Column(Text, nullable=False))
    did: str = Field(sa_column=Column(Text, nullable=False))
    flow_id: str | None = Field(default=None, max_length=48)
    # Who the line is for: comma-separated age-band keys; None means every age group (migration 0020).
    bands: str | None = Field(default=None, max_length=64)
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime


# --- young people (issue 6): challenge cards, good news, review statements ---


class ChallengeCard(SQLModel, table=True):
    """A challenge a young person puts to their corporate parents. Reports show the council, not the raiser."""

    __tablename__ = "challenge_card"
    __table_args__ = (Index("ix_challenge_card_council_state", "council", "state"),)
    id: int | None = Field(default=None, primary_key=True)
    raised_by: int | None = Field(default=None, foreign_key="participant.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    council: str = Field(max_length=40)
    state: str = Field(default="submitted", max_length=30)
    challenge: str = Field(sa_column=Column(Text, nullable=False))
    why: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    who_for: str = Field(default="", max_length=200)  # comma-separated choice ids
    personal: bool = False  # the raiser said it is about their own situation: staff triage may route it
    quarantined: bool = False  # safeguarding flagged some of its text: never shown to other young people
    owner_role: str | None = Field(default=None, max_length=120)
    answer: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    staff_notified_at: datetime | None = None  # when the staff channel was told it waits for triage


class CardEvent(SQLModel, table=True):
    """One state change of a card: who on the staff side moved it, the owner and the note."""

    __tablename__ = "card_event"
    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="challenge_card.id", index=True)
    from_state: str | None = Field(default=None, max_length=30)
    to_state: str = Field(max_length=30)
    owner_role: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    staff: str = Field(default="", max_length=80)
    at: datetime = Field(index=True)


class CardSupporter(SQLModel, table=True):
    """A 'me too' from another young person in the same council: one per person per card."""

    __tablename__ = "card_supporter"
    __table_args__ = (UniqueConstraint("card_id", "participant_id", name="uq_card_supporter"),)
    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="challenge_card.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    created_at: datetime


class CardNotice(SQLModel, table=True):
    """Which outbox notice told which raiser/supporter about which card event (exactly one each)."""

    __tablename__ = "card_notice"
    __table_args__ = (UniqueConstraint("event_id", "participant_id", name="uq_card_notice"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="card_event.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")


class CardListing(SQLModel, table=True):
    """The numbered list of cards last shown to a participant, so 'support card 2' means what they saw."""

    __tablename__ = "card_listing"
    participant_id: int = Field(foreign_key="participant.id", primary_key=True)
    card_ids: str = Field(default="", max_length=200)
    created_at: datetime


class PanelDigest(SQLModel, table=True):
    """A 'you said, we did' summary already sent for one Panel date and council."""

    __tablename__ = "panel_digest"
    panel_date: date = Field(primary_key=True)
    council: str = Field(primary_key=True, max_length=40)
    recipients: int = 0
    sent_at: datetime


class GoodNews(SQLModel, table=True):
    """Good news a young person shared; only approved items with consent reach updates, never with names."""

    __tablename__ = "good_news"
    __table_args__ = (Index("ix_good_news_status_created", "status", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    text: str = Field(sa_column=Column(Text, nullable=False))
    category: str = Field(default="something_else", max_length=40)
    consent: bool = False
    status: str = Field(default="pending", max_length=20)  # pending | approved | rejected | private
    band: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=40)
    council: str | None = Field(default=None, max_length=40)
    created_at: datetime
    decided_at: datetime | None = None
    decided_by: str | None = Field(default=None, max_length=80)


class ReviewStatement(SQLModel, table=True):
    """A young person's 'get ready for my review' statement: encrypted, sent only on their explicit choice."""

    __tablename__ = "review_statement"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    submission_id: int | None = Field(default=None, foreign_key="submission.id", unique=True)
    statement_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    status: str = Field(default="draft", max_length=20)  # draft | sending | sent | failed | kept | discarded
    sent_to_role: str | None = Field(default=None, max_length=30)
    sent_to_address: str | None = Field(default=None, max_length=200)
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None = None
    outbox_id: int | None = None  # the email outbox row carrying it; its delivery becomes this row's status


# --- carers (issue 7) ---


class SurveyWave(SQLModel, table=True):
    """One run of a questionnaire for carers (all, or some districts) between two dates."""

    __tablename__ = "survey_wave"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    questionnaire_id: str = Field(max_length=48, index=True)  # a content flow id
    districts: str | None = Field(default=None, max_length=400)  # comma-separated; None = every district
    opens_on: date
    closes_on: date  # last day answers count, inclusive
    opens_at: datetime  # opens_on 00:00 local time, in UTC
    closes_at: datetime  # 00:00 local time the day after closes_on, in UTC
    status: str = Field(default="open", max_length=20)  # open | closed
    created_by: str = Field(max_length=80)
    created_at: datetime
    closed_at: datetime | None = None


class WaveMember(SQLModel, table=True):
    """A carer invited to a wave; district is a snapshot taken when the wave opened."""

    __tablename__ = "wave_member"
    __table_args__ = (UniqueConstraint("wave_id", "participant_id", name="uq_wave_member"),)
    id: int | None = Field(default=None, primary_key=True)
    wave_id: int = Field(foreign_key="survey_wave.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    district: str | None = Field(default=None, max_length=40)
    opted_out_at: datetime | None = None  # asked for no more reminders about this wave
    added_at: datetime


class WaveNotice(SQLModel, table=True):
    """One invitation (number 0) or reminder (1, 2 ...) to one member. The unique key makes sending
    idempotent: a second process, or a repeated job run, cannot insert the same notice again."""

    __tablename__ = "wave_notice"
    __table_args__ = (UniqueConstraint("member_id", "number", name="uq_wave_notice"),)
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="wave_member.id", index=True)
    number: int
    kind: str = Field(max_length=20)  # invite | start | resume | restart
    outbox_id: int | None = Field(default=None, foreign_key="outbox_message.id")
    sent_at: datetime


# --- identity (issue 5): invite codes, link codes, code-attempt counters ---


class Invite(SQLModel, table=True):
    """A one-time invite code, kept only as a keyed hash; whoever redeems it gets this role, band and area."""

    __tablename__ = "invite"
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    batch: str = Field(max_length=16, index=True)  # printed to staff so a whole batch can be revoked
    audience: str = Field(max_length=20)  # young_person | carer
    band: str = Field(max_length=20)  # junior | teen | young_adult | carer
    district: str | None = Field(default=None, max_length=40)
    council: str | None = Field(default=None, max_length=40)
    created_by: str = Field(default="", max_length=80)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None
    # `invite create --case-ref`: the council case-system reference, encrypted, copied to the participant.
    council_ref_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    language: str | None = Field(default=None, max_length=16)  # issue 24: `invite create --language ar`
    # `invite create --iro-email/--social-worker-email` (issue 25): encrypted, copied to the participant.
    iro_to_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    social_worker_to_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))


class LinkCode(SQLModel, table=True):
    """A short-lived one-time code (keyed hash only) that attaches another channel to a participant."""

    __tablename__ = "link_code"
    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(unique=True, max_length=64)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class DataCopyLink(SQLModel, table=True):
    """A one-time, 15-minute link to download a participant's copy of their data (keyed hash of the token only)."""

    __tablename__ = "data_copy_link"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, max_length=64)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


class AttemptCounter(SQLModel, table=True):
    """Failed code tries in a fixed window, per sender (a keyed hash) or per channel.

    The only thing stored about someone who has not joined; purged once the window has passed.
    """

    __tablename__ = "attempt_counter"
    key: str = Field(primary_key=True, max_length=72)
    window_start: datetime
    failures: int = 0


# --- a person reads every free-text message (issue 18) ---


class ToRead(SQLModel, table=True):
    """One free-text answer (or challenge card text) waiting for a member of staff to read it.

    Holds no words: they stay in the answer row (encrypted when flagged). Ordered risk-first by `score`.
    """

    __tablename__ = "to_read"
    __table_args__ = (Index("ix_to_read_queue", "read_at", "score", "created_at"),)
    id: int | None = Field(default=None, primary_key=True)
    # A young person who throws a draft away deletes its answers: the entry goes with them.
    answer_id: int = Field(foreign_key="answer.id", unique=True, ondelete="CASCADE")
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    flow_id: str = Field(max_length=48)
    question_id: str = Field(max_length=48)
    district: str | None = Field(default=None, max_length=40)
    score: float = 0.0
    flagged: bool = False
    created_at: datetime
    read_at: datetime | None = None
    read_by: str | None = Field(default=None, max_length=80)
    alert_ref: str | None = Field(default=None, max_length=24)
    escalated_at: datetime | None = None


# --- the Corporate Parenting Panel paper (issue 20) ---


class PanelPaper(SQLModel, table=True):
    """What the participation manager writes for one Panel's paper: the cover's summary and recommendation,
    and the number of children in care and care leavers that the reach is measured against.

    Staff wording and published council figures only; nothing about any one young person.
    """

    __tablename__ = "panel_paper"
    id: int | None = Field(default=None, primary_key=True)
    panel_date: date = Field(unique=True)
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    recommendation: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    children_in_care: int | None = None
    care_leavers: int | None = None
    updated_by: str = Field(max_length=80)
    updated_at: datetime


class CardResolution(SQLModel, table=True):
    """The Panel's resolution on a challenge card, recorded by staff after the meeting."""

    __tablename__ = "card_resolution"
    __table_args__ = (UniqueConstraint("card_id", "panel_date"),)
    id: int | None = Field(default=None, primary_key=True)
    card_id: int = Field(foreign_key="challenge_card.id", index=True)
    panel_date: date
    resolution: str = Field(sa_column=Column(Text, nullable=False))
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime


class ContactRequest(SQLModel, table=True):
    """Someone said yes to "may someone get in touch?" (issue 25): a request in the right team's queue.

    Holds no words and no name: the answer row is the consent, the team replies through the bot (outbox), and
    the row records only who acknowledged, replied and closed it, when, and the outcome.
    """

    __tablename__ = "contact_request"
    id: int | None = Field(default=None, primary_key=True)
    # The consenting answer: one request per answer (the job that finds them may run in several processes).
    answer_id: int = Field(foreign_key="answer.id", unique=True, ondelete="CASCADE")
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    team: str = Field(max_length=40)  # the role whose queue it is in: fostering_team | participation_worker
    audience: str = Field(max_length=20)
    district: str | None = Field(default=None, max_length=40)
    flow_id: str = Field(max_length=48)
    question_id: str = Field(max_length=48)
    created_at: datetime = Field(index=True)
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = Field(default=None, max_length=80)
    replies: int = 0
    last_reply_at: datetime | None = None
    closed_at: datetime | None = None
    closed_by: str | None = Field(default=None, max_length=80)
    outcome: str | None = Field(default=None, max_length=40)


class ContactPoint(SQLModel, table=True):
    """An email address or mobile number someone gave for short notices (issue 25), stored only encrypted.

    Removable at any time (My stuff); `kind` is email | sms. Never holds anything but the address.
    """

    __tablename__ = "contact_point"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)
    address_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    # Notify said it can never deliver here (permanent-failure): not used again, and the person is told once.
    not_working_at: datetime | None = None
    told_at: datetime | None = None
    # Given for one request to be contacted only: never used for other notices; removed when the request closes.
    request_id: int | None = Field(default=None, index=True)


class NotifyMessage(SQLModel, table=True):
    """One short notice sent (or to be sent) through GOV.UK Notify: template id, our reference, its status.

    Holds no message text: the template's words live in Notify, the link is rebuilt when sending.
    """

    __tablename__ = "notify_message"
    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(unique=True, max_length=40)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    contact_point_id: int | None = Field(default=None, foreign_key="contact_point.id", ondelete="SET NULL")
    kind: str = Field(max_length=10)  # email | sms
    template_id: str = Field(max_length=40)
    notice: str = Field(max_length=30)  # what it is about: survey_waiting, new_message ...
    status: str = Field(default="pending", max_length=20)  # pending | sending | delivered | failed | refused
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    notify_id: str | None = Field(default=None, max_length=40)
    error: str | None = Field(default=None, max_length=200)
    # Notify's delivery receipt (callback or status poll): delivered | permanent-failure | temporary-failure |
    # technical-failure.
    receipt: str | None = Field(default=None, max_length=30)
    receipt_at: datetime | None = None


class ThemeSummary(SQLModel, table=True):
    """A short theme summary staff wrote for one question of a topic over one fixed period (issue 19, 6).

    Shown in the report above that question's quotes. Staff wording about many answers, never one person's.
    """

    __tablename__ = "theme_summary"
    __table_args__ = (UniqueConstraint("topic_id", "question_id", "since", "until"),)
    id: int | None = Field(default=None, primary_key=True)
    topic_id: str = Field(max_length=80)
    question_id: str = Field(max_length=80)
    since: date
    until: date
    summary: str = Field(sa_column=Column(Text, nullable=False))
    written_by: str = Field(max_length=80)
    written_at: datetime


class ParticipationEvent(SQLModel, table=True):
    """A council meeting or participation event staff record (issue 20): kind, date, council or audience,
    area, place and topics. Attendance is counted per person (pseudonymous) plus a count of unnamed people
    from a paper register; young people check in with `short_code` (typed, or in the QR link)."""

    __tablename__ = "participation_event"
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # council_meeting | activity_day | holiday_event | residential | consultation
    title: str = Field(max_length=120)
    held_on: date = Field(index=True)
    start_time: str | None = Field(default=None, max_length=5)  # "HH:MM", local time, for the invitation
    council: str | None = Field(default=None, max_length=40)  # a council id from the council file, or none
    bands: str = Field(default="", max_length=80)  # the audience: comma-separated age bands ("" = the council's)
    district: str | None = Field(default=None, max_length=40)  # the area; None = county-wide
    place: str = Field(default="", max_length=120)
    topics: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))  # one topic a line
    status: str = Field(default="planned", max_length=20)  # planned | closed | cancelled
    short_code: str = Field(unique=True, max_length=12)
    unnamed_attendees: int = 0  # from a paper register: people who came but are not on the bot
    created_by: str = Field(max_length=80)
    created_at: datetime
    closed_at: datetime | None = None


class EventInvitation(SQLModel, table=True):
    """One young person invited to one event, and their reply (going / not going); the job sends it."""

    __tablename__ = "event_invitation"
    __table_args__ = (UniqueConstraint("event_id", "participant_id", name="uq_event_invitation"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="participation_event.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    created_at: datetime
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    rsvp: str | None = Field(default=None, max_length=12)  # going | not_going
    rsvp_at: datetime | None = None


class EventAttendance(SQLModel, table=True):
    """One person at one event (counted once however many times they check in). source: qr | code | register."""

    __tablename__ = "event_attendance"
    __table_args__ = (UniqueConstraint("event_id", "participant_id", name="uq_event_attendance"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="participation_event.id", index=True)
    participant_id: int = Field(foreign_key="participant.id", index=True)
    source: str = Field(max_length=12)
    band: str | None = Field(default=None, max_length=20)
    district: str | None = Field(default=None, max_length=40)
    recorded_at: datetime
    evaluation_sent_at: datetime | None = None


class EventEvaluation(SQLModel, table=True):
    """The two-question evaluation from one attendee: "How was it?" (1-5) and "What should we do next time?"
    (free text, encrypted; flagged words are quarantined and never shown)."""

    __tablename__ = "event_evaluation"
    __table_args__ = (UniqueConstraint("event_id", "participant_id", name="uq_event_evaluation"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="participation_event.id", index=True)
    participant_id: int | None = Field(default=None, foreign_key="participant.id", index=True)
    rating: int | None = None  # 1 (not good) .. 5 (brilliant); None = skipped
    next_time_enc: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    quarantined: bool = False
    band: str | None = Field(default=None, max_length=20)
    answered_at: datetime


class PushSubscription(SQLModel, table=True):
    """A browser's Web Push subscription for the web chat (issue 25): endpoint and keys, stored only encrypted.

    `endpoint_hash` (a keyed hash) finds it again to unsubscribe. Removed when the person turns pings off, or
    when the push service says it has gone (404/410).
    """

    __tablename__ = "push_subscription"
    id: int | None = Field(default=None, primary_key=True)
    participant_id: int = Field(foreign_key="participant.id", index=True, ondelete="CASCADE")
    endpoint_hash: str = Field(unique=True, max_length=64)
    data_enc: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime
    last_sent_at: datetime | None = None


class PushMessage(SQLModel, table=True):
    """One neutral ping to one subscription for a web chat notice waiting to be read (`outbox_id`).

    Holds no text: every ping says the same thing. status: pending | sent | failed | cancelled.
    """

    __tablename__ = "push_message"
    __table_args__ = (
        UniqueConstraint("subscription_id", "outbox_id"),
        Index("ix_push_message_due", "status", "not_before"),
    )
    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="push_subscription.id", ondelete="CASCADE")
    participant_id: int = Field(foreign_key="participant.id", ondelete="CASCADE")
    outbox_id: int = Field(index=True)
    status: str = Field(default="pending", max_length=20)
    attempts: int = 0
    not_before: datetime
    created_at: datetime
    sent_at: datetime | None = None
    error: str | None = Field(default=None, max_length=200)
