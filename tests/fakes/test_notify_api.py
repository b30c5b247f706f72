"""The Notify stand-in answers the official client as GOV.UK Notify does: templates by id, references kept and
readable back, Notify's refusals (not a UK mobile, unknown template, bad token) and an outage on demand."""

from __future__ import annotations

import pytest
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from tests.fakes.notify_api import API_KEY, SERVICE_ID, NotifyStandIn

SMS, EMAIL = "a1111111-1111-4111-8111-111111111111", "b2222222-2222-4222-8222-222222222222"


@pytest.fixture
def notify():
    with NotifyStandIn(templates={SMS: "sms", EMAIL: "email"}) as stand_in:
        yield stand_in


def test_sms_and_email_by_template_id_with_references(notify: NotifyStandIn) -> None:
    client = NotificationsAPIClient(API_KEY, base_url=notify.base_url)
    sms = client.send_sms_notification("07700 900123", SMS, personalisation={"link": "x"}, reference="ov-1")
    mail = client.send_email_notification("carer@example.org", EMAIL, reference="ov-2")
    assert [s.reference for s in notify.sent] == ["ov-1", "ov-2"]
    assert (notify.sent[0].kind, notify.sent[0].template_id, notify.sent[0].personalisation) == ("sms", SMS, {"link": "x"})
    back = client.get_notification_by_id(sms["id"])
    assert (back["reference"], back["status"]) == ("ov-1", "delivered")
    assert mail["reference"] == "ov-2"


def test_refusals_in_notifys_own_words(notify: NotifyStandIn) -> None:
    client = NotificationsAPIClient(API_KEY, base_url=notify.base_url)
    with pytest.raises(HTTPError) as bad_number:
        client.send_sms_notification("01227 123456", SMS)  # a landline
    assert bad_number.value.status_code == 400
    assert "Not a UK mobile number" in str(bad_number.value.message)
    with pytest.raises(HTTPError) as bad_template:
        client.send_sms_notification("07700900123", EMAIL)
    assert "Template not found" in str(bad_template.value.message)
    wrong_key = f"other-{SERVICE_ID}-00000000-0000-4000-8000-000000000000"
    with pytest.raises(HTTPError) as refused:
        NotificationsAPIClient(wrong_key, base_url=notify.base_url).send_sms_notification("07700900123", SMS)
    assert refused.value.status_code == 403
    assert notify.sent == []


def test_an_outage_answers_500_then_recovers(notify: NotifyStandIn) -> None:
    client = NotificationsAPIClient(API_KEY, base_url=notify.base_url)
    notify.fail_next = 1
    with pytest.raises(HTTPError) as down:
        client.send_sms_notification("07700900123", SMS, reference="r")
    assert down.value.status_code == 500
    client.send_sms_notification("07700900123", SMS, reference="r")
    assert len(notify.sent) == 1


def test_outcomes_are_answered_by_status_and_sent_as_callbacks_with_the_bearer_token(notify: NotifyStandIn) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    got: list[tuple[str, dict]] = []

    class Receiver(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            got.append((self.headers["Authorization"], body))
            self.send_response(200 if self.headers["Authorization"] == "Bearer right-token-123" else 401)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        notify.outcomes = {"07700900999": "permanent-failure"}
        notify.callback_url = f"http://127.0.0.1:{server.server_address[1]}/notify/receipts"
        notify.callback_token = "right-token-123"
        client = NotificationsAPIClient(API_KEY, base_url=notify.base_url)
        gone = client.send_sms_notification("07700900999", SMS, reference="ov-9")
        assert client.get_notification_by_id(gone["id"])["status"] == "permanent-failure"
        assert notify.send_receipts(token="wrong") == [401]  # not reported: tried again with the right one
        assert notify.send_receipts() == [200]
        assert notify.send_receipts() == []  # each once
    finally:
        server.shutdown()
        server.server_close()
    auth, body = got[-1]
    assert auth == "Bearer right-token-123"
    assert {k: body[k] for k in ("id", "reference", "status", "notification_type", "template_id")} == {
        "id": gone["id"], "reference": "ov-9", "status": "permanent-failure", "notification_type": "sms",
        "template_id": SMS}
