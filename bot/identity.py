"""Who is talking: invite codes, link codes, the invite-only onboarding hook, rights commands and
the "My stuff" effects (summary, copy of my data, pause, link another app, delete everything).

Never stores a code, a channel id or an address in clear: codes and ids only as keyed hashes,
addresses only encrypted. Owns no tables' SQL (storage.invites and storage.privacy do that).
"""

from __future__ import annotations

import json
import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from threading import Lock
from typing import Any, Protocol

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import tenant
from bot.crypto import Keyring
from bot.dispatcher import CommandHook, Detour, EffectHandler, Onboarding
from bot.engine import Effect
from bot.messages import Inbound, Outbound
from bot.settings import BotSettings
from content.loader import CouncilTuple, Library
from content.schema import QUESTION_TYPES, ChoiceNode, MultiNode, YesNoNode, text_for
from storage import audit, councils, data_copies, participants, privacy, tenancy
from storage import invites as store
from storage.db import Engine, Session, session
from storage.models import Invite, LinkCode, Participant

log = logging.getLogger("ourvoice.identity")

# 31 characters nobody mixes up when reading a printed card aloud: no 0/O, 1/I/L.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8  # 31^8 ≈ 8.5e11 codes: guessing one is hopeless under the rate limits below
AGE_BANDS = {"7-11": "junior", "11-16": "teen", "16-25": "young_adult"}
ROLES = ("young_person", "carer")
# The council's districts and children-in-care councils, from its council file (content/council.yaml).
DISTRICTS = CouncilTuple(lambda c: tuple(c.districts))  # the current council's (issue 26)
COUNCILS = CouncilTuple(lambda c: tuple(c.councils))
PRIVACY_FLOW = "privacy_notice"
# Flows about the person's own data: left out of their readable summary (still in the full copy).
OWN_DATA_FLOWS = ("privacy_", "my_stuff")
# Rights commands that open a flow from anywhere in any conversation.
RIGHTS_COMMANDS = {
    "privacy": "privacy_notice",
    "mystuff": "my_stuff",
    "mydata": "my_stuff",
    "delete": "my_stuff_delete",
    "pause": "my_stuff_pause",
    "language": "my_stuff_language",  # issue 24: choose or change language at any time
}
DATA_COPY_MINUTES = 15  # a copy-of-my-data link works once, for this long
DATA_COPY_PATH = "/my-data/"


class IdentitySettings(BaseSettings):
    """Invite and link-code settings (OURVOICE_*), read in entry points and passed down."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_", env_file=".env", extra="ignore")

    telegram_bot_username: str = Field(default="", description="for t.me deep links in invites")
    id_hash_key_previous: str = Field(default="", description="old identity key while people migrate")
    invite_max_failures: int = Field(default=10, ge=1, description="wrong codes per sender per window")
    # Per network address (web chat): a new browser or made-up cookie does not start again at zero. A children's
    # home or family may share one address, so it gets more than one browser does.
    invite_address_max_failures: int = Field(default=30, ge=1, description="wrong codes per address per window")
    # Never refuses anyone (other people's mistakes must not lock out a valid code): past this many wrong codes on
    # one channel in a window, a warning is logged once so staff can look.
    invite_channel_max_failures: int = Field(default=500, ge=1, description="wrong codes per channel: warn")
    invite_failure_window_minutes: int = Field(default=60, ge=1)
    link_code_minutes: int = Field(default=15, ge=1)

    @property
    def window(self) -> timedelta:
        return timedelta(minutes=self.invite_failure_window_minutes)


# -- codes -----------------------------------------------------------------------------------------
def new_code() -> str:
    """A fresh random code from the unambiguous alphabet."""
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalise(raw: str) -> str:
    """What people type or paste -> the canonical code: upper case, no spaces or dashes."""
    return "".join(ch for ch in raw.upper() if ch not in " -_.\t")


def well_formed(code: str) -> bool:
    return len(code) == CODE_LENGTH and all(ch in ALPHABET for ch in code)


def looks_like_code(text: str) -> bool:
    """A message that is just a code (e.g. 'ABCD-EFGH', 'abcd2345'), typed instead of /start CODE.

    Ordinary words ("whatever", "hi there") are not: a code has a digit, a dash or is in capitals.
    """
    raw = text.strip()
    norm = normalise(raw)
    if not (CODE_LENGTH - 1 <= len(norm) <= CODE_LENGTH + 1 and norm.isalnum() and norm.isascii()):
        return False
    return any(ch.isdigit() for ch in norm) or "-" in raw or raw.isupper()


def pretty(code: str) -> str:
    """How a code is printed for people: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def invite_links(code: str, *, public_url: str, bot_username: str) -> tuple[str | None, str]:
    """(Telegram deep link or None when no bot username is configured, web chat link)."""
    tg = f"https://t.me/{bot_username.lstrip('@')}?start={code}" if bot_username else None
    return tg, f"{public_url.rstrip('/')}/?start={code}"


