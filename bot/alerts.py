"""Safeguarding alert delivery that never depends on the bot's database.

Notices carry an alert reference, categories and a time: never the child's words. They go out
through every configured route (email, staff chat) from a background thread, with retries; alert
records that could not be written because the database was down wait in a spool file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import queue
import secrets
import smtplib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

log = logging.getLogger("ourvoice.alerts")

_KINDS = {
    "new": "Safeguarding alert",
    "reminder": "Reminder: unacknowledged alert",
    "escalation": "ESCALATED: unacknowledged alert",
    "test": "Test notice (no action needed)",
}

# What an alert notice says about the council case-system reference: that one exists, never what it is.
_COUNCIL_REF = {
    True: "on record; a safeguarding lead can reveal it on the alert page (audited)",
    False: "none on record; you can still reply to the young person from the alert page",
    None: "if the young person has one, a safeguarding lead can reveal it on the alert page (audited)",
}


def new_alert_ref(now: datetime, key: str | None = None) -> str:
    """A staff-quotable alert reference such as ``A-261124-K7QM3XPD``.

    With `key` (a keyed hash of channel, sender and message id) the reference is the same for a
    redelivered message, so a retried delivery never produces a second, orphaned alert.
    """
    raw = hashlib.sha256(key.encode()).digest() if key else secrets.token_bytes(8)
    suffix = base64.b32encode(raw).decode()[:8]
    return f"A-{now:%y%m%d}-{suffix}"


@dataclass(frozen=True)
class AlertNotice:
    alert_ref: str
    categories: tuple[str, ...]
    at: str  # ISO time the alert was raised, local to the council
    kind: str = "new"  # new | reminder | escalation | test
    level: int = 0
    case_ref: str = ""
    admin_url: str = ""
    overdue_minutes: int = 0  # for escalations: how long it has waited for an acknowledgement
    # Whether the young person has a council case-system reference on record: True, False, or None when
    # not looked up (the first notice leaves before the database is read). Never the reference itself.
    council_ref: bool | None = None

    def subject(self) -> str:
        return f"[ourvoice] {_KINDS.get(self.kind, 'Safeguarding alert')} {self.alert_ref}"

    def body(self) -> str:
        """Plain text for email and staff chat: references, times and categories only."""
        lines = [
            f"Alert reference: {self.alert_ref}",
            f"ourvoice reference: {self.case_ref or 'shown on the alert page'}",
            f"Council case reference: {_COUNCIL_REF[self.council_ref]}",
            f"Raised at: {self.at}",
            f"Categories: {', '.join(self.categories) or 'unspecified'}",
            *_language_lines(self.categories),
            f"Escalation level: {self.level}",
        ]
        if self.kind == "escalation":
            lines.append(f"Not acknowledged after {self.overdue_minutes} minutes.")
        lines += [
            "",
            "A young person's message suggested a risk of harm. They have been given help numbers.",
            "Read the message and record what you did in the ourvoice admin (reading it is audited).",
            f"Acknowledge: ourvoice alerts ack {self.alert_ref} --staff YOUR-USERNAME",
        ]
        if self.admin_url:
            lines.append(f"Open: {self.admin_url}")
        return "\n".join(lines)


class NoticeRoute(Protocol):
    """A way to reach the duty rota: email, a staff chat channel."""

    name: str

    def send(self, notice: AlertNotice, recipient: str) -> None: ...


class EmailRoute:
    """Sends notices as plain-text email through an SMTP relay (optionally STARTTLS and login)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float = 10.0,
        *,
        starttls: bool = False,
        username: str = "",
        password: str = "",
    ) -> None:
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.starttls, self.username, self.password = starttls, username, password

    def send(self, notice: AlertNotice, recipient: str) -> None:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = recipient
        msg["Subject"] = notice.subject()
        msg.set_content(notice.body())
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password)
            smtp.send_message(msg)


