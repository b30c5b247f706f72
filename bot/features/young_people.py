"""Young people's voice: effect handlers (good news, review statements, challenge cards) and the card
service shared by the CLI and the admin web (moves, notices to raisers and supporters, "you said, we did").

Wording comes from content/strings (keys starting `yp_`); every query goes through storage. Nothing here
sends anything except a review statement the young person explicitly chose to send, as an email outbox row
written in the step that recorded that choice (so it goes only if that step commits).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import mail_queue
from bot.crypto import Keyring
from bot.engine import Effect
from bot.messages import Outbound
from bot.reach import ReachSettings, send_first
from content.loader import CouncilMapping, CouncilTuple, Library
from content.schema import ChoiceNode, MultiNode, text_for
from storage import challenges, good_news, outbox, reviews, submissions
from storage.challenges import CardEventView, CardView
from storage.db import Session
from storage.models import Participant

log = logging.getLogger("ourvoice.young_people")

COUNCILS = CouncilTuple(lambda c: tuple(c.councils))  # the current council's file (content/council.yaml)
# Used when the invite did not set a council: the council a young person of that age normally joins, i.e. the
# first council in the file for that band alone (Kent: 7-11 Super Council, 11-16 OCYPC, 16-25 Young Adult Council).
BAND_COUNCIL: Mapping[str, str] = CouncilMapping(lambda c: {
    group.bands[0]: cid for cid, group in reversed(c.councils.items()) if len(group.bands) == 1
})
REVIEW_PREVIEW = "review_preview"  # outbox kind of the reply that reads a review statement back
REVIEW_EMAIL = "review_statement"  # outbox kind of the email that carries a statement to the IRO or social worker
NAMED = "named at invite"  # what a statement records as its address when it went to the person the invite named
REVIEW_ROLES = {"send_iro": "iro", "send_social_worker": "social_worker"}
CHALLENGE_SHORT = 90  # characters of a card's challenge quoted in notices

EffectHandler = Callable[[Session, Participant, Effect, datetime], list[Outbound]]


class ReviewSettings(BaseSettings):
    """The shared mailboxes review statements go to when the young person's invite named no IRO or social
    worker address (OURVOICE_REVIEW_IRO_TO, OURVOICE_REVIEW_SOCIAL_WORKER_TO). Mail leaves through the email
    outbox channel (bot/channels/email.py, OURVOICE_SMTP_* and OURVOICE_EMAIL_*)."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_REVIEW_", env_file=".env", extra="ignore")

    iro_to: str = ""  # e.g. iro@example.invalid in the demo
    social_worker_to: str = ""

    def address(self, role: str) -> str:
        """The shared mailbox for a role ('iro' or 'social_worker'); empty when not set up."""
        return {"iro": self.iro_to, "social_worker": self.social_worker_to}.get(role, "").strip()


def review_address(keyring: Keyring, p: Participant, role: str, shared: ReviewSettings) -> tuple[str, bool]:
    """Where a statement for `role` goes: the address named for this young person at invite (decrypted), else
    the shared mailbox; and whether it was the named one. ("", False) when neither is set."""
    sealed = {"iro": p.iro_to_enc, "social_worker": p.social_worker_to_enc}.get(role)
    if sealed:
        return keyring.decrypt(sealed), True
    return shared.address(role), False


class PanelSettings(BaseSettings):
    """Corporate Parenting Panel dates, e.g. OURVOICE_PANEL_DATES=2027-01-14,2027-03-11 (you said, we did)."""

    model_config = SettingsConfigDict(env_prefix="OURVOICE_", env_file=".env", extra="ignore")

    panel_dates: str = ""
    panel_catch_up_days: int = 14  # a digest missed for longer than this (e.g. new install) is not sent late

    @field_validator("panel_dates")
    @classmethod
    def _iso_dates(cls, v: str) -> str:
        for part in filter(None, (p.strip() for p in v.split(","))):
            try:
                date.fromisoformat(part)
            except ValueError as exc:
                raise ValueError(f"{part!r} is not an ISO date like 2027-01-14") from exc
        return v

    def dates(self) -> list[date]:
        return sorted({date.fromisoformat(p.strip()) for p in self.panel_dates.split(",") if p.strip()})


# -- small helpers -----------------------------------------------------------------------------------------


def council_of(p: Participant) -> str:
    """The participant's council: set at invite, otherwise the one their age band normally joins."""
    return p.council or BAND_COUNCIL.get(p.band or "") or next(iter(COUNCILS))