def band_for(role: str, age_band: str | None) -> str:
    """The content band an invite grants: carers are 'carer'; young people by age range."""
    if role == "carer":
        return "carer"
    if age_band not in AGE_BANDS:
        raise ValueError(f"age band must be one of {', '.join(AGE_BANDS)}")
    return AGE_BANDS[age_band]


@dataclass(frozen=True)
class CreatedInvite:
    code: str
    telegram_link: str | None
    web_link: str


def create_invites(
    s: Session,
    keyring: Keyring,
    *,
    role: str,
    age_band: str | None,
    district: str | None,
    council: str | None,
    expires_days: int,
    count: int,
    public_url: str,
    bot_username: str,
    created_by: str,
    now: datetime,
    council_ref: str | None = None,
    language: str | None = None,
    iro_email: str | None = None,
    social_worker_email: str | None = None,
) -> tuple[str, list[CreatedInvite]]:
    """Create `count` one-time invites; returns (batch id, codes with links). Storage gets hashes only.

    `council_ref` (the young person's reference in the council's case system) is stored only encrypted
    and needs a single young person's invite.
    """
    council_ref = (council_ref or "").strip() or None
    if council_ref is not None:
        if role != "young_person" or count != 1:
            raise ValueError("a case reference belongs to one young person: make their invite on its own (count 1)")
        if len(council_ref) > 64 or not council_ref.isprintable():
            raise ValueError("a case reference is at most 64 printable characters")
    review_to = {"IRO": (iro_email or "").strip(), "social worker": (social_worker_email or "").strip()}
    for who, address in review_to.items():
        if address:
            from bot.channels.email import valid_address

            if role != "young_person" or count != 1:
                raise ValueError(f"the {who}'s address belongs to one young person: make their invite alone (count 1)")
            if not valid_address(address):
                raise ValueError(f"the {who}'s address should look like name@council.gov.uk")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    band = band_for(role, age_band)
    if district is not None and district not in DISTRICTS:
        raise ValueError(f"district must be one of {', '.join(DISTRICTS)}")
    if council is not None and council not in COUNCILS:
        raise ValueError(f"council must be one of {', '.join(COUNCILS)}")
    if not 1 <= count <= 1000:
        raise ValueError("count must be between 1 and 1000")
    if language is not None:
        from content.translations import languages

        if language not in languages():
            raise ValueError(f"language must be one of {', '.join(languages())}")
    if not 1 <= expires_days <= 366:
        raise ValueError("expires-days must be between 1 and 366")
    batch = "B-" + "".join(secrets.choice(ALPHABET) for _ in range(6))
    out: list[CreatedInvite] = []
    for _ in range(count):
        code = new_code()
        store.add_invite(
            s, code_hash=keyring.identity_hash("invite", code), batch=batch, audience=role, band=band,
            district=district, council=council, expires_at=now + timedelta(days=expires_days),
            created_by=created_by, now=now,
            council_ref_enc=keyring.encrypt(council_ref) if council_ref else None,
            language=None if language == "en" else language,
            iro_to_enc=keyring.encrypt(review_to["IRO"]) if review_to["IRO"] else None,
            social_worker_to_enc=keyring.encrypt(review_to["social worker"]) if review_to["social worker"] else None,
        )
        tg, web = invite_links(code, public_url=public_url, bot_username=bot_username)
        out.append(CreatedInvite(code, tg, web))
    return batch, out


