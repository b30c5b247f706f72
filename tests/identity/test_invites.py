"""Invite codes: every state of a code, rate limits, nothing stored for strangers, the privacy notice."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.identity import ALPHABET, looks_like_code, normalise, pretty
from content.schema import TextNode, text_for
from storage.db import session
from storage.models import ChannelIdentity, Invite, Participant
from tests.conftest import fixed_now
from tests.identity.util import Who, count, dump, invite, make_rt, shipped_library


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = make_rt(db_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def words(rt, key: str, band: str = "default") -> str:
    return text_for(rt.library.string(key), band)


def _typo(code: str) -> str:
    swap = ALPHABET[(ALPHABET.index(code[3]) + 1) % len(ALPHABET)]
    return code[:3] + swap + code[4:]


# state name -> how to set it up and what to send; (message key or None for success, participants after)
CASES = {
    "valid": "joined",
    "valid_typed_as_text": "joined",
    "valid_lowercase_with_dash": "joined",
    "expired": "code_expired",
    "revoked": "code_expired",
    "reused": "code_used",
    "mistyped": "code_mistyped",
    "malformed": "code_mistyped",
}


@pytest.mark.parametrize("case", list(CASES))
def test_each_code_state_gets_its_own_clear_answer(shared_rt, case: str) -> None:
    rt = shared_rt
    now = fixed_now()
    code = invite(rt, now, days=1)[0]
    send = f"/start {code}"
    when = now
    if case == "valid_typed_as_text":
        send = code
    elif case == "valid_lowercase_with_dash":
        send = pretty(code).lower()
    elif case == "expired":
        when = now + timedelta(days=1, minutes=1)
    elif case == "revoked":
        from storage import invites as store

        with session(rt.engine) as s:
            assert store.revoke_invite(s, rt.keyring.identity_hash("invite", code), now=now)
    elif case == "reused":
        first = Who(rt.dispatcher, f"first-person-{case}", now=now)
        assert first.command("start", code).participant_id is not None
    elif case == "mistyped":
        send = f"/start {_typo(code)}"
    elif case == "malformed":
        send = "/start 0O1IL234"
    before = count(rt, Participant)
    p = Who(rt.dispatcher, f"someone-{case}", now=when)
    result = p.command("start", send.split(" ", 1)[1]) if send.startswith("/start ") else p.text(send)
    expected = CASES[case]
    if expected == "joined":
        assert count(rt, Participant) == before + 1
        assert result.stored
        assert result.participant_id is not None
        assert "OK, let's go" in p.buttons
        assert "Tell me more" in p.buttons
    else:
        assert count(rt, Participant) == before, "no participant without a valid code"
        assert not result.stored
        assert p.said == words(rt, expected)
        assert p.buttons == []


def test_join_and_reuse_on_both_databases(rt) -> None:
    now = fixed_now()
    code = invite(rt, now)[0]
    a = Who(rt.dispatcher, "first", now=now)
    assert a.command("start", code).participant_id is not None
    b = Who(rt.dispatcher, "second", now=now)
    b.command("start", code)
    assert b.said == words(rt, "code_used")
    assert count(rt, Participant) == 1
    assert count(rt, ChannelIdentity) == 1


def test_all_four_failure_messages_differ_from_each_other_and_from_not_invited(shared_rt) -> None:
    rt = shared_rt
    keys = ["code_expired", "code_used", "code_mistyped", "code_too_many", "not_invited"]
    assert len({words(rt, k) for k in keys}) == len(keys)


def test_invite_grants_role_band_district_and_council(shared_rt) -> None:
    rt = shared_rt
    now = fixed_now()
    for role, age, band in [("young_person", "7-11", "junior"), ("young_person", "11-16", "teen"),
                            ("young_person", "16-25", "young_adult"), ("carer", None, "carer")]:
        code = invite(rt, now, role=role, age=age, district="thanet", council="yac")[0]
        p = Who(rt.dispatcher, f"user-{band}", now=now)
        res = p.command("start", code)
        with session(rt.engine) as s:
            row = s.get(Participant, res.participant_id)
            assert (row.audience, row.band, row.district, row.council) == (role, band, "thanet", "yac")
        # the privacy notice in the person's band, then their own menu
        notice = rt.library.flows["privacy_notice"].index["notice"]
        assert text_for(notice.text, band) in p.said
        p.press("OK, let's go")
        menu = rt.library.menu_for(role).index["main"]
        assert text_for(menu.text, band) in p.said


def test_privacy_notice_choices_are_equal_weight_and_tell_me_more_works(shared_rt) -> None:
    rt = shared_rt
    now = fixed_now()
    p = Who(rt.dispatcher, "curious", now=now)
    p.command("start", invite(rt, now)[0])
    notice = next(r for r in p.last if r.choices)
    labels = [c.label for c in notice.choices][:2]
    assert labels == ["OK, let's go", "Tell me more"]  # same message, same layout, side by side
    for key_text in ("999", "Take a break", "My stuff"):  # no slash commands: the web chat shows this too
        assert key_text in notice.text
    p.press("Tell me more")
    assert "What we keep" in p.said
    p.press("I have a question")
    assert 'read this again any time in "My stuff"' in p.said
    assert rt.library.flows["menu_young_person"].index["main"].text["teen"] in p.said


def test_brute_force_is_limited_per_sender_and_lifts_after_the_window(shared_rt) -> None:
    rt = shared_rt
    now = fixed_now()
    before = count(rt, Participant)
    good = invite(rt, now)[0]
    p = Who(rt.dispatcher, "guesser", now=now)
    for i in range(10):
        p.command("start", f"ZZZZZZ{ALPHABET[i]}{ALPHABET[i]}")
    assert p.said == words(rt, "code_too_many").format(minutes=60)
    p.command("start", good)  # even a right code waits until the window has passed
    assert p.said == words(rt, "code_too_many").format(minutes=60)
    assert count(rt, Participant) == before
    other = Who(rt.dispatcher, "someone-else", now=now)  # another person is not blocked
    other.command("start", "ZZZZZZZZ")
    assert other.said == words(rt, "code_mistyped")
    p.now = now + timedelta(minutes=61)
    p.command("start", good)
    assert count(rt, Participant) == before + 1


class From(Who):
    """Someone on the web chat at one network address."""

    def __init__(self, dispatcher, sender: str, origin: str, *, now) -> None:  # type: ignore[no-untyped-def]
        super().__init__(dispatcher, sender, now=now)
        self.origin = origin

    def _send(self, msg):  # type: ignore[no-untyped-def]
        import dataclasses

        return super()._send(dataclasses.replace(msg, origin=self.origin))


def test_fresh_identities_are_limited_per_address_and_never_channel_wide(sqlite_url: str, tmp_path: Path) -> None:
    """Issue 22 item 9: fresh identities do not start again at zero on one address, and other people's wrong codes
    (more than the channel's warning level) never stop a valid code from somewhere else."""
    rt = make_rt(sqlite_url, tmp_path, invite_channel_max_failures=5, invite_address_max_failures=4)
    now = fixed_now()
    good = invite(rt, now)[0]
    for i in range(8):
        From(rt.dispatcher, f"cookie-{i}", f"10.0.0.{i % 2}", now=now).command("start", "ZZZZZZZZ")
    same_place = From(rt.dispatcher, "cookie-new", "10.0.0.1", now=now)
    same_place.command("start", "ZZZZZZZY")
    assert same_place.said == words(rt, "code_too_many").format(minutes=60)
    elsewhere = From(rt.dispatcher, "cookie-elsewhere", "10.0.0.9", now=now)
    elsewhere.command("start", good)
    assert count(rt, Participant) == 1
    rt.engine.dispose()


def test_strangers_leave_nothing_but_a_counter(rt) -> None:
    now = fixed_now()
    invite(rt, now)
    p = Who(rt.dispatcher, "stranger-7781", address="chat-99120", now=now)
    p.text("hello, can I join?")
    assert p.said == words(rt, "not_invited")
    p.command("start")
    p.command("help")
    p.token("1.0.0")
    p.unsupported("photo")
    p.text("whatever")  # a word is not a code attempt
    rows = dump(rt)
    everything_but = {t: r for t, r in rows.items() if r and t not in ("invite", "alembic_version", "audit_head", "council")}
    assert everything_but == {}, "nothing is stored about someone who only chatted"
    p.command("start", "ZZZZZZZZ")
    rows = dump(rt)
    assert {t for t, r in rows.items() if r} - {"invite", "alembic_version", "audit_head", "council"} == {"attempt_counter"}
    assert all("stranger-7781" not in str(r) for r in rows["attempt_counter"])
    sender_hash = rt.keyring.identity_hash("web", "stranger-7781")
    assert all(sender_hash not in str(r) for r in rows["attempt_counter"])
    assert count(rt, Participant) == 0
    assert count(rt, ChannelIdentity) == 0


def test_redelivered_redemption_is_answered_the_same_and_not_refused(rt) -> None:
    now = fixed_now()
    code = invite(rt, now)[0]
    p = Who(rt.dispatcher, "tg-5", channel="telegram", now=now)
    first = p.command("start", code)
    from bot.messages import Inbound

    again = rt.dispatcher.handle(
        Inbound("telegram", "tg-5", "dup-1", "command", command="start", args=code, address="tg-5"), now=now
    )
    again2 = rt.dispatcher.handle(
        Inbound("telegram", "tg-5", "dup-1", "command", command="start", args=code, address="tg-5"), now=now
    )
    assert first.participant_id == again.participant_id == again2.participant_id
    assert again2.duplicate
    assert [r.text for r in again2.replies] == [r.text for r in again.replies]
    assert count(rt, Participant) == 1


def test_codes_are_stored_only_as_keyed_hashes(shared_rt) -> None:
    rt = shared_rt
    now = fixed_now()
    codes = invite(rt, now, count=5)
    blob = str(dump(rt))
    for c in codes:
        assert c not in blob
        assert pretty(c) not in blob
    with session(rt.engine) as s:
        hashes = set(s.execute(select(Invite.code_hash)).scalars())
    assert hashes >= {rt.keyring.identity_hash("invite", c) for c in codes}


def test_code_helpers() -> None:
    assert normalise(" abcd-efgh ") == "ABCDEFGH"
    assert looks_like_code("ABCD-EFGH")
    assert looks_like_code("abcd2345")
    assert looks_like_code("ABCDEFGH")
    assert not looks_like_code("whatever")
    assert not looks_like_code("hi there")
    assert not looks_like_code("hello")
    assert not any(ch in ALPHABET for ch in "01OIL")


def test_free_text_notice_is_shown_before_every_free_text_question() -> None:
    """Engine-level: every text question with notice: true shows the band's notice line under it."""
    from bot.engine import ConversationState, step
    from bot.messages import Inbound

    library = shipped_library()
    seen = 0
    for flow in library.flows.values():
        for node in flow.nodes:
            if not isinstance(node, TextNode) or not node.notice:
                continue
            for band in flow.bands:
                state = ConversationState(flow_id=flow.id, node_id=node.id, profile={"band": band})
                help_cmd = Inbound("web", "x", "m", "command", command="help")
                res = step(library, state, help_cmd, now=fixed_now())
                body = res.replies[-1].text
                assert text_for(node.text, band) in body
                assert body.endswith(text_for(library.string("free_text_notice"), band))
                seen += 1
    assert seen > 0, "no free-text question in the shipped content to check"
