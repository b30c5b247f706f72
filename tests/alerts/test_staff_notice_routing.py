"""StaffNotices (new cards, digests, reports) go only to routes that take them, never to alert inboxes."""

from __future__ import annotations

from bot.alerts import AlertNotice, AlertNotifier, Recipient, StaffNotice


class Recording:
    def __init__(self, name: str) -> None:
        self.name = name
        self.got: list[tuple[str, str]] = []

    def send(self, notice: AlertNotice | StaffNotice, recipient: str) -> None:
        self.got.append((notice.kind, recipient))


def test_staff_notices_skip_the_safeguarding_inboxes_and_alerts_reach_both() -> None:
    email, slack = Recording("email"), Recording("slack")
    notifier = AlertNotifier([
        Recipient(email, "duty@council.example", level=0),
        Recipient(email, "head@council.example", level=1),
        Recipient(slack, "C0STAFF", level=0, staff_notices=True),
    ])
    assert notifier.has_staff_channel
    try:
        assert notifier.notify(StaffNotice.report_ready("Panel update", "https://ov.example/admin/reports")) == 1
        alert = AlertNotice(alert_ref="A-1", categories=("harm",), at="2026-12-03T10:00+00:00")
        assert notifier.notify(alert) == 2  # first contacts: the duty inbox and the staff channel
        assert notifier.wait_idle()
    finally:
        notifier.stop()
    assert email.got == [("new", "duty@council.example")]
    assert sorted(slack.got) == [("new", "C0STAFF"), ("report", "C0STAFF")]


def test_no_staff_route_means_no_staff_notice() -> None:
    email = Recording("email")
    notifier = AlertNotifier([Recipient(email, "duty@council.example")])
    assert not notifier.has_staff_channel
    assert notifier.notify(StaffNotice.report_ready("Panel update", "")) == 0
    notifier.stop()
    assert email.got == []