@dataclass(frozen=True)
class StaffNotice:
    """A staff notification that is not a safeguarding alert: a challenge card awaiting triage, a weekly
    digest, a report ready. Same shape as AlertNotice where routes look (alert_ref, kind, level, subject(),
    body()); `rt.notifier.notify(StaffNotice(...))` hands it only to recipients that take staff notices (the
    Slack staff channel), never to the safeguarding inboxes. Lines carry counts and references only, never
    anything a participant wrote.
    """

    kind: str  # card | approvals | digest | report
    title: str
    lines: tuple[str, ...] = ()
    link: str = ""
    ref: str = ""
    level: int = 0

    @property
    def alert_ref(self) -> str:
        return self.ref or self.kind

    def subject(self) -> str:
        return f"[ourvoice] {self.title}"

    def body(self) -> str:
        return "\n".join([*self.lines, *([f"Open: {self.link}"] if self.link else [])])

    @classmethod
    def card_awaiting_triage(
        cls, card_ref: str, council: str, link: str, *, personal: bool = False, held: bool = False
    ) -> StaffNotice:
        lines = [f"Council: {council or 'not given'}"]
        if personal:
            lines.append("The young person said it is about their own situation: it may go to their worker.")
        if held:
            lines.append("Held back from other young people: safeguarding flagged something in it.")
        return cls("card", f"New challenge card {card_ref} is waiting for triage", tuple(lines), link, card_ref)

    @classmethod
    def weekly_digest(cls, week: str, counts: dict[str, int] | dict[str, str], link: str) -> StaffNotice:
        return cls(
            "digest",
            f"Weekly digest, week of {week}",
            tuple(f"{k}: {v}" for k, v in counts.items()),
            link,
            f"digest-{week}",
        )

    @classmethod
    def approvals_waiting(cls, counts: dict[str, str], link: str) -> StaffNotice:
        return cls(
            "approvals",
            "Approvals waiting",
            tuple(f"{k}: {v}" for k, v in counts.items()),
            link,
            "approvals",
        )

    @classmethod
    def report_ready(cls, name: str, link: str) -> StaffNotice:
        return cls(
            "report",
            f"Report ready: {name}",
            ("The report is ready to check in the admin.",),
            link,
            f"report-{name}",
        )


@dataclass
class Recipient:
    route: NoticeRoute
    address: str
    level: int = 0  # 0 = first contact; 1+ = escalation contacts
    staff_notices: bool = False  # also takes StaffNotices (new cards, digests, reports): the staff channel


