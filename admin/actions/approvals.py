"""Approval actions: quotes (Kent-wide, managers only; already scrubbed) and good news (district-scoped),
each approved or rejected before it can appear in a report, and the queues that show them.

Viewing a queue shows young people's own words, so it is audited like every decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from admin.actions.policy import (
    Actor,
    Invalid,
    NotFound,
    authorise,
    districts_of,
    record,
    require_scope,
)
from storage import admin_views, good_news, quotes

QUOTE_STATUSES = ("pending", "approved", "rejected", "all")
NEWS_STATUSES = ("pending", "approved", "rejected", "all")


def _status(status: str, allowed: tuple[str, ...]) -> str | None:
    if status not in allowed:
        raise Invalid(f"status must be {', '.join(allowed)}")
    return None if status == "all" else status


def list_good_news(s: Any, actor: Actor, *, status: str = "pending", now: datetime) -> list[Any]:
    """Good news in the actor's districts, in one status (audited as goodnews.list)."""
    authorise(actor, "goodnews.list")
    items = [n for n in good_news.list_items(s, status=_status(status, NEWS_STATUSES)) if actor.sees(n.district)]
    record(s, actor, "goodnews.list", target="good_news", detail=f"status={status} n={len(items)}", now=now)
    return items


def list_quotes(s: Any, actor: Actor, *, status: str = "pending", now: datetime) -> list[Any]:
    """Scrubbed quotes in one status (managers; audited as quote.view)."""
    authorise(actor, "quote.list")
    rows = quotes.list_quotes(s, status=_status(status, QUOTE_STATUSES))
    record(s, actor, "quote.view", target="quotes", detail=f"status={status} n={len(rows)}", now=now)
    return rows


def approval_queue(s: Any, actor: Actor, *, now: datetime) -> tuple[list[Any], list[Any]]:
    """(pending good news in the actor's districts, pending quotes if a manager): the approvals page
    (audited as approvals.view)."""
    authorise(actor, "goodnews.list")
    news = [n for n in good_news.list_items(s, status="pending") if actor.sees(n.district)]
    can_quote = actor.role in _quote_roles()
    pending = quotes.list_quotes(s, status="pending") if can_quote else []
    record(
        s, actor, "approvals.view", target="approvals",
        detail=f"goodnews={len(news)} quotes={len(pending)}", now=now,
    )
    return news, pending


def _quote_roles() -> frozenset[str]:
    from admin.actions.policy import RULES

    return RULES["quote.decide"].roles


def can_decide_quotes(actor: Actor) -> bool:
    """True when the actor's role may approve quotes (the page shows the quote queue)."""
    return actor.role in _quote_roles()


def decide_quote(
    s: Any,
    actor: Actor,
    quote_id: int,
    *,
    approve: bool,
    text: str | None = None,
    now: datetime,
    guard: Any = None,
) -> Any:
    """Approve or reject a scrubbed quote, optionally with edited text (audited as quote.approve/reject).

    Edited text is scrubbed again, so an edit cannot put a name or place back in. Wording to be approved is
    risk-checked first (original and edit): if it worries the check the quote is withdrawn instead, kept out
    of every report, and raised as an alert (audited as quote.withdraw; the view's status is "withdrawn").
    `guard` (admin.quote_safety.QuoteGuard) brings the notifier; without one the alert record is written and
    the escalation job sends its notice.
    """
    from admin.quote_safety import QuoteGuard, screen
    from admin.reports.scrub import scrub

    authorise(actor, "quote.decide")
    if text is not None:
        text = scrub(text.strip())
        if not text:
            raise Invalid("the quote is empty")
        current = quotes.get(s, quote_id)
        if current is not None and not quotes.removes_only(current.text, text):
            # Issue #19: staff may take words out or redact them, never put words in a young person's mouth.
            raise Invalid("an edited quote may only take words out (or replace them with [removed]), never add any")
    if approve:
        _refuse_untranslated(s, quote_id)
        ref = screen(s, guard or QuoteGuard.record_only(), quote_id, text, by=actor.username, now=now)
        if ref is not None:
            record(s, actor, "quote.withdraw", target=f"quote:{quote_id}", detail=f"alert={ref}", now=now)
            return quotes.withdraw(s, quote_id, by=actor.username, now=now)
    status = "approved" if approve else "rejected"
    view = quotes.decide(s, quote_id, status=status, by=actor.username, now=now, text=text)
    if view is None:
        raise NotFound(f"no quote {quote_id}")
    record(
        s,
        actor,
        "quote.approve" if approve else "quote.reject",
        target=f"quote:{quote_id}",
        detail="edited" if text is not None else "",
        now=now,
    )
    return view


def quote_language(text: str) -> str:
    """The language a quote is written in (issue 24): "en", a locale code, or "und"."""
    from bot.language_id import identify

    return identify(text).locale


def _refuse_untranslated(s: Any, quote_id: int) -> None:
    """Free text in another language is marked for translation: it cannot be approved as a quote (nor read
    by the English checks a report relies on) until a qualified translator's English wording exists."""
    from bot.language_check import language_name

    found = quotes.screening(s, quote_id)
    if found is None:
        return
    lang = quote_language(found[0])
    if lang != "en":
        raise Invalid(
            f"this answer is written in {language_name(lang)} ({lang}): it is marked for translation and cannot be "
            "quoted until a qualified translator has put it into English"
        )


def decide_good_news(s: Any, actor: Actor, item_id: int, *, approve: bool, now: datetime) -> Any:
    """Approve or reject good news in the actor's districts (the good-news store writes the one audit row,
    goodnews.approved or goodnews.rejected)."""
    authorise(actor, "goodnews.decide")
    found = admin_views.good_news_district(s, item_id)
    where = None if found is admin_views.MISSING else districts_of(found if isinstance(found, str) else None)
    require_scope(actor, where, f"shareable good news with id {item_id}", change=True)
    try:
        return good_news.decide(s, item_id, approve=approve, staff=actor.username, now=now)
    except good_news.GoodNewsError as exc:
        raise Invalid(str(exc)) from None