def say(library: Library, key: str, band: str | None, **fmt: object) -> str:
    """One string from content/strings for a band, with placeholders filled."""
    text = text_for(library.string(key), band or "teen")
    return text.format(**fmt) if fmt else text


def short(text: str, limit: int = CHALLENGE_SHORT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def council_name(library: Library, council: str, band: str | None) -> str:
    key = f"yp_council_{council}"
    return say(library, key, band) if key in library.strings.messages else council


def choice_label(library: Library, flow_id: str, node_id: str, choice_id: str, band: str | None) -> str:
    """The label a band saw for a choice, for statements and previews."""
    node = library.flows[flow_id].index.get(node_id)
    if isinstance(node, ChoiceNode | MultiNode):
        for c in node.choices:
            if c.id == choice_id:
                return text_for(c.label, band or "teen")
    return choice_id


def _labels(library: Library, flow_id: str, node_id: str, value: Any, band: str | None) -> list[str]:
    values = value if isinstance(value, list) else ([value] if value else [])
    return [choice_label(library, flow_id, node_id, str(v), band) for v in values]


def queue_notice(
    session: Session,
    participant_id: int,
    text: str,
    *,
    now: datetime,
    purpose: str = "card_update",
    reach: ReachSettings | None = None,
) -> int | None:
    """Queue one message to a participant outside a conversation, on their newest channel identity, under the
    one rule for messages sent first (bot/reach.py: quiet hours, daily cap, pause). None when it is not sent.

    `reach` is the runtime's ReachSettings; callers without a runtime (the CLI) read the same environment."""
    return send_first(session, participant_id, Outbound(text=text), purpose=purpose, now=now,
                      settings=reach or ReachSettings())


def _submission_id(session: Session, p: Participant, eff: Effect, now: datetime) -> int:
    return submissions.start_run(session, p, eff.flow_id, eff.run, now=now).id


def _any_quarantined(session: Session, p: Participant, submission_id: int) -> bool:
    return reviews.has_quarantined(session, submission_id)


# -- review statements -------------------------------------------------------------------------------------


def compose_statement(library: Library, answers: dict[str, Any], band: str | None) -> str:
    """The statement as the young person sees it and their chosen adult would receive it ('' if empty)."""

    def pick(qid: str) -> Any:
        edit = f"edit_{qid}"
        return answers[edit] if edit in answers else answers.get(qid)

    parts: list[str] = []
    for qid, key in (("going_well", "yp_review_going_well"), ("not_going_well", "yp_review_not_going_well")):
        if pick(qid):
            parts.append(f"{say(library, key, band)}\n{pick(qid)}")
    who = _labels(library, "review_prep", "who_there", pick("who_there"), band)
    if who:
        parts.append(f"{say(library, 'yp_review_who', band)}\n" + ", ".join(who))
    if pick("ask_change"):
        parts.append(f"{say(library, 'yp_review_ask', band)}\n{pick('ask_change')}")
    chair = _labels(library, "review_prep", "chair", pick("chair"), band)
    if chair:
        parts.append(f"{say(library, 'yp_review_chair', band)}\n{chair[0]}")
    return "\n\n".join(parts)


def _review_email(library: Library, *, case_ref: str, role: str, statement: str) -> tuple[str, str]:
    subject = say(library, "yp_review_email_subject", "default", ref=case_ref)
    body = say(
        library,
        "yp_review_email_body",
        "default",
        ref=case_ref,
        statement=statement,
        role=say(library, f"yp_role_{role}", "young_adult"),
    )
    return subject, body


# -- challenge cards: wording and the shared service -------------------------------------------------------


def card_preview(library: Library, answers: dict[str, Any], council: str, band: str | None) -> str:
    """The card as it will be sent, shown back before the young person decides."""
    lines = [say(library, "yp_card_preview_title", band)]
    lines.append(say(library, "yp_card_preview_what", band, text=answers.get("what_change") or "—"))
    if answers.get("why"):
        lines.append(say(library, "yp_card_preview_why", band, text=answers["why"]))
    who = _labels(library, "challenge_card", "who_for", answers.get("who_for"), band)
    if who:
        lines.append(say(library, "yp_card_preview_who", band, text=", ".join(who)))
    lines.append(say(library, "yp_card_preview_council", band, council=council_name(library, council, band)))
    return "\n".join(lines)


def _card_council(p: Participant, answers: dict[str, Any]) -> str:
    chosen = answers.get("council")
    return str(chosen) if chosen in COUNCILS else council_of(p)


def card_notice_text(
    library: Library, card: CardView, event: CardEventView, *, band: str | None, role: str
) -> str:
    """The age-appropriate message telling a raiser or supporter that their card moved."""
    ref = say(library, f"yp_card_ref_{role}", band, challenge=short(card.challenge))
    return say(
        library,
        f"yp_card_notice_{event.to_state}",
        band,
        card=ref,
        owner=event.owner_role or card.owner_role or say(library, "yp_card_owner_unknown", band),
        note=event.note or "",
        council=council_name(library, card.council, band),
    ).strip()


@dataclass(frozen=True)
class MoveOutcome:
    card: CardView
    event: CardEventView
    notices: int


def notify_card_event(
    session: Session, library: Library, card: CardView, event: CardEventView, *, now: datetime,
    reach: ReachSettings | None = None,
) -> int:
    """Queue exactly one notice per active raiser/supporter for this event; returns how many were queued."""
    queued = 0
    for r in challenges.recipients(session, card.id):
        if challenges.notice_sent(session, event_id=event.id, participant_id=r.participant_id):
            continue
        text = card_notice_text(library, card, event, band=r.band, role=r.role)
        outbox_id = queue_notice(session, r.participant_id, text, now=now, reach=reach)
        challenges.record_notice(
            session, event_id=event.id, participant_id=r.participant_id, outbox_id=outbox_id
        )
        queued += outbox_id is not None
    return queued


def move_card(
    session: Session,
    library: Library,
    card_id: int,
    to_state: str,
    *,
    staff: str,
    now: datetime,
    owner: str | None = None,
    note: str | None = None,
    reach: ReachSettings | None = None,
) -> MoveOutcome:
    """Validate and apply a state change, write the event and audit row, and tell everyone involved.

    Raises storage.challenges.InvalidTransition with a one-line reason.
    """
    event = challenges.move(session, card_id, to_state, staff=staff, now=now, owner_role=owner, note=note)
    card = challenges.get(session, card_id)
    assert card is not None
    return MoveOutcome(card, event, notify_card_event(session, library, card, event, now=now, reach=reach))


def state_words(library: Library, card: CardView, state: str, band: str | None) -> str:
    return say(library, f"yp_card_state_{state}", band, owner=card.owner_role or "")


# -- "you said, we did" ------------------------------------------------------------------------------------


TAKING_PART_FLOWS = ("good_news", "wellbeing", "challenge_card", "my_cards")


def taking_part_flows(library: Library) -> tuple[str, ...]:
    """Flows that count as taking part: every topic and survey plus the young people's own flows."""
    return tuple(
        sorted(
            {f.id for f in library.flows.values() if f.kind in ("topic", "survey")} | set(TAKING_PART_FLOWS)
        )
    )


def is_public(card: CardView) -> bool:
    """Cards other young people may hear about: not held by safeguarding, never routed as personal."""
    if card.quarantined:
        return False
    routed = [e.id for e in card.events if e.to_state == "routed_to_worker"]
    # A personal card stays private unless staff later took it to the council after all.
    return not routed or any(e.id > max(routed) and e.to_state == "discussed_at_council" for e in card.events)


def _end_of_day(d: date, tz: str) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(0), ZoneInfo(tz))


