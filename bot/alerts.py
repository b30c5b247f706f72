"""Safeguarding alert delivery that never depends on the bot's database.

Notices carry an alert reference, categories and a time: never the child's words. They go out
through every configured route (email, staff chat) from a background thread, with retries; alert
records that could not be written because the database was down wait in a spool file.
"""

from __future__ import annotations

import json
import logging
import queue
import secrets
import smtplib
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger("ourvoice.alerts")


def new_alert_ref(now: datetime) -> str:
    return f"A-{now:%y%m%d}-{secrets.token_hex(3).upper()}"


@dataclass(frozen=True)
class AlertNotice:
    alert_ref: str
    categories: tuple[str, ...]
    at: str  # ISO time, local to the council
    kind: str = "new"  # new | reminder | escalation
    level: int = 0
    case_ref: str = ""
    admin_url: str = ""

    def subject(self) -> str:
        label = {"new": "Safeguarding alert", "reminder": "Reminder: unacknowledged alert",
                 "escalation": "ESCALATED: unacknowledged alert"}[self.kind]
        return f"[ourvoice] {label} {self.alert_ref}"

    def body(self) -> str:
        lines = [
            f"Alert reference: {self.alert_ref}",
            f"Case reference: {self.case_ref or 'not yet known'}",
            f"Raised at: {self.at}",
            f"Categories: {', '.join(self.categories) or 'unspecified'}",
            f"Escalation level: {self.level}",
            "",
            "A young person's message suggested a risk of harm. They have been given help numbers.",
            "Read the message and record what you did in the ourvoice admin (reading it is audited).",
        ]
        if self.admin_url:
            lines.append(f"Open: {self.admin_url}")
        return "\n".join(lines)


class NoticeRoute(Protocol):
    """A way to reach the duty rota: email, a staff chat channel."""

    name: str

    def send(self, notice: AlertNotice, recipient: str) -> None: ...


class EmailRoute:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout

    def send(self, notice: AlertNotice, recipient: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = recipient
        msg["Subject"] = notice.subject()
        msg.set_content(notice.body())
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            smtp.send_message(msg)


@dataclass
class Recipient:
    route: NoticeRoute
    address: str
    level: int = 0  # 0 = first contact; 1+ = escalation contacts


class AlertNotifier:
    """Sends notices on a background thread, retrying until each route accepts them."""

    def __init__(self, recipients: list[Recipient], *, retry_seconds: float = 2.0, max_tries: int = 50) -> None:
        self.recipients = recipients
        self.retry_seconds = retry_seconds
        self.max_tries = max_tries
        self._queue: queue.Queue[tuple[AlertNotice, Recipient, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.delivered: list[tuple[str, str]] = []  # (alert_ref, route name): for status pages and tests
        self.on_failure: Callable[[AlertNotice, Exception], None] | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="alert-notifier", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    def notify(self, notice: AlertNotice) -> None:
        """Queue a notice for every recipient at or below its escalation level."""
        self.start()
        for r in self.recipients:
            if r.level <= notice.level:
                self._queue.put((notice, r, 0))

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            notice, recipient, tries = item
            try:
                recipient.route.send(notice, recipient.address)
                self.delivered.append((notice.alert_ref, recipient.route.name))
                log.info("alert.notified ref=%s route=%s kind=%s", notice.alert_ref, recipient.route.name, notice.kind)
            except Exception as exc:  # noqa: BLE001 - any failure means try again later
                log.warning("alert.notify_failed ref=%s route=%s try=%d", notice.alert_ref, recipient.route.name, tries)
                if tries + 1 < self.max_tries:
                    threading.Timer(self.retry_seconds, self._queue.put, args=((notice, recipient, tries + 1),)).start()
                elif self.on_failure:
                    self.on_failure(notice, exc)

    def wait_idle(self, timeout: float = 5.0) -> None:
        """Block until the queue is empty (for tests and clean shutdown)."""
        deadline = time.monotonic() + timeout
        while not self._queue.empty() and time.monotonic() < deadline:
            time.sleep(0.01)


class AlertSpool:
    """Alert records waiting for the database: one JSON line each, the text already encrypted."""

    def __init__(self, directory: Path) -> None:
        self.path = Path(directory) / "alerts.jsonl"
        self._lock = threading.Lock()

    def put(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
            fh.flush()

    def take_all(self) -> list[dict]:
        """Read and clear the spool; the caller writes the records or puts them back."""
        with self._lock:
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
            self.path.unlink()
        return [json.loads(line) for line in lines if line.strip()]


def notice_dict(notice: AlertNotice) -> dict:
    return asdict(notice)