def write_qr(created: list[CreatedInvite], folder: str, *, batch: str) -> list[str]:
    """Write a PNG and an SVG QR code per invite (Telegram link when configured, else web link)."""
    import segno  # only staff tools need it

    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[str] = []
    for i, inv in enumerate(created, 1):
        target = inv.telegram_link or inv.web_link
        qr = segno.make(target, error="m")
        stem = out_dir / f"ourvoice-{batch}-{i:03d}-{inv.code}"
        qr.save(f"{stem}.png", scale=8, border=4)
        qr.save(f"{stem}.svg", scale=8, border=4, title=f"ourvoice invite {pretty(inv.code)}")
        paths += [f"{stem}.png", f"{stem}.svg"]
    return paths


# -- the onboarding hook ---------------------------------------------------------------------------
class _Words:
    """Strings from content, in the person's band (or the default wording before we know it)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def __call__(self, key: str, band: str = "default", **fmt: object) -> str:
        text = text_for(self.library.string(key), band)
        return text.format(**fmt) if fmt else text

    def out(self, key: str, band: str = "default", **fmt: object) -> Outbound:
        return Outbound(text=self(key, band, **fmt))


def _code_in(msg: Inbound) -> str | None:
    """The code someone is trying, or None if this message is not a code attempt."""
    if msg.kind == "command" and msg.command in ("start", "link"):
        return msg.args.strip() or None
    if msg.kind == "text" and looks_like_code(msg.text):
        return msg.text.strip()
    return None


class CodeGate:
    """Checks invite and link codes for people the bot does not know yet, with rate limits."""

    def __init__(
        self, keyring: Keyring, settings: BotSettings, library: Library, identity: IdentitySettings
    ) -> None:
        self.keyring = keyring
        self.settings = settings
        self.identity = identity
        self.words = _Words(library)
        self.previous = (
            Keyring(identity.id_hash_key_previous, settings.fernet_keys())
            if identity.id_hash_key_previous and settings.fernet_keys()
            else None
        )

    def hashes(self, purpose: str, code: str) -> list[str]:
        """The keyed hash of a code under the current key (and the previous one during a key change)."""
        out = [self.keyring.identity_hash(purpose, code)]
        if self.previous is not None:
            out.append(self.previous.identity_hash(purpose, code))
        return out

    def _counter_keys(self, key_hash: str, channel: str) -> tuple[str, str]:
        # A hash of the identity hash: the counter never holds the value used to find a participant.
        return "s:" + self.keyring.identity_hash("attempts", key_hash), "c:" + channel

    def _origin_key(self, msg: Inbound) -> str | None:
        # The address only as a keyed hash, and only where the channel gives one (the web chat).
        if not msg.origin:
            return None
        return "a:" + self.keyring.identity_hash("attempts_origin", f"{msg.channel}:{msg.origin}")

    def limited(self, s: Session, key_hash: str, msg: Inbound, now: datetime) -> bool:
        """Too many wrong codes from this sender, or from this address; never because of the channel as a whole."""
        mine, _ = self._counter_keys(key_hash, msg.channel)
        place = self._origin_key(msg)
        w = self.identity.window
        if store.failures(s, mine, now=now, window=w) >= self.identity.invite_max_failures:
            return True
        cap = self.identity.invite_address_max_failures
        return place is not None and store.failures(s, place, now=now, window=w) >= cap

    def fail(self, s: Session, key_hash: str, msg: Inbound, now: datetime, key: str) -> list[Outbound]:
        channel = msg.channel
        mine, chan = self._counter_keys(key_hash, channel)
        place = self._origin_key(msg)
        w = self.identity.window
        n = store.note_failure(s, mine, now=now, window=w)
        at_place = store.note_failure(s, place, now=now, window=w) if place is not None else 0
        if store.note_failure(s, chan, now=now, window=w) == self.identity.invite_channel_max_failures:
            log.warning("invite.failures_high channel=%s", channel)  # for staff to look at; refuses nobody
        log.info("invite.failed reason=%s channel=%s tries=%d", key, channel, n)
        if n >= self.identity.invite_max_failures or at_place >= self.identity.invite_address_max_failures:
            return [self.words.out("code_too_many", minutes=self.identity.invite_failure_window_minutes)]
        return [self.words.out(key)]

    def __call__(
        self, s: Session, msg: Inbound, key_hash: str, now: datetime
    ) -> Participant | Detour | list[Outbound]:
        if self.previous is not None:
            old = self.previous.identity_hash(msg.channel, msg.sender)
            found = participants.find_by_key(s, old)
            if found is not None and store.rekey_identity(s, old, key_hash):
                log.info("identity.rekeyed participant=%s", found[0].id)
                return found[0]  # the message itself is handled as usual
        raw = _code_in(msg)
        if raw is None:
            if msg.kind == "command" and msg.command == "link":
                return [self.words.out("link_how")]
            return [self.words.out("not_invited")]
        if self.limited(s, key_hash, msg, now):
            log.warning("invite.rate_limited channel=%s", msg.channel)
            return [self.words.out("code_too_many", minutes=self.identity.invite_failure_window_minutes)]
        code = normalise(raw)
        if not well_formed(code):
            return self.fail(s, key_hash, msg, now, "code_mistyped")
        invite = next((i for h in self.hashes("invite", code) if (i := store.find_invite(s, h))), None)
        if invite is not None:
            return self._redeem_invite(s, msg, key_hash, invite, now)
        link = next((c for h in self.hashes("link", code) if (c := store.find_link_code(s, h))), None)
        if link is not None:
            return self._redeem_link(s, msg, key_hash, link, now)
        return self.fail(s, key_hash, msg, now, "code_mistyped")

    def _redeem_invite(
        self, s: Session, msg: Inbound, key_hash: str, invite: Invite, now: datetime
    ) -> Detour | list[Outbound]:
        state = store.invite_state(invite, now=now)
        if state == "used" and (back := store.rejoin_participant(s, invite, now=now)) is not None:
            # Their own code again after "forget this device" (or a chat cookie that ran out): same answers as before.
            address = self.keyring.encrypt(msg.address) if msg.address else None
            participants.link_identity(
                s, back.id, key_hash=key_hash, channel=msg.channel, address_enc=address, now=now  # type: ignore[arg-type]
            )
            store.clear_failures(s, self._counter_keys(key_hash, msg.channel)[0])
            log.info("invite.rejoined participant=%s channel=%s", back.id, msg.channel)
            return Detour(participant=back, replies=[self.words.out("welcome_back", back.band or "default")])
        if state != "valid":
            key = "code_used" if state == "used" else "code_expired"  # revoked reads as expired
            return self.fail(s, key_hash, msg, now, key)
        if not store.claim_invite(s, invite.id, now=now):  # type: ignore[arg-type]
            return self.fail(s, key_hash, msg, now, "code_used")
        address = self.keyring.encrypt(msg.address) if msg.address else None
        p, _ = participants.create(
            s, key_hash=key_hash, channel=msg.channel, address_enc=address, now=now,
            audience=invite.audience, band=invite.band, district=invite.district, council=invite.council,
        )
        store.carry_to_participant(s, invite, p)  # which invite, and its encrypted case reference
        store.clear_failures(s, self._counter_keys(key_hash, msg.channel)[0])
        log.info("invite.redeemed participant=%s batch=%s", p.id, invite.batch)
        return Detour(participant=p, start_flow=PRIVACY_FLOW)

    def _redeem_link(
        self, s: Session, msg: Inbound, key_hash: str, link: LinkCode, now: datetime
    ) -> Detour | list[Outbound]:
        state = store.link_code_state(link, now=now)
        if state != "valid":
            key = "link_used" if state == "used" else "link_expired"
            return self.fail(s, key_hash, msg, now, key)
        p = participants.get(s, link.participant_id)
        if p is None or not store.claim_link_code(s, link.id, now=now):  # type: ignore[arg-type]
            return self.fail(s, key_hash, msg, now, "link_used")
        address = self.keyring.encrypt(msg.address) if msg.address else None
        participants.link_identity(
            s, p.id, key_hash=key_hash, channel=msg.channel, address_enc=address, now=now  # type: ignore[arg-type]
        )
        store.clear_failures(s, self._counter_keys(key_hash, msg.channel)[0])
        log.info("identity.linked participant=%s channel=%s", p.id, msg.channel)
        return Detour(participant=p, replies=[self.words.out("link_done", p.band or "default")])


class ChatCouncils:
    """Which council an inbound message is for (issue 26): the one each person belongs to.

    One bot per channel (one Telegram token, one Slack app, one web chat address) serves every council on the
    service; the invite decides. A message carrying an invite or link code is for that code's council (so the
    person is created there); anyone else's is for the council their channel id was joined under; a stranger's
    is the deployment's own (they are told they need an invite). A person's council never changes, so it is
    kept in memory once found: the per-message cost is one dictionary look-up. SQLite serves one council: None.
    """

    KEEP = 50_000

    def __init__(self, engine: Engine, gate: CodeGate) -> None:
        self.engine = engine
        self.gate = gate
        self._known: OrderedDict[str, str] = OrderedDict()
        self._lock = Lock()

    def __call__(self, msg: Inbound) -> str | None:
        if self.engine.dialect.name != "postgresql":
            return None
        raw = _code_in(msg)
        code = normalise(raw) if raw else ""
        if well_formed(code):  # a code decides, even for someone known (erased, then invited elsewhere)
            with session(self.engine) as s:
                for purpose, find in (("invite", councils.council_of_invite), ("link", councils.council_of_link)):
                    found = next((c for h in self.gate.hashes(purpose, code) if (c := find(s, h))), None)
                    if found is not None:
                        return found
        return self.of_sender(msg.channel, msg.sender)

    def of_sender(self, channel: str, sender: str) -> str | None:
        """The council a channel id (a Telegram chat, a web chat browser) was joined under; the deployment's own
        for a stranger; None on SQLite."""
        if self.engine.dialect.name != "postgresql":
            return None
        key_hash = self.gate.keyring.identity_hash(channel, sender)
        with self._lock:
            known = self._known.get(key_hash)
        if known is not None:
            return known
        with session(self.engine) as s:
            found = councils.council_of_identity(s, key_hash)
            if found is None and self.gate.previous is not None:  # during a key change
                found = councils.council_of_identity(s, self.gate.previous.identity_hash(channel, sender))
        if found is None:
            return tenancy.default_id()
        with self._lock:
            self._known[key_hash] = found
            while len(self._known) > self.KEEP:
                self._known.popitem(last=False)
        return found


class _HasDispatcher(Protocol):
    """What serving_sender reads of bot.services.Services (which imports this module, so it is not named)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def dispatcher(self) -> Any: ...