def you_said_we_did(
    session: Session, library: Library, *, panel_date: date, previous: date | None, tz: str, now: datetime,
    reach: ReachSettings | None = None,
) -> dict[str, int]:
    """Tell everyone in each council who took part what changed up to `panel_date`; once per date and council.

    Covers card changes after the previous Panel date up to the end of this one.
    Returns council -> how many people were told.
    """
    since = _end_of_day(previous, tz) if previous else None
    until = _end_of_day(panel_date, tz)
    latest: dict[str, dict[int, tuple[CardView, CardEventView]]] = {}
    for card, event in challenges.events_between(session, since, until):
        if is_public(card):
            latest.setdefault(card.council, {})[card.id] = (card, event)
    # What staff recorded with `report action add` since the last Panel goes to everyone who took part too,
    # in every council, even when no card moved.
    from storage import report_actions

    said = report_actions.between(session, since=since or until - timedelta(days=366), until=until)
    if not latest and not said:
        return {}
    active = challenges.took_part(session, since, until, flow_ids=taking_part_flows(library))
    if said:
        for p in active:
            latest.setdefault(council_of(p), {})
    told: dict[str, int] = {}
    for council, items in sorted(latest.items()):
        if challenges.digest_sent(session, panel_date, council):
            continue
        people = {p.id: p for p in active if council_of(p) == council}
        for p in challenges.participants(session, challenges.card_people(session, items)):
            people.setdefault(p.id, p)
        count = 0
        for pid, p in sorted(people.items()):
            band = p.band
            lines = [
                say(
                    library,
                    "yp_ysdw_line",
                    band,
                    challenge=short(card.challenge),
                    state=state_words(library, card, event.to_state, band),
                    note=f" {event.note}" if event.note else "",
                )
                for card, event in items.values()
            ] + [say(library, "yp_ysdw_action", band, said=short(a.said), did=short(a.did))
                 for a in said if a.is_for(band)]
            if not lines:
                continue  # nothing changed for this person's age group: no message with nothing in it
            text = "\n".join(
                [
                    say(
                        library,
                        "yp_ysdw_intro",
                        band,
                        date=f"{panel_date.day} {panel_date:%B %Y}",
                        council=council_name(library, council, band),
                    ),
                    *lines,
                    say(library, "yp_ysdw_outro", band),
                ]
            )
            count += queue_notice(
                session, pid, text, now=now, purpose="you_said_we_did", reach=reach  # type: ignore[arg-type]
            ) is not None
        challenges.record_digest(session, panel_date, council, recipients=count, now=now)
        told[council] = count
    return told


