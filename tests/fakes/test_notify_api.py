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