@contextmanager
def serving_sender(rt: _HasDispatcher, channel: str, sender: str | None) -> Iterator[None]:
    """Entry points beside the chat itself (forget this device, web pings on and off) serve the council of the
    browser or chat they were called from, like its messages."""
    find = getattr(rt.dispatcher, "council_of", None)
    council = find.of_sender(channel, sender) if sender and isinstance(find, ChatCouncils) else None
    if council is None:
        yield
        return
    with tenant.serving(rt.engine, council):
        yield


def chat_councils(
    engine: Engine, keyring: Keyring, settings: BotSettings, library: Library, *,
    identity: IdentitySettings | None = None,
) -> ChatCouncils:
    """The dispatcher's `council_of` for a service that may run several councils."""
    return ChatCouncils(engine, CodeGate(keyring, settings, library, identity or IdentitySettings()))


def invite_onboarding(
    keyring: Keyring, settings: BotSettings, library: Library, *, identity: IdentitySettings | None = None
) -> Onboarding:
    """The invite-only onboarding hook: a valid invite or link code lets someone in; nothing else does."""
    return CodeGate(keyring, settings, library, identity or IdentitySettings())


# -- commands for people the bot knows -------------------------------------------------------------
def identity_commands(
    keyring: Keyring, settings: BotSettings, library: Library, *, identity: IdentitySettings | None = None
) -> dict[str, CommandHook]:
    """Rights commands (/privacy, /mydata, /delete, /pause) and /link for known participants."""
    identity = identity or IdentitySettings()
    words = _Words(library)
    gate = CodeGate(keyring, settings, library, identity)

    def open_flow(flow_id: str) -> CommandHook:
        def hook(_s: Session, _p: Participant, _msg: Inbound, _now: datetime) -> Detour | None:
            return Detour(start_flow=flow_id) if flow_id in library.flows else None

        return hook

    def link(s: Session, p: Participant, msg: Inbound, now: datetime) -> Detour | None:
        band = p.band or "default"
        code = normalise(msg.args)
        if not code:
            return Detour(start_flow="my_stuff_link") if "my_stuff_link" in library.flows else None
        found = next((c for h in gate.hashes("link", code) if (c := store.find_link_code(s, h))), None)
        if found is not None and found.participant_id == p.id:
            return Detour(replies=[words.out("link_already", band)])
        if found is not None and store.link_code_state(found, now=now) == "valid":
            # Never merge two people's records from a chat: this app already belongs to someone.
            return Detour(replies=[words.out("link_other_account", band)])
        return Detour(replies=[words.out("code_mistyped", band)])

    hooks: dict[str, CommandHook] = {name: open_flow(flow) for name, flow in RIGHTS_COMMANDS.items()}
    hooks["link"] = link
    return hooks


