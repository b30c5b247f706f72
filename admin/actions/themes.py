"""Theme summaries (issue 19, 6): staff write a short summary of what young people said to one question in
one calendar quarter; the report shows it above that question's quotes. Audited as theme.write.

Only roles that approve quotes may write one (the summary stands beside the quotes they chose). The words
are staff's own, about many answers: checked for the same identifiers the quote scrubber removes, so a
summary cannot name anyone either.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from admin.actions.policy import Actor, Invalid, authorise, record

MAX_CHARS = 600  # a few sentences: a summary, not a transcript


def write_theme(
    s: Any,
    library: Any,
    actor: Actor,
    *,
    topic_id: str,
    question_id: str,
    since: date,
    until: date,
    summary: str,
    settings: Any,
    now: datetime,
) -> Any:
    """Set (or, with empty words, remove) the summary for one topic question over one fixed period."""
    from admin.reports import catalog
    from admin.reports.periods import PeriodRefused, check
    from admin.reports.scrub import scrub
    from storage import themes

    authorise(actor, "theme.write")
    flow = library.flows.get(topic_id)
    known = {q.question_id for q in catalog.questions(flow, include_text=True)} if flow is not None else set()
    if flow is None or flow.kind == "menu" or question_id not in known:
        raise Invalid("choose a topic and one of its questions")
    try:
        kind = check(since, until, settings)
    except PeriodRefused as exc:
        raise Invalid(str(exc)) from None
    if kind != "quarter":  # answers are published per quarter only, so a month's summary would sit under nothing
        raise Invalid("write a theme summary for a whole calendar quarter (e.g. 2026-Q3): answers to questions are "
                      "counted per quarter")
    words = " ".join(summary.split())
    if len(words) > MAX_CHARS:
        raise Invalid(f"keep the summary to {MAX_CHARS} characters or fewer")
    cleaned = scrub(words) if words else words
    if cleaned != words:  # say what the scrubber would take out, so staff can reword it (e.g. "wifi")
        raise Invalid(f"the summary may name a person, place, school or contact detail: {cleaned}")
    stored = themes.set_summary(s, topic_id, question_id, (since, until), words, by=actor.username, now=now)
    record(
        s, actor, "theme.write", target=f"theme:{topic_id}/{question_id}",
        detail=f"since={since} until={until} {'set' if words else 'removed'}", now=now,
    )
    return stored
