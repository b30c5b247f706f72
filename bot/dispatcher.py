"""The one pipeline for every inbound event, whatever the channel.

Order: risk check on free text first (safe reply and human alert even if the database is down),
then dedupe, identity, engine step, and one transaction for state, answers, outbox rows and alert.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.alerts import AlertNotice, AlertNotifier, AlertSpool, new_alert_ref
from bot.crypto import Keyring
from bot.engine import ConversationState, Effect, StepContext, step
from bot.messages import Inbound, Outbound
from bot.safeguarding import Assessment, Lexicon, assess
from bot.settings import BotSettings, HelpNumbers
from content.loader import Library
from content.schema import text_for
from storage import alerts as alert_store
from storage import conversations, inbound, outbox, participants, submissions
from storage.db import DatabaseUnavailable, Engine, IntegrityError, Session, session
from storage.models import Participant

log = logging.getLogger("ourvoice.dispatcher")

EffectHandler = Callable[[Session, Participant, Effect, datetime], list[Outbound]]
ContextProvider = Callable[[Session, Participant, datetime], StepContext]
# Decides who is talking: returns a participant, or replies for someone not (yet) allowed in.
Onboarding = Callable[[Session, Inbound, str, datetime], "Participant | list[Outbound]"]


@dataclass
class DispatchResult:
    replies: list[Outbound]
    duplicate: bool = False
    stored: bool = True
    flagged: bool = False
    participant_id: int | None = None
    outbox_ids: list[int] = field(default_factory=list)


def open_onboarding(keyring: Keyring) -> Onboarding:
    """Anyone who messages becomes a participant (demo mode; the identity layer replaces this)."""

    def resolve(s: Session, msg: Inbound, key_hash: str, now: datetime) -> Participant:
        address = keyring.encrypt(msg.address) if msg.address else None
        p, _ = participants.create(s, key_hash=key_hash, channel=msg.channel, address_enc=address, now=now)
        return p

    return resolve


class Dispatcher:
    """Runs inbound events through safeguarding, the engine and storage."""

    MAX_RETRIES = 20

    def __init__(
        self,
        *,
        engine: Engine,
        library: Library,
        keyring: Keyring,
        lexicon: Lexicon,
        settings: BotSettings,
        help_numbers: HelpNumbers | None = None,
        notifier: AlertNotifier | None = None,
        onboarding: Onboarding | None = None,
        effects: dict[str, EffectHandler] | None = None,
        context: ContextProvider | None = None,
        immediate_channels: frozenset[str] = frozenset({"web"}),
    ) -> None:
        self.engine = engine
        self.library = library
        self.keyring = keyring
        self.lexicon = lexicon
        self.settings = settings
        self.help = help_numbers or HelpNumbers()
        self.notifier = notifier or AlertNotifier([])
        self.spool = AlertSpool(settings.alert_spool_dir)
        self.onboarding = onboarding or open_onboarding(keyring)
        self.effects = effects or {}
        self.context = context or (lambda _s, _p, _n: StepContext())
        # Channels whose replies go back in the HTTP response (web chat) rather than via the outbox sender.
        self.immediate_channels = immediate_channels

    # -- safeguarding --------------------------------------------------------------------------
    def check(self, msg: Inbound) -> Assessment:
        """The risk check, run on every piece of free text before anything else."""
        text = " ".join(t for t in (msg.text, msg.args) if t)
        if not text:
            return Assessment(flagged=False, categories=())
        return assess(text, self.lexicon)

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.settings.timezone))

    def in_office_hours(self, now: datetime) -> bool:
        local = self._local(now)
        start_s, end_s = self.settings.office_hours.split("-")
        start = time.fromisoformat(start_s)
        end = time.fromisoformat(end_s)
        return local.weekday() < 5 and start <= local.time() < end

    def safe_reply(self, band: str, now: datetime) -> Outbound:
        s = self.settings
        office = self.in_office_hours(now)
        minutes = s.alert_ack_minutes_office if office else s.alert_ack_minutes_out_of_hours
        when_key = "safe_when_office" if office else "safe_when_out_of_hours"
        when = text_for(self.library.string(when_key), band).format(minutes=minutes)
        text = text_for(self.library.string("safe_reply"), band).format(
            when=when,
            emergency=self.help.emergency,
            childline=self.help.childline,
            samaritans=self.help.samaritans,
            shout_text=self.help.shout_text,
            duty_team=s.duty_team_name,
            duty_number=s.duty_number,
            out_of_hours=s.out_of_hours_number,
        )
        return Outbound(text=text, meta={"kind": "safe_reply"})

    def _raise_alert(self, msg: Inbound, assessment: Assessment, now: datetime) -> dict:
        ref = new_alert_ref(now)
        self.notifier.notify(
            AlertNotice(
                alert_ref=ref,
                categories=assessment.categories,
                at=self._local(now).isoformat(timespec="minutes"),
                admin_url=f"{self.settings.public_url}/admin/alerts/{ref}",
            )
        )
        log.warning("safeguarding.flagged ref=%s channel=%s", ref, msg.channel)
        text = " ".join(t for t in (msg.text, msg.args) if t)
        return {
            "alert_ref": ref,
            "channel": msg.channel,
            "categories": list(assessment.categories),
            "text_enc": self.keyring.encrypt(text).decode(),
            "sender_hash": self.keyring.identity_hash(msg.channel, msg.sender),
            "at": now.isoformat(),
        }

    def drain_spool(self, *, now: datetime) -> int:
        """Write alert records spooled while the database was down; returns how many."""
        records = self.spool.take_all()
        if not records:
            return 0
        try:
            with session(self.engine) as s:
                for rec in records:
                    self._store_alert(s, rec, None, now)
        except DatabaseUnavailable:
            for rec in records:
                self.spool.put(rec)
            return 0
        return len(records)

    def _store_alert(self, s: Session, rec: dict, participant: Participant | None, now: datetime) -> None:
        if participant is None:
            found = participants.find_by_key(s, rec["sender_hash"])
            participant = found[0] if found else None
        alert_store.create(
            s,
            alert_ref=rec["alert_ref"],
            participant_id=participant.id if participant else None,
            case_ref=participant.case_ref if participant else None,
            channel=rec["channel"],
            categories=rec["categories"],
            text_enc=rec["text_enc"].encode(),
            now=datetime.fromisoformat(rec["at"]),
            notified=True,
        )

    # -- the pipeline --------------------------------------------------------------------------
    def handle(self, msg: Inbound, *, now: datetime) -> DispatchResult:
        """Process one inbound event and return the replies to show now."""
        assessment = self.check(msg)
        alert_rec = self._raise_alert(msg, assessment, now) if assessment.flagged else None
        if alert_rec is not None or self.spool.path.exists():
            self.drain_spool(now=now)
        for attempt in range(self.MAX_RETRIES):
            try:
                return self._transaction(msg, assessment, alert_rec, now)
            except conversations.StaleState:
                log.info("dispatch.retry_stale attempt=%d", attempt)
                continue
            except IntegrityError:
                # A concurrent delivery of the same message won the insert: answer as a duplicate.
                log.info("dispatch.retry_integrity attempt=%d", attempt)
                continue
            except DatabaseUnavailable:
                log.error("dispatch.database_unavailable channel=%s", msg.channel)
                return self._unavailable(msg, alert_rec, now)
        raise RuntimeError("conversation kept changing under us; giving up after retries")

    def _unavailable(self, msg: Inbound, alert_rec: dict | None, now: datetime) -> DispatchResult:
        replies: list[Outbound] = []
        if alert_rec is not None:
            self.spool.put(alert_rec)
            replies.append(self.safe_reply("default", now))
        replies.append(Outbound(text=text_for(self.library.string("db_unavailable"), "default")))
        return DispatchResult(replies=replies, stored=False, flagged=alert_rec is not None)

    def _transaction(self, msg: Inbound, assessment: Assessment, alert_rec: dict | None, now: datetime) -> DispatchResult:
        with session(self.engine) as s:
            earlier = inbound.find(s, msg.channel, msg.message_id)
            if earlier is not None:
                rows = outbox.for_inbound(s, earlier.id)  # type: ignore[arg-type]
                return DispatchResult(
                    replies=[Outbound.from_json(json.loads(r.payload_json)) for r in rows],
                    duplicate=True,
                    participant_id=earlier.participant_id,
                )
            key_hash = self.keyring.identity_hash(msg.channel, msg.sender)
            found = participants.find_by_key(s, key_hash)
            if found is None:
                who = self.onboarding(s, msg, key_hash, now)
                if isinstance(who, list):
                    replies = ([self.safe_reply("default", now)] if alert_rec else []) + who
                    if alert_rec:
                        self._store_alert(s, alert_rec, None, now)
                    return DispatchResult(replies=replies, stored=False, flagged=alert_rec is not None)
                participant = who
                address_enc = self.keyring.encrypt(msg.address) if msg.address else None
            else:
                participant, ident = found
                address_enc = ident.address_enc
            result, replies = self._step(s, participant, msg, assessment, now)
            if msg.channel in self.immediate_channels:
                # Pull-only channels get notices (card updates, follow-ups) the next time the person writes.
                notices = outbox.take_notices(s, participant.id, msg.channel, now=now)  # type: ignore[arg-type]
                at = 1 if assessment.flagged else 0  # the safe reply always stays first
                replies[at:at] = [Outbound.from_json(json.loads(n.payload_json)) for n in notices]
            ev = inbound.record(
                s,
                msg.channel,
                msg.message_id,
                participant_id=participant.id,
                outcome="flagged" if assessment.flagged else ("unsupported" if msg.kind == "unsupported" else "ok"),
                now=now,
            )
            if alert_rec is not None:
                self._store_alert(s, alert_rec, participant, now)
            immediate = msg.channel in self.immediate_channels
            rows = [
                outbox.add(
                    s,
                    channel=msg.channel,
                    payload_json=json.dumps(r.to_json(), ensure_ascii=False),
                    now=now,
                    participant_id=participant.id,
                    inbound_id=ev.id,
                    address_enc=None if immediate else address_enc,
                    kind=r.meta.get("kind", "reply"),
                    status="sent" if immediate else "pending",
                )
                for r in replies
            ]
            s.flush()
            return DispatchResult(
                replies=replies,
                flagged=assessment.flagged,
                participant_id=participant.id,
                outbox_ids=[r.id for r in rows if r.id is not None],
            )

    def _step(
        self, s: Session, participant: Participant, msg: Inbound, assessment: Assessment, now: datetime
    ) -> tuple[object, list[Outbound]]:
        raw, version = conversations.load(s, participant.id)  # type: ignore[arg-type]
        state = ConversationState.from_json(raw)
        if not state.profile and participant.band:
            state.profile = {
                k: v
                for k, v in {
                    "band": participant.band,
                    "audience": participant.audience,
                    "district": participant.district or "",
                    "council": participant.council or "",
                }.items()
                if v
            }
        ctx = self.context(s, participant, now)
        result = step(self.library, state, msg, now=now, context=ctx)
        if result.profile_changed:
            participants.update_profile(s, participant, result.state.profile)
            s.flush()
        for flow_id, run in result.started:
            submissions.get_or_start(s, participant, flow_id, run, now=now)
        for ans in result.answers:
            sub = submissions.get_or_start(s, participant, ans.flow_id, ans.run, now=now)
            submissions.put_answer(
                s,
                sub,
                ans.question_id,
                ans.value,
                skipped=ans.skipped,
                free_text=ans.free_text,
                quarantined=assessment.flagged and ans.free_text,
                now=now,
            )
        for flow_id, run in result.completed:
            sub = submissions.get_or_start(s, participant, flow_id, run, now=now)
            submissions.complete(s, sub, now=now)
        replies = list(result.replies)
        # Effect replies (e.g. "your card is in") go where the action sat in the flow; insert from
        # the last so earlier positions stay valid.
        for eff in reversed(result.effects):
            handler = self.effects.get(eff.action)
            if handler is None:
                log.error("dispatch.unknown_effect action=%s", eff.action)
                continue
            replies[eff.at_reply:eff.at_reply] = handler(s, participant, eff, now)
        conversations.save(s, participant.id, result.state.to_json(), version=version, now=now)  # type: ignore[arg-type]
        if assessment.flagged:
            replies.insert(0, self.safe_reply(result.state.band, now))
        return result, replies