# -- "My stuff" effects ----------------------------------------------------------------------------
def _label(library: Library, flow_id: str, question_id: str, value: object, band: str) -> tuple[str, str]:
    """(question text, answer wording) for one of the person's own answers."""
    flow = library.flows.get(flow_id)
    node = flow.index.get(question_id) if flow else None
    asked = node is not None and isinstance(node, QUESTION_TYPES)
    question = text_for(node.text, band) if asked else question_id  # type: ignore[union-attr]
    question = question.split("\n")[0][:80]
    values = value if isinstance(value, list) else [value]
    words: list[str] = []
    for v in values:
        if isinstance(node, ChoiceNode | MultiNode):
            match = next((c for c in node.choices if c.id == v), None)
            words.append(text_for(match.label, band) if match else str(v))
        elif isinstance(node, YesNoNode):
            key = {"yes": "yes_label", "no": "no_label", "not_sure": "not_sure_label"}.get(str(v))
            words.append(text_for(library.string(key), band) if key else str(v))
        else:
            words.append(str(v))
    return question, ", ".join(words)


def _said(a: object, decrypt: Callable[[bytes], str] | None) -> object:
    """An answer's value: its free text (stored encrypted, opened with the key) or its choice(s)."""
    if a.text_value is not None:  # type: ignore[attr-defined]
        return a.text_value  # type: ignore[attr-defined]
    if a.text_enc is not None and decrypt is not None and not a.quarantined:  # type: ignore[attr-defined]
        return decrypt(bytes(a.text_enc))  # type: ignore[attr-defined]
    return json.loads(a.value_json)  # type: ignore[attr-defined]


