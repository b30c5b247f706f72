"""Addresses people control (issue 25): the My stuff effects that show (masked), add and remove an email address
or mobile number for short notices, and the "talk to my worker" effect that files the request at once with an
address given for that request only.

An address arrives only as the answer to an `address:` question, which the engine hands to the action that follows
and keeps nowhere else; here it is stored encrypted (storage.notify_store) and only ever shown back masked. Nothing
here sends anything or logs an address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.crypto import Keyring
from bot.engine import Effect
from bot.engine.address import mask
from bot.messages import Outbound
from bot.settings import BotSettings
from content.loader import Library
from content.schema import TextNode, YesNoNode, text_for
from storage import contact_requests, notify_store
from storage.db import Session
from storage.models import Participant

log = logging.getLogger("ourvoice.contact")

EffectHandler = Callable[[Session, Participant, Effect, datetime], list[Outbound]]
WHAT = {"email": "contact_kind_email", "sms": "contact_kind_sms"}


def given(library: Library, effect: Effect) -> list[tuple[str, str]]:
    """(kind, address) for each address question answered in the flow the effect came from."""
    flow = library.flows.get(effect.flow_id)
    if flow is None:
        return []
    out: list[tuple[str, str]] = []
    for qid, value in effect.answers.items():
        node = flow.index.get(qid)
        if isinstance(node, TextNode) and node.address and isinstance(value, str) and value:
            out.append((node.address, value))
    return out


def effects(keyring: Keyring, library: Library, settings: BotSettings) -> dict[str, EffectHandler]:
    """Effect handlers for My stuff's addresses and "talk to my worker" (registered in bot/effects.py)."""

    def say(key: str, band: str, **fmt: object) -> str:
        text = text_for(library.string(key), band)
        return text.format(**fmt) if fmt else text

    def listed(s: Session, p: Participant) -> list[str]:
        band = p.band or "default"
        lines = []
        for c in notify_store.contacts(s, int(p.id or 0)):
            shown = mask(c.kind, keyring.decrypt(c.address_enc))
            what = say(WHAT[c.kind], band)
            note = " " + say("contact_not_working_mark", band) if c.not_working_at else ""
            lines.append(f"• {what}: {shown}{note}")
        return lines

    def show(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        band = p.band or "default"
        lines = listed(s, p)
        if not lines:
            return [Outbound(text=say("contact_none", band))]
        return [Outbound(text=say("contact_list", band, addresses="\n".join(lines)))]

    def add(s: Session, p: Participant, e: Effect, now: datetime) -> list[Outbound]:
        band = p.band or "default"
        out = []
        for kind, address in given(library, e):
            notify_store.remove_contacts(s, int(p.id or 0), kind)  # one of each kind: a new one replaces the old
            notify_store.add_contact(s, int(p.id or 0), kind, keyring.encrypt(address), now=now)
            log.info("contact.added participant=%s kind=%s", p.id, kind)
            out.append(Outbound(text=say("contact_saved", band, what=say(WHAT[kind], band), shown=mask(kind, address))))
        return out or [Outbound(text=say("contact_nothing_saved", band))]  # skipped: say so, not silence

    def remove(s: Session, p: Participant, _e: Effect, _now: datetime) -> list[Outbound]:
        band = p.band or "default"
        gone = notify_store.remove_contacts(s, int(p.id or 0))
        log.info("contact.removed participant=%s count=%d", p.id, gone)
        return [Outbound(text=say("contact_removed" if gone else "contact_removed_none", band))]

    def for_request(s: Session, p: Participant, e: Effect, now: datetime) -> list[Outbound]:
        """File the request now (the consent was just given) and keep the address for it alone."""
        band = p.band or "default"
        flow = library.flows.get(e.flow_id)
        question = next((n.id for n in flow.nodes if isinstance(n, YesNoNode) and n.contact), None) if flow else None
        consent = (contact_requests.consent_in_run(s, int(p.id or 0), e.flow_id, e.run, question)
                   if question else None)
        team = contact_requests.TEAM_OF_AUDIENCE.get(p.audience)
        if consent is None or team is None:
            return []
        request_id = contact_requests.file(s, consent, team=team, now=now) or contact_requests.request_of_answer(
            s, consent.answer_id)
        for kind, address in given(library, e):
            notify_store.add_contact(s, int(p.id or 0), kind, keyring.encrypt(address), now=now, request_id=request_id)
            log.info("contact.for_request participant=%s request=%s kind=%s", p.id, request_id, kind)
            return [Outbound(text=say("contact_for_request_saved", band, shown=mask(kind, address)))]
        return []

    return {"contact_show": show, "contact_add": add, "contact_remove": remove, "contact_for_request": for_request}