class AlertNotifier:
    """Sends notices on a background thread, retrying until each route accepts them."""

    _SEEN_LIMIT = 1000

    def __init__(
        self, recipients: list[Recipient], *, retry_seconds: float = 2.0, max_tries: int = 50
    ) -> None:
        self.recipients = recipients
        self.retry_seconds = retry_seconds
        self.max_tries = max_tries
        self._queue: queue.Queue[tuple[AlertNotice, Recipient, int] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._seen: OrderedDict[tuple[str, str, int], None] = OrderedDict()
        self.delivered: list[tuple[str, str]] = []  # (alert_ref, route name): for status pages and tests
        self.on_failure: Callable[[AlertNotice, Exception], None] | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="alert-notifier", daemon=True)
                self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    @property
    def has_staff_channel(self) -> bool:
        """Whether any route takes StaffNotices (jobs that post them wait until one does)."""
        return any(r.staff_notices for r in self.recipients)

    def notify(self, notice: AlertNotice | StaffNotice) -> int:
        """Queue a notice for every recipient at or below its escalation level; returns how many.

        A new-alert notice for a reference already sent by this process (a redelivered message) is
        not sent twice.
        """
        if notice.kind == "new":
            key = (notice.alert_ref, notice.kind, notice.level)
            with self._lock:
                if key in self._seen:
                    log.info("alert.duplicate_suppressed ref=%s", notice.alert_ref)
                    return 0
                self._seen[key] = None
                while len(self._seen) > self._SEEN_LIMIT:
                    self._seen.popitem(last=False)
        if isinstance(notice, StaffNotice):
            staff = [r for r in self.recipients if r.staff_notices]
            if not staff:
                log.info("staff_notice.no_staff_channel kind=%s", notice.kind)
                return 0
            self.start()
            for r in staff:
                self._queue.put((notice, r, 0))  # type: ignore[arg-type]
            return len(staff)
        # A notice may name the routes it suits and the lowest rota level it is for (the "To read"
        # escalation goes only to the escalation inbox, by email).
        routes = getattr(notice, "routes", None)
        lowest = getattr(notice, "min_level", 0)
        targets = [
            r for r in self.recipients
            if lowest <= r.level <= notice.level and (routes is None or r.route.name in routes)
        ]
        if not targets:
            # Nobody configured: shout in the logs so monitoring catches it (the record still exists).
            log.critical("alert.no_recipients ref=%s level=%d", notice.alert_ref, notice.level)
            return 0
        self.start()
        for r in targets:
            self._queue.put((notice, r, 0))
        return len(targets)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(*item)
            finally:
                self._queue.task_done()

    def _deliver(self, notice: AlertNotice, recipient: Recipient, tries: int) -> None:
        try:
            recipient.route.send(notice, recipient.address)
            self.delivered.append((notice.alert_ref, recipient.route.name))
            log.info(
                "alert.notified ref=%s route=%s kind=%s level=%d",
                notice.alert_ref, recipient.route.name, notice.kind, notice.level,
            )
        except Exception as exc:
            log.warning(
                "alert.notify_failed ref=%s route=%s try=%d error=%s",
                notice.alert_ref, recipient.route.name, tries, type(exc).__name__,
            )
            if tries + 1 < self.max_tries:
                retry = (notice, recipient, tries + 1)
                # Back off (2 s, 4 s, ... capped at 5 minutes) so a relay outage of hours is ridden out.
                delay = min(self.retry_seconds * 2 ** min(tries, 10), 300.0)
                timer = threading.Timer(delay, self._queue.put, args=(retry,))
                timer.daemon = True
                timer.start()
            else:
                log.critical("alert.notify_gave_up ref=%s route=%s", notice.alert_ref, recipient.route.name)
                if self.on_failure:
                    self.on_failure(notice, exc)

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until every queued notice has been tried once (for tests and clean shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks


class AlertSpool:
    """Alert records waiting for the database: one JSON line each, the text already encrypted.

    Draining claims the file by renaming it, so two processes never write the same batch twice, and
    the records leave the spool only once the caller's block (writing them to the database) succeeds.
    """

    def __init__(self, directory: Path | str) -> None:
        self.path = Path(directory) / "alerts.jsonl"
        self._lock = threading.Lock()

    def put(self, record: dict) -> bool:
        """Append one record; never raises (a failure is logged as critical and returns False)."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock, self.path.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps(record) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            return True
        except OSError as exc:
            ref = record.get("alert_ref", "?")
            log.critical("alert.spool_failed ref=%s error=%s", ref, type(exc).__name__)
            return False

    def pending(self) -> bool:
        """Whether anything is waiting (cheap: for the hot path)."""
        return self.path.exists() or any(self._orphans())

    def _orphans(self) -> Iterator[Path]:
        """Claim files left by a process that died while draining."""
        if not self.path.parent.is_dir():
            return
        for p in self.path.parent.glob("alerts.*.draining"):
            try:
                pid = int(p.name.split(".")[1])
            except (IndexError, ValueError):
                continue
            if pid != os.getpid() and not _alive(pid):
                yield p

    @contextmanager
    def draining(self) -> Iterator[list[dict]]:
        """Yield the waiting records; they are removed only if the block finishes without an error."""
        claimed: list[Path] = []
        with self._lock:
            mine = self.path.with_name(f"alerts.{os.getpid()}.{secrets.token_hex(4)}.draining")
            try:
                os.rename(self.path, mine)
                claimed.append(mine)
            except FileNotFoundError:
                pass
            for orphan in list(self._orphans()):
                target = self.path.with_name(f"alerts.{os.getpid()}.{secrets.token_hex(4)}.draining")
                try:
                    os.rename(orphan, target)
                    claimed.append(target)
                except FileNotFoundError:
                    continue  # another process adopted it first
        records: list[dict] = []
        for p in claimed:
            for line in p.read_text(encoding="utf-8", errors="replace").splitlines():
                if line.strip():
                    try:
                        records.append(json.loads(line))
                    except ValueError:
                        # A torn write (crash mid-line): keep it aside for a human instead of looping on it.
                        with self.path.with_name("alerts.unreadable").open("a", encoding="utf-8") as bad:
                            bad.write(line + "\n")
                        log.critical("alert.spool_unreadable_line file=%s", p.name)
        try:
            yield records
        except BaseException:
            restored = [self.put(rec) for rec in records]
            if all(restored):
                for p in claimed:
                    p.unlink(missing_ok=True)
            raise
        for p in claimed:
            p.unlink(missing_ok=True)

    def take_all(self) -> list[dict]:
        """Read and clear the spool; the caller writes the records or puts them back."""
        with self.draining() as records:
            return records


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def notice_dict(notice: AlertNotice) -> dict:
    return asdict(notice)


def _language_lines(categories: tuple[str, ...]) -> list[str]:
    """"Message language: Arabic (ar)" for a message not in English (issue 24): who reads it needs to know
    whether to find an interpreter before they open it."""
    from bot.language_check import LANGUAGE_TAG, language_name

    return [
        f"Message language: {language_name(c[len(LANGUAGE_TAG):])} ({c[len(LANGUAGE_TAG):]}): arrange an interpreter"
        for c in categories
        if c.startswith(LANGUAGE_TAG)
    ]
