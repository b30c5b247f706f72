"""The one pipeline for every inbound event, whatever the channel.

Order: risk check on free text first (safe reply and human alert even if the database is down),
then dedupe, identity, engine step, and one transaction for state, answers, outbox rows and alert.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot import tenant
from bot.alerts import AlertNotice, AlertNotifier, AlertSpool, new_alert_ref
from bot.crypto import Keyring
from bot.engine import ConversationState, Effect, StepContext, step
from bot.language_check import alert_categories, default_language_lexicons
from bot.language_check import assess_message as assess
from bot.messages import Choice, Inbound, Outbound
from bot.safeguarding import Assessment, Lexicon, reading_score
from bot.settings import BotSettings, HelpNumbers
from bot.working_days import is_working_day
from content.loader import Library, current_council
from content.localise import is_draft, libraries
from content.schema import text_for
from content.translations import is_rtl, load_translations, translated
from storage import alerts as alert_store
from storage import conversations, inbound, integrity, outbox, participants, reading, submissions, tenancy
from storage.db import DatabaseUnavailable, Engine, IntegrityError, Session, session
from storage.models import Participant

log = logging.getLogger("ourvoice.dispatcher")
# The "I need help now" button (every young person's menu, and /help): no typing, an immediate safe reply and
# an alert. Not an engine token: the dispatcher answers it before the engine sees it.
HELP_NOW = "!help"
HELP_NOW_CATEGORIES = ("not_safe", "help_request")
HELP_NOW_NOTE = "(No words: the young person pressed \"I need help now\".)"
# Reply payloads for the outbox: json.dumps with options builds a new encoder per call; this one is built once.
_PAYLOAD_JSON = json.JSONEncoder(ensure_ascii=False).encode

EffectHandler = Callable[[Session, Participant, Effect, datetime], list[Outbound]]
ContextProvider = Callable[[Session, Participant, datetime], StepContext]
# Decides who is talking: returns a participant, or replies for someone not (yet) allowed in.
Onboarding = Callable[[Session, Inbound, str, datetime], "Participant | Detour | list[Outbound]"]
# Which council an inbound is for (issue 26): the sender's, or the invite's they are redeeming; None when the
# service has one council (SQLite). bot/identity.chat_councils makes the real one.
CouncilOf = Callable[[Inbound], "str | None"]


@dataclass(frozen=True)
class Contacts:
    """The numbers in a safe reply: helplines and the council's duty contacts."""

    emergency: str
    childline: str
    samaritans: str
    shout_text: str
    duty_team: str
    duty_team_names: dict[str, str]
    duty_number: str
    out_of_hours: str


@dataclass
class Detour:
    """What an onboarding or command hook wants instead of stepping the inbound as it came.

    `replies` are shown first. Then `start_flow` starts (e.g. the privacy notice after joining), or,
    when it is None, the person carries on where they were, as after /start. `participant` is who
    is talking from now on (onboarding: the person just admitted or linked).
    """

    participant: Participant | None = None
    replies: list[Outbound] = field(default_factory=list)
    start_flow: str | None = None


# Commands handled before the engine for known participants (/privacy, /link ...): a Detour, or None
# to let the engine handle the command as usual.
CommandHook = Callable[[Session, Participant, Inbound, datetime], "Detour | None"]


@dataclass
class DispatchResult:
    replies: list[Outbound]
    duplicate: bool = False
    stored: bool = True
    flagged: bool = False
    participant_id: int | None = None
    outbox_ids: list[int] = field(default_factory=list)
    unavailable: bool = False  # the database could not be reached: the channel must redeliver later
    # The safe reply was handed back before the database answered; the step goes on in the background and
    # writes its record once (its other replies reach the person through the outbox, or as web notices).
    deferred: bool = False


class _Handoff:
    """Who answers a flagged message: the transaction (claims in time) or the safe reply sent first."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._claimed = False
        self._deferred = False

    def claim(self) -> bool:
        """The transaction's turn: True if its replies are still the answer (nothing was sent ahead)."""
        with self._lock:
            self._claimed = not self._deferred
            return self._claimed

    def defer(self) -> bool:
        """The waiter's turn: True if the safe reply goes ahead alone (the transaction had not claimed)."""
        with self._lock:
            self._deferred = not self._claimed
            return self._deferred


