"""A loopback stand-in for the GOV.UK Notify REST API (v2), enough for the official Python client.

Serves POST /v2/notifications/sms and /v2/notifications/email and GET /v2/notifications/{id} on 127.0.0.1, checks
the client's JSON Web Token (HS256, signed with the API key's secret, `iss` = the service id) as Notify does, knows
its templates by id, refuses what Notify refuses with Notify's error shape (400 ValidationError for a number that
is not a UK mobile or a bad email address, 400 BadRequestError for an unknown template, 403 AuthError for a bad
token), and can be told to answer the next N sends with 500 (a Notify outage). Keeps every accepted notification.

Delivery receipts as Notify gives them: `outcomes` says what becomes of a notification to an address (default
"delivered"; e.g. "permanent-failure" for a number that no longer exists); GET answers that status, and
`send_receipts()` makes Notify's callback to `callback_url` with `Authorization: Bearer <callback_token>` and
Notify's body (id, reference, to, status, times, notification_type, template_id) for each not yet reported.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

SERVICE_ID = "7c1a2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
SECRET = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
API_KEY = f"ourvoice_test-{SERVICE_ID}-{SECRET}"
UK_MOBILE = re.compile(r"^(?:\+44\s?7|0044\s?7|07)\d{3}\s?\d{6}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass
class Sent:
    """One notification Notify accepted."""

    id: str
    kind: str  # sms | email
    to: str
    template_id: str
    personalisation: dict[str, Any]
    reference: str | None
    status: str = "delivered"


@dataclass
class NotifyStandIn:
    """Context manager: ``with NotifyStandIn(templates={...}) as notify:`` serves on ``notify.base_url``."""

    templates: dict[str, str] = field(default_factory=dict)  # id -> sms | email
    sent: list[Sent] = field(default_factory=list)
    fail_next: int = 0  # answer this many sends with 500 before accepting again
    requests: int = 0
    outcomes: dict[str, str] = field(default_factory=dict)  # address -> final status (default delivered)
    callback_url: str = ""
    callback_token: str = ""
    reported: set[str] = field(default_factory=set)  # ids whose receipt was sent
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> NotifyStandIn:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict[str, Any]) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _authorised(self) -> bool:
                header = self.headers.get("Authorization", "")
                token = header.removeprefix("Bearer ")
                try:
                    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["iss", "iat"]})
                except jwt.PyJWTError:
                    claims = {}
                if claims.get("iss") != SERVICE_ID:
                    self._answer(403, {"status_code": 403, "errors": [
                        {"error": "AuthError", "message": "Invalid token: signature, api token not found"}]})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                m = re.fullmatch(r"/v2/notifications/([0-9a-f-]+)", self.path)
                found = next((s for s in stand_in.sent if m and s.id == m.group(1)), None)
                if found is None:
                    self._answer(404, {"status_code": 404, "errors": [
                        {"error": "NoResultFound", "message": "No result found"}]})
                    return
                self._answer(200, {"id": found.id, "reference": found.reference, "type": found.kind,
                                   "status": found.status, "template": {"id": found.template_id}})

            def do_POST(self) -> None:
                with stand_in._lock:
                    stand_in.requests += 1
                if not self._authorised():
                    return
                kind = {"/v2/notifications/sms": "sms", "/v2/notifications/email": "email"}.get(self.path)
                if kind is None:
                    self._answer(404, {"status_code": 404, "errors": [{"error": "NotFound", "message": "Not found"}]})
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                with stand_in._lock:
                    if stand_in.fail_next > 0:
                        stand_in.fail_next -= 1
                        self._answer(500, {"status_code": 500, "errors": [
                            {"error": "Exception", "message": "Internal server error"}]})
                        return
                to = body.get("phone_number") if kind == "sms" else body.get("email_address")
                if kind == "sms" and not UK_MOBILE.match(str(to or "").strip()):
                    self._answer(400, {"status_code": 400, "errors": [
                        {"error": "ValidationError", "message": "phone_number Not a UK mobile number"}]})
                    return
                if kind == "email" and not EMAIL.match(str(to or "")):
                    self._answer(400, {"status_code": 400, "errors": [
                        {"error": "ValidationError", "message": "email_address Not a valid email address"}]})
                    return
                template = body.get("template_id")
                if stand_in.templates.get(template) != kind:
                    self._answer(400, {"status_code": 400, "errors": [
                        {"error": "BadRequestError", "message": "Template not found"}]})
                    return
                sent = Sent(str(uuid.uuid4()), kind, str(to), template, dict(body.get("personalisation") or {}),
                            body.get("reference"), stand_in.outcomes.get(str(to), "delivered"))
                with stand_in._lock:
                    stand_in.sent.append(sent)
                self._answer(201, {"id": sent.id, "reference": sent.reference, "template": {"id": template},
                                   "uri": f"{stand_in.base_url}/v2/notifications/{sent.id}"})

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="notify-stand-in").start()
        return self

    def send_receipts(self, token: str | None = None) -> list[int]:
        """Notify's delivery-receipt callback for every notification not reported yet (with `token` instead of the
        configured one, to try a wrong one); the HTTP status of each call."""
        answers = []
        for s in [s for s in self.sent if s.id not in self.reported]:
            body = {"id": s.id, "reference": s.reference, "to": s.to, "status": s.status,
                    "created_at": "2026-12-01T10:00:00.000000Z", "completed_at": "2026-12-01T10:00:05.000000Z",
                    "sent_at": "2026-12-01T10:00:01.000000Z", "notification_type": s.kind,
                    "template_id": s.template_id, "template_version": 1}
            request = urllib.request.Request(
                self.callback_url, data=json.dumps(body).encode(), method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {self.callback_token if token is None else token}"})
            try:
                with urllib.request.urlopen(request, timeout=10) as answer:
                    answers.append(answer.status)
                    self.reported.add(s.id)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        return answers

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