# -- effect handlers ---------------------------------------------------------------------------------------


def effects(
    keyring: Keyring,
    library: Library,
    settings: object,
    *,
    review: ReviewSettings | None = None,
) -> dict[str, EffectHandler]:
    """The handlers for this feature's `action:` nodes, keyed by action name."""
    review = review or ReviewSettings()

    def good_news_save(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        text = eff.answers.get("news")
        if not text:
            return [Outbound(say(library, "yp_news_none", p.band))]
        sub_id = _submission_id(s, p, eff, now)
        consent = eff.answers.get("share") == "yes" and not _any_quarantined(s, p, sub_id)
        good_news.add(
            s,
            participant_id=p.id,
            submission_id=sub_id,
            text=text,
            category=eff.answers.get("category") or "",
            consent=consent,
            band=p.band,
            district=p.district,
            council=council_of(p),
            now=now,
        )
        return [Outbound(say(library, "yp_news_shared" if consent else "yp_news_private", p.band))]

    def review_show(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        statement = compose_statement(library, eff.answers, p.band)
        sub_id = _submission_id(s, p, eff, now)
        if not statement:
            reviews.save_draft(s, participant_id=p.id, submission_id=sub_id, statement_enc=None, now=now)  # type: ignore[arg-type]
            return [Outbound(say(library, "yp_review_empty", p.band))]
        reviews.save_draft(
            s,
            participant_id=p.id,
            submission_id=sub_id,
            statement_enc=keyring.encrypt(statement),
            now=now,  # type: ignore[arg-type]
        )
        # Tagged so its copy in the outbox can be blanked once the young person has decided (review_finish).
        preview = f"{say(library, 'yp_review_intro', p.band)}\n\n{statement}"
        return [Outbound(preview, meta={"kind": REVIEW_PREVIEW})]

    def review_finish(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        sub_id = _submission_id(s, p, eff, now)
        reply = _review_choice(s, p, str(eff.answers.get("decide")), sub_id, now)
        # Whatever was chosen, the plain-text answers go: the (encrypted) statement is the only copy left,
        # and a discarded one has no text at all.
        reviews.delete_free_text(s, sub_id)
        outbox.blank_sent(s, p.id, REVIEW_PREVIEW)  # type: ignore[arg-type]
        return [reply]

    def _review_choice(s: Session, p: Participant, choice: str, sub_id: int, now: datetime) -> Outbound:
        band = p.band
        if choice == "discard":
            reviews.discard(s, submission_id=sub_id, participant_id=p.id, now=now)  # type: ignore[arg-type]
            return Outbound(say(library, "yp_review_discarded", band))
        role = REVIEW_ROLES.get(choice)
        enc = reviews.statement_enc(s, sub_id)
        if role is None:  # "keep", or skipped: nothing is sent without an explicit choice
            reviews.set_status(s, sub_id, "kept", now=now)
            return Outbound(say(library, "yp_review_kept", band))
        who = say(library, f"yp_role_{role}", band)
        address, named = review_address(keyring, p, role, review)
        if not enc:
            reviews.set_status(s, sub_id, "kept", now=now)
            return Outbound(say(library, "yp_review_nothing_to_send", band))
        if not address:
            reviews.set_status(s, sub_id, "kept", now=now)
            return Outbound(say(library, "yp_review_no_address", band, who=who))
        subject, body = _review_email(library, case_ref=p.case_ref, role=role, statement=keyring.decrypt(enc))
        # An email outbox row in this step's transaction: it exists only if the choice is committed, and the
        # email sender delivers it (retrying while the relay is down). admin/jobs/reviews.py reads its delivery
        # back into the statement's status. A named person's address is kept only encrypted, in the row.
        row = mail_queue.queue(s, keyring, to=address, subject=subject, body=body, kind=REVIEW_EMAIL, now=now,
                          participant_id=p.id)
        reviews.set_status(s, sub_id, "sending", now=now, role=role, address=NAMED if named else address,
                           outbox_id=row)
        return Outbound(say(library, "yp_review_sending", band, who=who, address=address, ref=p.case_ref))

    def card_preview_h(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        return [Outbound(card_preview(library, eff.answers, _card_council(p, eff.answers), p.band))]

    def card_create(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        challenge = (eff.answers.get("what_change") or "").strip()
        if not challenge:
            return [Outbound(say(library, "yp_card_empty", p.band))]
        sub_id = _submission_id(s, p, eff, now)
        who_for = list(eff.answers.get("who_for") or [])
        council = _card_council(p, eff.answers)
        challenges.create(
            s,
            raised_by=p.id,
            council=council,
            challenge=challenge,
            why=eff.answers.get("why") or None,
            who_for=who_for,
            personal="just_me" in who_for,
            quarantined=_any_quarantined(s, p, sub_id),
            submission_id=sub_id,
            now=now,
        )
        text = say(library, "yp_card_created", p.band, council=council_name(library, council, p.band))
        if "just_me" in who_for:
            text += "\n\n" + say(library, "yp_card_personal", p.band)
        return [Outbound(text)]

    def card_discard(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        reviews.delete_free_text(s, _submission_id(s, p, eff, now))
        return []

    def cards_mine(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        mine = challenges.cards_of(s, p.id)  # type: ignore[arg-type]
        if not mine:
            return [Outbound(say(library, "yp_cards_none", p.band))]
        lines = [say(library, "yp_cards_mine_title", p.band)]
        for card, role in mine:
            lines.append(
                say(
                    library,
                    f"yp_cards_line_{role}",
                    p.band,
                    challenge=short(card.challenge),
                    state=state_words(library, card, card.state, p.band),
                    supporters=card.supporters,
                )
            )
        return [Outbound("\n".join(lines))]

    def cards_browse(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        council = council_of(p)
        cards = challenges.supportable(s, council=council, participant_id=p.id, limit=5)  # type: ignore[arg-type]
        challenges.save_listing(s, p.id, [c.id for c in cards], now=now)  # type: ignore[arg-type]
        if not cards:
            return [Outbound(say(library, "yp_cards_nothing_to_back", p.band))]
        lines = [
            say(library, "yp_cards_browse_title", p.band, council=council_name(library, council, p.band))
        ]
        for i, card in enumerate(cards, start=1):
            lines.append(
                say(
                    library,
                    "yp_cards_browse_line",
                    p.band,
                    n=i,
                    challenge=short(card.challenge, 140),
                    supporters=card.supporters,
                )
            )
        return [Outbound("\n".join(lines))]

    def card_support(s: Session, p: Participant, eff: Effect, now: datetime) -> list[Outbound]:
        pick = str(eff.answers.get("pick") or "")
        shown = challenges.listing(s, p.id)  # type: ignore[arg-type]
        index = int(pick[1:]) - 1 if pick[:1] == "c" and pick[1:].isdigit() else -1
        if not 0 <= index < len(shown):
            return [Outbound(say(library, "yp_card_support_missing", p.band))]
        result = challenges.support(s, shown[index], p.id, council=council_of(p), now=now)  # type: ignore[arg-type]
        return [Outbound(say(library, f"yp_card_support_{result}", p.band))]

    return {
        "good_news_save": good_news_save,
        "review_show": review_show,
        "review_finish": review_finish,
        "card_preview": card_preview_h,
        "card_create": card_create,
        "card_discard": card_discard,
        "cards_mine": cards_mine,
        "cards_browse": cards_browse,
        "card_support": card_support,
    }