def summary_text(
    s: Session, library: Library, p: Participant, *, decrypt: Callable[[bytes], str] | None = None
) -> str:
    """A readable summary of what this person has told us (their own answers only)."""
    from storage import submissions

    band = p.band or "default"
    w = _Words(library)
    counts = [c for c in privacy.flow_counts(s, p.id) if not c.flow_id.startswith(OWN_DATA_FLOWS)]  # type: ignore[arg-type]
    if not counts:
        return w("my_summary_empty", band)
    lines = [w("my_summary_intro", band)]
    for c in counts:
        flow = library.flows.get(c.flow_id)
        title = text_for(flow.title, band) if flow else c.flow_id
        lines.append(w("my_summary_flow", band, title=title, times=c.runs))
    answers = [
        (sub, a) for sub, a in submissions.answers_of(s, p.id)  # type: ignore[arg-type]
        if not sub.flow_id.startswith(OWN_DATA_FLOWS) and not a.skipped
    ][-20:]
    if answers:
        lines.append("")
        lines.append(w("my_summary_answers", band))
        for sub, a in answers:
            q, said = _label(library, sub.flow_id, a.question_id, _said(a, decrypt), band)
            if a.quarantined:
                said = w("my_summary_held", band)  # words that worried us are not repeated on screen
            lines.append(f"• {q} → {said}")
    lines.append("")
    lines.append(w("my_summary_more", band))
    return "\n".join(lines)


def copy_summary(s: Session, library: Library, p: Participant) -> str:
    """One line on what the copy holds: conversations, answers and linked apps (counts only)."""
    w = _Words(library)
    rows = privacy.export_rows(s, p.id)  # type: ignore[arg-type]
    return w("my_export_summary", p.band or "default", answers=len(rows.get("answer", [])),
             runs=len(rows.get("submission", [])), apps=len(rows.get("channel_identity", [])))