MENU_COMMANDS = frozenset({"start", "menu", "help", "back", "skip", "stop"})
"""The bot's own commands (Telegram's command list): sent alone they are a tap on the menu, not words."""


def words_of(msg: Inbound) -> str:
    """Everything the person wrote in this event, for the risk check: text, a command's name and
    arguments (someone may type "/kill myself"), and words we will not keep (captions, edits). A bare menu
    command ("/help", "/stop") is not words: the risk check would read "/help" as "help", which three of the
    ten blind sets' authors wrote as a cry for help, so typed "help" flags while the menu's /help does not."""
    command = "" if msg.command in MENU_COMMANDS and not msg.args else msg.command
    return " ".join(t for t in (msg.text, command, msg.args, msg.said) if t)


def open_onboarding(keyring: Keyring) -> Onboarding:
    """Anyone who messages becomes a participant (demo mode; the identity layer replaces this)."""

    def resolve(s: Session, msg: Inbound, key_hash: str, now: datetime) -> Participant:
        address = keyring.encrypt(msg.address) if msg.address else None
        p, _ = participants.create(s, key_hash=key_hash, channel=msg.channel, address_enc=address, now=now)
        return p

    return resolve


def _isolated(value: object, isolate: bool) -> str:
    """`value` wrapped in first-strong isolates when it sits in right-to-left text (or is a line of one language
    among others), so an English name inside Arabic reads the right way round."""
    return f"\u2068{value}\u2069" if isolate else str(value)


