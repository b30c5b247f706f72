"""An SMTP sink on 127.0.0.1 (aiosmtpd in a background thread) that keeps every message it receives.

Owns parsing received mail into ``EmailMessage`` objects and stopping/restarting on the same port
so tests can simulate the mail server being down.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


@dataclass(frozen=True)
class Delivery:
    """The SMTP envelope of one received message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self._sink.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode()
        message = cast(EmailMessage, email.message_from_bytes(raw, policy=email.policy.default))
        delivery = Delivery(str(envelope.mail_from or ""), tuple(envelope.rcpt_tos))
        self._sink._record(message, delivery)
        return "250 Message accepted for delivery"


class SmtpSink:
    """Context manager: ``with SmtpSink() as sink:`` serves SMTP on ``sink.host:sink.port``."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, *, refuse: tuple[str, ...] = ()) -> None:
        self.host = host
        self.refuse = {a.lower() for a in refuse}  # recipients answered "550 no such mailbox"
        self.port = port if port is not None else _free_port(host)
        self.messages: list[EmailMessage] = []
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    def __enter__(self) -> SmtpSink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        """Start (or restart, on the same port) the SMTP server; no-op if already running."""
        if self._controller is not None:
            return
        # A fresh Controller each time: a stopped one has closed its event loop.
        controller = Controller(_Handler(self), hostname=self.host, port=self.port, ready_timeout=5.0)
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Stop accepting connections (connection attempts are then refused); keeps received mail."""
        if self._controller is None:
            return
        controller, self._controller = self._controller, None
        controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.deliveries.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until at least ``count`` messages have arrived; returns a snapshot of them."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
                have = len(self.messages)
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"SmtpSink.wait_for: expected {count} message(s) within {timeout}s, got {have}"
                )
            time.sleep(0.01)

    async def wait_for_async(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:  # noqa: ASYNC109
        """Like :meth:`wait_for` but yields to the event loop, for async tests whose code sends mail."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
                have = len(self.messages)
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"SmtpSink.wait_for_async: expected {count} message(s) within {timeout}s, got {have}"
                )
            await asyncio.sleep(0.01)

    def _record(self, message: EmailMessage, delivery: Delivery) -> None:
        with self._lock:
            self.messages.append(message)
            self.deliveries.append(delivery)

    def __repr__(self) -> str:
        state: dict[str, Any] = {"host": self.host, "port": self.port, "running": self.running}
        return f"SmtpSink({state}, messages={len(self.messages)})"