def tidy_copy(
    s: Session, library: Library, p: Participant, *, now: datetime, decrypt: Callable[[bytes], str] | None = None
) -> dict[str, object]:
    """The downloadable copy: who we think you are, your answers in words, then every stored row about you."""
    from storage import submissions

    band = p.band or "default"
    answers = []
    for sub, a in submissions.answers_of(s, p.id):  # type: ignore[arg-type]
        if a.skipped:
            continue
        flow = library.flows.get(sub.flow_id)
        q, said = _label(library, sub.flow_id, a.question_id, _said(a, decrypt), band)
        if a.quarantined and a.text_enc is not None:
            said = "(kept only encrypted; ask the participation team if you want to see it)"
        answers.append({"topic": text_for(flow.title, band) if flow else sub.flow_id, "question": q,
                        "answer": said, "when": a.answered_at.isoformat() if a.answered_at else None})
    return {
        "about": "A copy of everything ourvoice holds about you, made when you asked for it.",
        "made_at": now.isoformat(),
        "you": {"code": p.case_ref, "group": p.audience, "age_band": p.band, "area": p.district,
                "council": p.council},
        "your_answers": answers,
        "your_email_and_text_addresses": _addresses(s, p, decrypt),
        "all_records": privacy.export_rows(s, p.id),  # type: ignore[arg-type]
    }


def _addresses(s: Session, p: Participant, decrypt: Callable[[bytes], str] | None) -> list[dict[str, object]]:
    """The email addresses and numbers they gave (issue 25), in full: it is their own copy."""
    from storage import notify_store

    return [
        {"kind": "email" if c.kind == "email" else "text messages",
         "address": decrypt(c.address_enc) if decrypt else "(kept encrypted)",
         "used_for": f"request {c.request_id} only" if c.request_id else "short notices",
         "working": c.not_working_at is None, "added": c.created_at.isoformat() if c.created_at else None}
        for c in notify_store.every_address(s, int(p.id or 0))
    ]


def effects(keyring: Keyring, library: Library, settings: BotSettings) -> dict[str, EffectHandler]:
    """Effect handlers for the My stuff flows (registered through runtime.EFFECT_MODULES)."""
    identity = IdentitySettings()
    w = _Words(library)

    def my_summary(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        return [Outbound(text=summary_text(s, library, p, decrypt=keyring.decrypt))]

    def my_export(s: Session, p: Participant, _e: Effect, now: datetime) -> list[Outbound]:
        # A short summary here, and a one-time link (audited) to the tidy file: never a table dump in bubbles.
        token = secrets.token_urlsafe(32)
        data_copies.add(s, token_hash=keyring.identity_hash("data_copy", token), participant_id=p.id,  # type: ignore[arg-type]
                        now=now, expires_at=now + timedelta(minutes=DATA_COPY_MINUTES))
        audit.record(s, actor="participant", action="data_copy.link", target=p.case_ref or str(p.id), now=now)
        log.info("data_copy.link participant=%s", p.id)
        link = f"{settings.public_url.rstrip('/')}{DATA_COPY_PATH}{token}"
        band = p.band or "default"
        text = w("my_export_intro", band, summary=copy_summary(s, library, p), link=link, minutes=DATA_COPY_MINUTES)
        return [Outbound(text=text, meta={"kind": "link_code"})]  # the link is blanked once delivered

    def pause(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        privacy.set_status(s, p, "opted_out")
        return [w.out("my_paused", p.band or "default")]

    def resume(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        privacy.set_status(s, p, "active")
        return [w.out("my_resumed", p.band or "default")]

    def link_code(s: Session, p: Participant, _e: Effect, now: datetime) -> list[Outbound]:
        code = new_code()
        store.add_link_code(
            s, code_hash=keyring.identity_hash("link", code), participant_id=p.id,  # type: ignore[arg-type]
            expires_at=now + timedelta(minutes=identity.link_code_minutes), now=now,
        )
        tg, web = invite_links(code, public_url=settings.public_url,
                               bot_username=identity.telegram_bot_username)
        links = "\n".join(x for x in (tg, web) if x)
        text = w("link_code_issued", p.band or "default", code=code, minutes=identity.link_code_minutes,
                 links=links)
        return [Outbound(text=text, meta={"kind": "link_code"})]  # blanked in the outbox once delivered

    def delete_me(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        kept = privacy.alerts_on_record(s, p.id)  # type: ignore[arg-type]
        privacy.erase_at_commit(s, p.id)  # type: ignore[arg-type]
        log.info("participant.erased_by_request participant=%s", p.id)
        band = p.band or "default"
        text = w("my_deleted", band) + ("\n\n" + w("my_deleted_kept", band) if kept else "")
        return [Outbound(text=text, meta={"kind": privacy.GOODBYE_KIND})]

    return {
        "my_summary": my_summary,
        "my_export": my_export,
        "pause_messages": pause,
        "resume_messages": resume,
        "link_code": link_code,
        "delete_me": delete_me,
    }

