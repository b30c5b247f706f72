"""Start-up check that safeguarding alerts can reach a person, and the console route used in demo mode.

Owns only the check and the demo route; sending, retries and the spool stay in bot/alerts.py. Never prints
or logs anything a participant wrote: a notice carries references, times and categories only.
"""

from __future__ import annotations

import smtplib
import sys
from typing import TextIO

from bot.alerts import AlertNotice, AlertNotifier, EmailRoute, NoticeRoute, Recipient, StaffNotice

NO_ROUTE = (
    "refusing to start: no safeguarding alert route is configured, so a disclosure would reach nobody. "
    "Set OURVOICE_ALERT_EMAIL_TO (with OURVOICE_SMTP_HOST and OURVOICE_SMTP_PORT) or "
    "OURVOICE_SLACK_STAFF_CHANNEL; for a demo on your own machine set OURVOICE_DEMO=true"
)


class ConsoleRoute:
    """Demo mode only: says on the console that an alert was raised and where staff read it (the admin)."""

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    def send(self, notice: AlertNotice | StaffNotice, recipient: str) -> None:
        where = getattr(notice, "admin_url", "") or "the admin's Alerts page"
        out = self.stream or sys.stdout
        out.write(f"[demo] {notice.subject()}: no alert inbox is configured, so it is shown in the admin: {where}\n")
        out.flush()


def demo_recipients(recipients: list[Recipient]) -> list[Recipient]:
    """The console route, when nothing else is first contact for alerts (demo mode)."""
    if any(r.level == 0 for r in recipients):
        return []
    return [Recipient(ConsoleRoute(), "console", level=0)]


def probe(route: NoticeRoute, timeout: float) -> None:
    """Raise if a route cannot take a notice now (email: the relay answers, and accepts our login)."""
    if isinstance(route, EmailRoute):
        with smtplib.SMTP(route.host, route.port, timeout=timeout) as smtp:
            if route.starttls:
                smtp.starttls()
            if route.username:
                smtp.login(route.username, route.password)
            smtp.noop()
    # Other routes (the Slack staff channel) are taken as working once configured: they retry on their own.


def alert_route_problem(notifier: AlertNotifier, *, demo: bool, timeout: float = 5.0) -> str | None:
    """One line saying why alerts would reach nobody, or None when a first-contact route works (or demo mode)."""
    first = [r for r in notifier.recipients if r.level == 0 and not isinstance(r.route, ConsoleRoute)]
    failed: list[str] = []
    tried: dict[int, str | None] = {}
    for r in first:
        key = id(r.route)
        if key not in tried:
            try:
                probe(r.route, timeout)
                tried[key] = None
            except (OSError, smtplib.SMTPException) as exc:
                tried[key] = f"{r.route.name}: {type(exc).__name__}"
        if tried[key] is None:
            return None
        failed.append(tried[key] or "")
    if demo:
        return None
    if not first:
        return NO_ROUTE
    return (
        "refusing to start: no safeguarding alert route works ("
        + "; ".join(sorted(set(failed)))
        + "). Check OURVOICE_SMTP_HOST, OURVOICE_SMTP_PORT and the relay, or set OURVOICE_SLACK_STAFF_CHANNEL"
    )