def _number(value: object, isolate: bool) -> str:
    """A phone number inside right-to-left text: a left-to-right isolate (LRI ... PDI) with no-break spaces.

    Digits and spaces have no strong direction of their own. Left to wrap, "03000 41 11 11" in an Arabic
    bubble broke after "41" and its last groups came first on the next line's right-hand end, so a child could
    read the groups in the wrong order and dial the wrong number. Kept on one line and left to right, it reads
    as one number."""
    if not isolate:
        return str(value)
    kept = str(value).replace(" ", "\u00a0")
    return f"\u2066{kept}\u2069"


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
        commands: dict[str, CommandHook] | None = None,
        council_of: CouncilOf | None = None,
    ) -> None:
        self.engine = engine
        self.council_of = council_of
        self.library = library
        # One library per language on offer (issue 24): the engine is given the one for the person's language.
        self.libraries = libraries(library, drafts=settings.show_draft_languages)
        self._drafts = frozenset(code for code in self.libraries if is_draft(library, code))
        self.keyring = keyring
        self.lexicon = lexicon
        # Lexicons for other languages (issue 24): a message the check cannot read goes to a person as unassessed.
        self.languages = default_language_lexicons()
        self.settings = settings
        self.help = help_numbers or HelpNumbers()
        self.notifier = notifier or AlertNotifier([])
        self.spool = AlertSpool(settings.alert_spool_dir)
        self.onboarding = onboarding or open_onboarding(keyring)
        self.effects = effects or {}
        self.context = context or (lambda _s, _p, _n: StepContext())
        # Channels whose replies go back in the HTTP response (web chat) rather than via the outbox sender.
        self.immediate_channels = immediate_channels
        self.commands = commands or {}
        # Channels where the client picks the message id (web chat): the ledger key includes the sender, so
        # one person's id never answers another person's message.
        self.sender_keyed_channels = frozenset({"web"})
        self._bands: OrderedDict[str, str] = OrderedDict()  # sender hash -> age band, for a safe reply first
        self._flagged_lock = threading.Lock()
        self._flagged_running: set[tuple[str, str, str]] = set()

    # -- safeguarding --------------------------------------------------------------------------
    def check(self, msg: Inbound) -> Assessment:
        """The risk check, run on every piece of free text before anything else."""
        text = words_of(msg)
        if not text:
            return Assessment(flagged=False, categories=())
        return assess(text, self.lexicon, self.languages)

    def _local(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.settings.timezone))

    def in_office_hours(self, now: datetime) -> bool:
        local = self._local(now)
        start_s, end_s = self.settings.office_hours.split("-")
        start = time.fromisoformat(start_s)
        end = time.fromisoformat(end_s)
        # A bank holiday is out of hours: the safe reply then gives the out-of-hours number and wait.
        return is_working_day(local.date(), self.settings.bank_holidays) and start <= local.time() < end

    def _say(self, key: str, band: str, locale: str) -> str:
        """A string in `locale` when a current translation exists (draft or reviewed: for the safe reply a
        draft in the person's language helps more than English), else the English."""
        english = self.library.strings.messages
        return translated(english, key, locale, band) or text_for(english[key], band)

    def contacts(self) -> Contacts:
        """The deployment's own council: from settings (OURVOICE_HELP_*, OURVOICE_DUTY_* override its council
        file). Another council on the service (issue 26): from its own council file, which the entry point is
        serving, so a Borsetshire young person is given Borsetshire's duty team."""
        if tenancy.current() == tenancy.default_id():
            s, h = self.settings, self.help
            return Contacts(h.emergency, h.childline, h.samaritans, h.shout_text, s.duty_team_name,
                            dict(s.duty_team_names), s.duty_number, s.out_of_hours_number)
        c = current_council()
        n, d = c.help_numbers, c.duty_contacts
        return Contacts(n["emergency"], n["childline"], n["samaritans"], n["shout_text"], d["duty_team"],
                        dict(c.duty_team_names), d["duty_number"], d["out_of_hours"])

    def safe_reply(self, band: str, now: datetime, locale: str = "en") -> Outbound:
        """The safe reply, in the language the message was written in when we have it; for a language we
        have no safe reply in (or do not know), one short line in every language we have, English first."""
        s = self.settings
        c = self.contacts()
        office = self.in_office_hours(now)
        minutes = s.alert_ack_minutes_office if office else s.alert_ack_minutes_out_of_hours
        when_key = "safe_when_office" if office else "safe_when_out_of_hours"
        english = self.library.strings.messages
        known = locale == "en" or translated(english, "safe_reply", locale, band) is not None
        # Numbers and names inside right-to-left text are isolated so they read the right way round.
        rtl = is_rtl(locale)
        values = {
            "emergency": _number(c.emergency, rtl),
            "childline": _number(c.childline, rtl),
            "samaritans": _number(c.samaritans, rtl),
            "shout_text": _number(c.shout_text, rtl),
            "duty_team": _isolated(c.duty_team_names.get(locale, c.duty_team), rtl),
            "duty_number": _number(c.duty_number, rtl),
            "out_of_hours": _number(c.out_of_hours, rtl),
        }
        if known:
            when = self._say(when_key, band, locale).format(minutes=_number(minutes, rtl))
            text = self._say("safe_reply", band, locale).format(when=when, **values)
            meta = {"kind": "safe_reply"} if locale == "en" else {"kind": "safe_reply", "lang": locale}
            return Outbound(text=text, meta=meta)
        lines = [text_for(english["safe_reply_short"], band).format(emergency=c.emergency)]
        for code in sorted(load_translations()):
            line = translated(english, "safe_reply_short", code, band)
            if line:
                said = line.format(emergency=_number(c.emergency, is_rtl(code)))
                lines.append(_isolated(said, True))
        lines.append(f"Childline {c.childline} · {c.duty_team} {c.duty_number}")
        return Outbound(text="\n\n".join(lines), meta={"kind": "safe_reply", "lang": "mul"})

    @staticmethod
    def _locale_of(alert_rec: dict[str, Any] | None) -> str:
        return str((alert_rec or {}).get("language", "en"))

    def _raise_alert(self, msg: Inbound, assessment: Assessment, now: datetime) -> dict:
        # Same message delivered again -> same reference, so a redelivery never leaves an orphan alert.
        key = self.keyring.identity_hash(msg.channel, f"alert:{msg.sender}:{msg.message_id}")
        ref = new_alert_ref(now, key=key)
        self.notifier.notify(
            AlertNotice(
                alert_ref=ref,
                categories=alert_categories(assessment),
                at=self._local(now).isoformat(timespec="minutes"),
                admin_url=f"{self.settings.public_url}/admin/alerts/{ref}",
            )
        )
        log.warning("safeguarding.flagged ref=%s channel=%s", ref, msg.channel)
        text = words_of(msg)
        return {
            "alert_ref": ref,
            "channel": msg.channel,
            "categories": list(alert_categories(assessment)),
            "language": assessment.language,
            "text_enc": self.keyring.encrypt(text).decode(),
            "sender_hash": self.keyring.identity_hash(msg.channel, msg.sender),
            "at": now.isoformat(),
            "council": tenancy.current(),  # a spooled record is written later, under this council
        }

    def drain_spool(self, *, now: datetime) -> int:
        """Write alert records spooled while the database was down; returns how many."""
        try:
            # Records leave the spool only once the transaction that writes them has committed.
            with self.spool.draining() as records:
                if not records:
                    return 0
                for council in dict.fromkeys(str(r.get("council") or tenancy.default_id()) for r in records):
                    with tenancy.use(council), session(self.engine) as s:
                        for rec in records:
                            if str(rec.get("council") or tenancy.default_id()) == council:
                                self._store_alert(s, rec, None, now)
        except DatabaseUnavailable:
            return 0
        except Exception as exc:
            log.error("alert.spool_drain_failed error=%s", type(exc).__name__)
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
        """Process one inbound event and return the replies to show now, in the sender's council (issue 26):
        its storage scope and its content (districts, help numbers, duty contacts)."""
        council = self._council(msg)
        if council is None:
            return self._handle(msg, now=now)
        with tenant.serving(self.engine, council):  # the database and the content serve the same council
            return self._handle(msg, now=now)

    def _council(self, msg: Inbound) -> str | None:
        if self.council_of is None:
            return None
        try:
            council = self.council_of(msg)
            if council is not None:
                tenant.content_of(self.engine, council)  # read (and kept) now, inside this guard
            return council
        except Exception as exc:  # the database is down or the council unknown: the safe reply must still go
            log.error("dispatch.council_unknown channel=%s error=%s", msg.channel, type(exc).__name__)
            return None

    def _handle(self, msg: Inbound, *, now: datetime) -> DispatchResult:
        if msg.kind == "button" and msg.payload == HELP_NOW:
            return self._help_now(msg, now)
        assessment = self.check(msg)
        if not assessment.flagged:
            return self._handle_checked(msg, assessment, None, now)
        return self._flagged(msg, assessment, self._raise_alert(msg, assessment, now), now)

    def _help_now(self, msg: Inbound, now: datetime) -> DispatchResult:
        """"I need help now": the safe reply at once and an alert (not_safe, marked as a help request), like a
        disclosure; then the person carries on where they were (the engine sees /start)."""
        words = self.check(msg)
        categories = tuple(dict.fromkeys((*HELP_NOW_CATEGORIES, *words.categories)))
        assessment = Assessment(flagged=True, categories=categories, score=1.0, detectors=words.detectors)
        alert_rec = self._raise_alert(msg, assessment, now)
        said = words_of(msg)
        alert_rec["text_enc"] = self.keyring.encrypt(f"{HELP_NOW_NOTE} {said}".strip()).decode()
        log.warning("safeguarding.help_now ref=%s channel=%s", alert_rec["alert_ref"], msg.channel)
        carry_on = replace(msg, kind="command", command="start", args="", payload="", text="")
        return self._flagged(carry_on, assessment, alert_rec, now)

    def _with_help_now(
        self, replies: list[Outbound], band: str, *, help_asked: bool, library: Library | None = None
    ) -> list[Outbound]:
        """A young person's menus carry the "I need help now" button; /help adds a line with it."""
        lib = library or self.library
        button = Choice(HELP_NOW, text_for(lib.string("help_now_label"), band))
        out = [
            replace(r, choices=(*r.choices, button)) if r.layout == "menu" and button not in r.choices else r
            for r in replies
        ]
        if help_asked:
            line = text_for(lib.string("help_now_line"), band)
            out.insert(0, Outbound(text=line, choices=(button,), layout="buttons"))
        return out

    def _flagged(self, msg: Inbound, assessment: Assessment, alert_rec: dict, now: datetime) -> DispatchResult:
        """A flagged message: the safe reply never waits for the database.

        The step runs on its own thread; if it has not answered within `safe_reply_within` seconds (the
        database is locked or slow) the safe reply is handed back alone, the alert record is spooled, and the
        step carries on and writes its record once when the database returns.
        """
        key = (msg.channel, msg.sender, msg.message_id)
        with self._flagged_lock:
            running = key in self._flagged_running
            self._flagged_running.add(key)
        if running:  # a redelivery while the first delivery still waits for the database (already spooled)
            return self._safe_reply_first(msg, alert_rec, now, spool=False)
        handoff = _Handoff()
        box: list[DispatchResult | BaseException] = []

        def work() -> None:
            try:
                box.append(self._handle_checked(msg, assessment, alert_rec, now, handoff))
            except BaseException as exc:
                box.append(exc)
                log.error("dispatch.flagged_step_failed ref=%s error=%s", alert_rec["alert_ref"], type(exc).__name__)
            finally:
                with self._flagged_lock:
                    self._flagged_running.discard(key)
                handoff.done.set()

        # The step's thread serves the same council as this one (a new thread starts with no context).
        ctx = contextvars.copy_context()
        threading.Thread(target=ctx.run, args=(work,), name="dispatch-flagged", daemon=True).start()
        if handoff.done.wait(self.settings.safe_reply_within) or not handoff.defer():
            handoff.done.wait()
            out = box[0]
            if isinstance(out, BaseException):
                raise out
            return out
        return self._safe_reply_first(msg, alert_rec, now)

    def _safe_reply_first(self, msg: Inbound, alert_rec: dict, now: datetime, *, spool: bool = True) -> DispatchResult:
        if spool:  # survives a crash; written once whichever gets there first (the step or a spool drain)
            self.spool.put(alert_rec)
        band = self._bands.get(alert_rec["sender_hash"], "default")
        log.warning("dispatch.safe_reply_first ref=%s channel=%s", alert_rec["alert_ref"], msg.channel)
        return DispatchResult(
            replies=[self.safe_reply(band, now, self._locale_of(alert_rec))], stored=False, flagged=True,
            unavailable=True, deferred=True
        )

    def _remember_band(self, key_hash: str, band: str | None) -> None:
        if band and self._bands.get(key_hash) != band:
            with self._flagged_lock:
                self._bands[key_hash] = band
                while len(self._bands) > 10_000:
                    self._bands.popitem(last=False)

    def ledger_id(self, msg: Inbound) -> str:
        """The dedupe ledger's key for a message: channel-assigned ids as they are; ids the client chose
        (web chat) prefixed with a keyed hash of the sender."""
        if msg.channel not in self.sender_keyed_channels:
            return msg.message_id
        return f"{self.keyring.identity_hash(msg.channel, msg.sender)[:24]}:{msg.message_id}"

    def _handle_checked(
        self,
        msg: Inbound,
        assessment: Assessment,
        alert_rec: dict | None,
        now: datetime,
        handoff: _Handoff | None = None,
    ) -> DispatchResult:
        """`handle` after the risk check (and any alert) already happened."""
        if alert_rec is not None or self.spool.path.exists():
            self.drain_spool(now=now)
        for attempt in range(self.MAX_RETRIES):
            try:
                return self._transaction(msg, assessment, alert_rec, now, handoff)
            except conversations.StaleState:
                log.info("dispatch.retry_stale attempt=%d", attempt)
                continue
            except IntegrityError as exc:
                if integrity.is_ledger_duplicate(exc):
                    # A concurrent delivery of the same message won the insert: the next attempt answers as a
                    # duplicate.
                    log.info("dispatch.retry_integrity attempt=%d", attempt)
                    continue
                # Anything else (a sequence left behind, a broken reference) fails the same way every time:
                # answer "couldn't save, nothing lost" once, as a final answer (not an outage to redeliver:
                # that would retry forever). The constraint's name only; never the values.
                name = integrity.constraint_of(exc)
                log.error("dispatch.integrity_error constraint=%s channel=%s", name, msg.channel)
                return replace(self._unavailable(msg, alert_rec, now), unavailable=False)
            except DatabaseUnavailable:
                log.error("dispatch.database_unavailable channel=%s", msg.channel)
                return self._unavailable(msg, alert_rec, now)
            except Exception as exc:
                if alert_rec is None:
                    raise
                # A disclosure is never left unanswered, even on a bug: spool the record, give the safe
                # reply, log where it failed (code locations only: exception messages may quote input).
                where = "".join(traceback.format_tb(exc.__traceback__)[-3:]).replace("\n", " | ")
                log.error(
                    "dispatch.failed_flagged ref=%s error=%s at=%s", alert_rec["alert_ref"], type(exc).__name__, where
                )
                return self._unavailable(msg, alert_rec, now)
        raise RuntimeError("conversation kept changing under us; giving up after retries")

    def _unavailable(self, msg: Inbound, alert_rec: dict | None, now: datetime) -> DispatchResult:
        replies: list[Outbound] = []
        if alert_rec is not None:
            self.spool.put(alert_rec)
            # The alert has gone out: don't ask the young person to send their disclosure again.
            return DispatchResult(
                replies=[self.safe_reply("default", now, self._locale_of(alert_rec))], stored=False, flagged=True,
                unavailable=True
            )
        replies.append(Outbound(text=text_for(self.library.string("db_unavailable"), "default")))
        return DispatchResult(replies=replies, stored=False, unavailable=True)

    def _transaction(
        self,
        msg: Inbound,
        assessment: Assessment,
        alert_rec: dict | None,
        now: datetime,
        handoff: _Handoff | None = None,
    ) -> DispatchResult:
        with session(self.engine) as s:
            return self._transaction_in(s, msg, assessment, alert_rec, now, handoff)

    def _transaction_in(
        self,
        s: Session,
        msg: Inbound,
        assessment: Assessment,
        alert_rec: dict | None,
        now: datetime,
        handoff: _Handoff | None = None,
    ) -> DispatchResult:
        ledger_id = self.ledger_id(msg)
        earlier = inbound.find(s, msg.channel, ledger_id)
        if earlier is not None:
            if alert_rec is not None:
                self._store_alert(s, alert_rec, None, now)  # same ref as the first time: no-op if stored
            rows = outbox.for_inbound(s, earlier.id)  # type: ignore[arg-type]
            replies = [Outbound.from_json(json.loads(r.payload_json)) for r in rows]
            if alert_rec is not None and earlier.outcome != "flagged":
                # New words under an old id worried the risk check: they get the safe reply all the same. A
                # replay of a flagged message was answered the first time (once is enough).
                band = self._bands.get(alert_rec["sender_hash"], "default")
                replies.insert(0, self.safe_reply(band, now, self._locale_of(alert_rec)))
            return DispatchResult(
                replies=replies,
                duplicate=True,
                flagged=alert_rec is not None,
                participant_id=earlier.participant_id,
            )
        if msg.check_only:
            return self._check_only(s, msg, alert_rec, now)
        key_hash = self.keyring.identity_hash(msg.channel, msg.sender)
        found = participants.find_with_address(s, key_hash)
        detour: Detour | None = None
        if found is None:
            who = self.onboarding(s, msg, key_hash, now)
            if isinstance(who, Detour):
                detour, who = who, who.participant
            if isinstance(who, list):
                replies = ([self.safe_reply("default", now, self._locale_of(alert_rec))] if alert_rec else []) + who
                if alert_rec:
                    self._store_alert(s, alert_rec, None, now)
                    # In the ledger, so a replayed delivery is not answered (and alerted) again.
                    inbound.record(s, msg.channel, ledger_id, participant_id=None, outcome="flagged", now=now)
                return DispatchResult(replies=replies, stored=False, flagged=alert_rec is not None)
            participant = who
            address_enc = self.keyring.encrypt(msg.address) if msg.address else None
        else:
            participant, address_enc = found
            hook = self._hook_for(msg)
            detour = hook(s, participant, msg, now) if hook else None
            if detour is not None and detour.participant is not None:
                participant = detour.participant
        result, replies = self._step(s, participant, msg, assessment, now, detour)  # type: ignore[arg-type]
        if msg.channel in self.immediate_channels:
            # Pull-only channels get notices (card updates, follow-ups) the next time the person writes.
            notices = outbox.take_notices(s, participant.id, msg.channel, now=now)  # type: ignore[arg-type]
            at = 1 if assessment.flagged else 0  # the safe reply always stays first
            replies[at:at] = [Outbound.from_json(json.loads(n.payload_json)) for n in notices]
        inbound_id = inbound.record(
            s,
            msg.channel,
            ledger_id,
            participant_id=participant.id,
            outcome="flagged" if assessment.flagged else ("unsupported" if msg.kind == "unsupported" else "ok"),
            now=now,
        )
        if alert_rec is not None:
            self._store_alert(s, alert_rec, participant, now)
        immediate = msg.channel in self.immediate_channels
        self._remember_band(key_hash, getattr(result.state, "band", None))
        # Too late (the safe reply already went ahead alone): it is recorded as sent; the rest are queued for
        # the sender, or on the web kept as notices for the next time the page asks.
        late = handoff is not None and not handoff.claim()
        outbox_ids = []
        for r in replies:
            kind = r.meta.get("kind", "reply")
            notice = late and immediate and kind != "safe_reply"
            outbox_ids.append(
                outbox.add(
                    s,
                    channel=msg.channel,
                    payload_json=_PAYLOAD_JSON(r.to_json()),
                    now=now,
                    participant_id=participant.id,
                    inbound_id=None if notice else inbound_id,
                    address_enc=None if immediate else address_enc,
                    kind=kind,
                    status="sent" if (kind == "safe_reply" and late) or (immediate and not late) else "pending",
                )
            )
        s.flush()
        return DispatchResult(
            replies=replies,
            flagged=assessment.flagged,
            participant_id=participant.id,
            outbox_ids=outbox_ids,
        )

    def _hook_for(self, msg: Inbound) -> CommandHook | None:
        """The hook for a command (/link, /checkin ...), for a button whose payload is `name:...` (the event
        invitation's going / not going, registered as "button:name"), or the "text" hook, which takes only
        words that are its own (an event's check-in code). Everything else goes to the engine."""
        if msg.kind == "command":
            return self.commands.get(msg.command)
        if msg.kind == "button" and ":" in msg.payload:
            return self.commands.get("button:" + msg.payload.split(":", 1)[0])
        if msg.kind == "text":
            return self.commands.get("text")  # returns None unless the words are its own (an event's code)
        return None

    def _check_only(self, s: Session, msg: Inbound, alert_rec: dict | None, now: datetime) -> DispatchResult:
        """A message we do not take answers from (a group chat): nothing, unless it worried the risk check.

        Then the alert is stored (linked to the person if we know them) and the safe reply handed back
        for the channel to send privately; the conversation is left as it was.
        """
        if alert_rec is None:
            return DispatchResult(replies=[], stored=False)
        found = participants.find_by_key(s, alert_rec["sender_hash"])
        participant = found[0] if found else None
        inbound.record(
            s, msg.channel, self.ledger_id(msg), participant_id=participant.id if participant else None,
            outcome="flagged", now=now,
        )
        self._store_alert(s, alert_rec, participant, now)
        band = (participant.band if participant else None) or "default"
        return DispatchResult(
            replies=[self.safe_reply(band, now, self._locale_of(alert_rec))], stored=False, flagged=True,
            participant_id=participant.id if participant else None,
        )

    def _step(
        self,
        s: Session,
        participant: Participant,
        msg: Inbound,
        assessment: Assessment,
        now: datetime,
        detour: Detour | None = None,
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
                    "language": getattr(participant, "language", None) or "",  # from their invite (issue 24)
                }.items()
                if v
            }
        ctx = self.context(s, participant, now)
        ctx.flagged = assessment.flagged  # the safe reply is then the whole answer (the engine says nothing more)
        if detour is not None:
            msg, ctx = self._detour_input(detour, state, msg, ctx)
        locale = self._language_of(state, msg, assessment)
        lib = self.libraries.get(locale, self.library)
        result = step(lib, state, msg, now=now, context=ctx)
        if result.profile_changed:
            participants.update_profile(s, participant, result.state.profile)
            s.flush()
        subs: dict[tuple[str, int], Any] = {}

        def submission(flow_id: str, run: int) -> Any:
            # One lookup per run per step: a step often starts, answers and completes the same run.
            if (flow_id, run) not in subs:
                subs[(flow_id, run)] = submissions.start_run(s, participant, flow_id, run, now=now)
            return subs[(flow_id, run)]

        for flow_id, run in result.restarted:  # "start again": the old run is closed, not left "started"
            submissions.close_restarted(s, participant.id, flow_id, run, now=now)  # type: ignore[arg-type]
        for flow_id, run in result.started:
            submission(flow_id, run)
        for ans in result.answers:
            sub = submission(ans.flow_id, ans.run)
            # Free text is kept only encrypted (issue 22): a name, school or phone number typed by a young person is
            # never in the database as written. Flagged words also go to the alert's own encrypted copy for staff.
            seal = ans.free_text and isinstance(ans.value, str)
            answer_id = submissions.write_answer(
                s,
                sub,
                ans.question_id,
                ans.value,
                skipped=ans.skipped,
                free_text=ans.free_text,
                quarantined=assessment.flagged,  # every answer given in a flagged message, typed choices too
                now=now,
                sealed=self.keyring.encrypt(ans.value) if seal else None,
            )
            if ans.free_text and not ans.skipped and isinstance(ans.value, str) and ans.value.strip():
                # A person reads every free-text answer: queued in this same transaction, risk-first.
                reading.add(
                    s, answer_id=answer_id, participant_id=participant.id, flow_id=ans.flow_id,
                    question_id=ans.question_id, district=participant.district, score=reading_score(assessment),
                    flagged=assessment.flagged, now=now,
                )
        for flow_id, run in result.completed:
            sub = submission(flow_id, run)
            submissions.complete(s, sub, now=now)
        held = {a.question_id for a in result.answers if a.free_text} if assessment.flagged else set()
        effects = list(result.effects)
        if held:
            # Quarantined words stay only encrypted, in the answer row and the alert: never in
            # the conversation state, nor in effects that could publish or forward them.
            for qid in held:
                result.state.answers[qid] = None
            effects = [replace(e, answers={k: None if k in held else v for k, v in e.answers.items()}) for e in effects]
        replies = list(result.replies)
        # Effect replies (e.g. "your card is in") go where the action sat in the flow; insert from
        # the last so earlier positions stay valid.
        for eff in reversed(effects):
            handler = self.effects.get(eff.action)
            if handler is None:
                log.error("dispatch.unknown_effect action=%s", eff.action)
                continue
            replies[eff.at_reply : eff.at_reply] = handler(s, participant, eff, now)
        if detour is not None:
            replies[0:0] = detour.replies
        if result.quiet:  # after a safe reply nothing else is said to that message (issue 23 item 4)
            replies = []
        if participant.audience == "young_person":
            help_asked = msg.kind == "command" and msg.command == "help"
            replies = self._with_help_now(replies, result.state.band, help_asked=help_asked, library=lib)
        replies = self._marked(replies, locale)  # the language this step spoke (a new choice speaks next time)
        conversations.save(s, participant.id, result.state.to_json(), version=version, now=now)  # type: ignore[arg-type]
        if assessment.flagged:
            said_in = assessment.language if assessment.language != "en" else locale
            replies.insert(0, self.safe_reply(result.state.band, now, said_in))
        return result, replies

    def _language_of(self, state: ConversationState, msg: Inbound, assessment: Assessment) -> str:
        """The person's language: the one they chose, else (first time) the one they wrote in, if on offer."""
        chosen = state.profile.get("language")
        if chosen in self.libraries:
            return str(chosen)
        if chosen is None and msg.kind == "text" and assessment.language in self.libraries:
            state.profile["language"] = assessment.language
            return assessment.language
        return "en"

    def _marked(self, replies: list[Outbound], locale: str) -> list[Outbound]:
        """Replies in another language say which (channels set lang and dir), and whether it is a draft."""
        if locale == "en" or locale not in self.libraries:
            return replies
        extra = {"lang": locale}
        if locale in self._drafts:
            extra["draft"] = "draft translation"
        return [r if r.meta.get("kind") == "safe_reply" else replace(r, meta={**r.meta, **extra}) for r in replies]

    def _detour_input(
        self, detour: Detour, state: ConversationState, msg: Inbound, ctx: StepContext
    ) -> tuple[Inbound, StepContext]:
        """The engine input a detour stands for: start its flow, or carry on as after /start."""
        if detour.start_flow is None:
            return replace(msg, kind="command", command="start", args="", text="", payload=""), ctx
        # The engine starts a flow from a "t.<token>" button from anywhere, and parks a topic or survey left
        # part-way (so choosing it again offers "carry on at question N"; clearing the state here lost that place
        # and left the run "started"). Open just this one flow for this step.
        state.paused = False
        token = f"t.{self.library.flow_tokens[detour.start_flow]}"
        flow_id = detour.start_flow
        opened = ctx.with_topic(flow_id)  # still lazy
        return replace(msg, kind="button", payload=token, text="", command="", args=""), opened
