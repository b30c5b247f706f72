"""Keys and raw identifiers: nothing in clear after a full journey, rotation keeps everything readable,
an identity-key change migrates people as they write, and the invite CLI writes codes, links and QR codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from typer.testing import CliRunner

from admin.cli import app
from bot.crypto import Keyring
from bot.identity import IdentitySettings, invite_onboarding
from storage.db import session
from storage.models import Alert, ChannelIdentity, Invite, OutboxMessage, Participant
from tests.conftest import fixed_now, make_settings
from tests.identity.util import BOT, Who, count, dump, invite, make_rt, text_of


@pytest.fixture
def rt(db_url: str, tmp_path: Path):
    runtime = make_rt(db_url, tmp_path)
    yield runtime
    runtime.engine.dispose()


def _env(rt, **extra: str) -> dict[str, str]:
    env = {
        "OURVOICE_DATABASE_URL": rt.settings.database_url,
        "OURVOICE_ID_HASH_KEY": rt.settings.id_hash_key,
        "OURVOICE_ENCRYPTION_KEYS": rt.settings.encryption_keys,
        "OURVOICE_PUBLIC_URL": "https://chat.example.org",
        "OURVOICE_TELEGRAM_BOT_USERNAME": BOT,
    }
    env.update(extra)
    return env


RAW = {
    "tg_user": "5550012345",
    "tg_chat": "9990054321",
    "web_cookie": "kQ7wZr3-cookie-value-XYZ",
    "slack_user": "U0SLACK77",
}


def test_no_raw_channel_id_or_address_anywhere_after_a_full_journey(rt) -> None:
    now = fixed_now()
    tg = Who(rt.dispatcher, RAW["tg_user"], channel="telegram", address=RAW["tg_chat"], now=now)
    code = invite(rt, now)[0]
    tg.command("start", code)
    tg.press("Tell me more")
    tg.press("OK, let's go")
    tg.command("mystuff")
    tg.press("📍")
    tg.press("East")
    tg.command("mystuff")
    tg.press("📱")
    link = re.search(r"code is ([2-9A-Z]{8})", tg.said).group(1)
    web = Who(rt.dispatcher, RAW["web_cookie"], now=now)
    web.command("start", link)
    web.command("mystuff")
    web.press("📋")
    web.press("Yes, send me a copy")
    slack = Who(rt.dispatcher, RAW["slack_user"], channel="slack", now=now)
    slack.text("ABCD-2345")  # a stranger guessing: only a counter is kept
    tg.text("i want to die")  # alert text is kept only encrypted
    from storage import outbox

    with session(rt.engine) as s:  # the Telegram sender delivers, then the purge job blanks the link code
        outbox.mark_sent(s, [o.id for o in s.execute(select(OutboxMessage)).scalars()], now=now)
    from admin.jobs.identity import purge

    # The link code and the copy-of-my-data download link: both one-time secrets, blanked once delivered.
    assert "secrets_scrubbed=2" in purge(rt, now=now)
    blob = text_of(dump(rt))
    for name, raw in RAW.items():
        assert raw not in blob, f"raw {name} stored in clear"
    assert code not in blob
    assert link not in blob, [ln for ln in blob.splitlines() if link in ln]
    assert "i want to die" not in blob
    with session(rt.engine) as s:
        idents = s.execute(select(ChannelIdentity)).scalars().all()
        addresses = sorted(rt.keyring.decrypt(i.address_enc) for i in idents if i.address_enc)
        pending = [o for o in s.execute(select(OutboxMessage)).scalars() if o.channel == "telegram"]
    assert addresses == sorted([RAW["tg_chat"], RAW["web_cookie"]])
    assert pending
    assert all(rt.keyring.decrypt(o.address_enc) == RAW["tg_chat"] for o in pending)


def test_rotation_reencrypts_every_column_and_old_keys_can_then_go(rt) -> None:
    now = fixed_now()
    tg = Who(rt.dispatcher, "tg-rot", channel="telegram", address="chat-rot-1", now=now)
    tg.command("start", invite(rt, now)[0])
    tg.text("i want to die")
    old = rt.settings.encryption_keys
    new = Fernet.generate_key().decode()
    runner = CliRunner()
    r = runner.invoke(app, ["keys", "check"], env=_env(rt))
    assert r.exit_code == 0, r.output
    assert "all values on the newest key" in r.output
    r = runner.invoke(app, ["keys", "check"], env=_env(rt, OURVOICE_ENCRYPTION_KEYS=f"{new},{old}"))
    assert "run `ourvoice keys rotate`" in r.output
    both = _env(rt, OURVOICE_ENCRYPTION_KEYS=f"{new},{old}")
    r = runner.invoke(app, ["keys", "rotate", "--batch", "2"], env=both)
    assert r.exit_code == 0, r.output
    assert "channel_identity.address_enc: re-encrypted 1" in r.output
    assert "alert.text_enc: re-encrypted 1" in r.output
    newest_only = Keyring(rt.settings.id_hash_key, [new])
    with session(rt.engine) as s:
        address = s.execute(select(ChannelIdentity.address_enc)).scalar_one()
        assert newest_only.decrypt(address) == "chat-rot-1"
        assert newest_only.decrypt(s.execute(select(Alert.text_enc)).scalar_one()) == "i want to die"
        outs = [o.address_enc for o in s.execute(select(OutboxMessage)).scalars() if o.address_enc]
        assert outs
        assert {newest_only.decrypt(a) for a in outs} == {"chat-rot-1"}
    with pytest.raises(ValueError, match="cannot decrypt"):
        rt.keyring.decrypt(outs[0])  # the old key alone no longer reads them
    r = runner.invoke(app, ["keys", "check"], env=_env(rt, OURVOICE_ENCRYPTION_KEYS=new))
    assert r.exit_code == 0, r.output
    # the bot keeps working with the new key only: same person, same participant
    settings = make_settings(rt.settings.database_url, Path(rt.settings.alert_spool_dir).parent,
                             invite_only=True, encryption_keys=new)
    from bot.runtime import build_runtime

    rt2 = build_runtime(settings)
    res = Who(rt2.dispatcher, "tg-rot", channel="telegram", address="chat-rot-1", now=now).text("hello again")
    assert res.participant_id is not None
    assert count(rt2, Participant) == 1
    rt2.engine.dispose()


def test_identity_key_change_migrates_people_as_they_write(sqlite_url: str, tmp_path: Path) -> None:
    now = fixed_now()
    rt = make_rt(sqlite_url, tmp_path)
    code_left = invite(rt, now, count=2)
    p = Who(rt.dispatcher, "tg-keychange", channel="telegram", now=now)
    first = p.command("start", code_left[0])
    old_key = rt.settings.id_hash_key
    rt.engine.dispose()
    new_key = "new-hash-key-for-tests"
    settings = make_settings(sqlite_url, tmp_path, invite_only=True, id_hash_key=new_key)
    from bot.runtime import build_runtime

    rt2 = build_runtime(settings)
    ident = IdentitySettings(_env_file=None, id_hash_key_previous=old_key)  # type: ignore[call-arg]
    rt2.dispatcher.onboarding = invite_onboarding(rt2.keyring, settings, rt2.library, identity=ident)
    again = Who(rt2.dispatcher, "tg-keychange", channel="telegram", now=now).text("hi")
    assert again.participant_id == first.participant_id
    assert count(rt2, Participant) == 1
    with session(rt2.engine) as s:
        hashes = set(s.execute(select(ChannelIdentity.key_hash)).scalars())
    assert hashes == {rt2.keyring.identity_hash("telegram", "tg-keychange")}
    # invites made under the old key still work during the change-over
    newcomer = Who(rt2.dispatcher, "tg-newcomer", channel="telegram", now=now)
    assert newcomer.command("start", code_left[1]).participant_id is not None
    rt2.engine.dispose()


def test_invite_cli_prints_codes_links_and_writes_qr_files(sqlite_url: str, tmp_path: Path) -> None:
    rt = make_rt(sqlite_url, tmp_path)
    qr = tmp_path / "qr"
    r = CliRunner().invoke(app, [
        "invite", "create", "--role", "young_person", "--age-band", "11-16", "--district", "east",
        "--council", "ocypc", "--expires-days", "30", "--count", "3", "--qr-dir", str(qr), "--staff", "worker1",
    ], env=_env(rt))
    assert r.exit_code == 0, r.output
    codes = re.findall(r"^([2-9A-Z]{4})-([2-9A-Z]{4})\s", r.output, flags=re.M)
    assert len(codes) == 3
    for a, b in codes:
        code = a + b
        assert f"https://t.me/{BOT}?start={code}" in r.output
        assert f"https://chat.example.org/?start={code}" in r.output
    pngs, svgs = sorted(qr.glob("*.png")), sorted(qr.glob("*.svg"))
    assert len(pngs) == len(svgs) == 3
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert all(b"<svg" in p.read_bytes() for p in svgs)
    # a printed code works once, for the right band and area
    code = codes[0][0] + codes[0][1]
    res = Who(rt.dispatcher, "from-qr", now=fixed_now()).command("start", code)
    with session(rt.engine) as s:
        p = s.get(Participant, res.participant_id)
    assert (p.band, p.district, p.council) == ("teen", "east", "ocypc")
    r = CliRunner().invoke(app, ["invite", "list"], env=_env(rt))
    assert "used 1/3" in r.output
    batch = re.search(r"^(B-[2-9A-Z]{6})  young_person/teen", r.output, flags=re.M).group(1)
    r = CliRunner().invoke(app, ["invite", "revoke", "--batch", batch, "--staff", "worker1"], env=_env(rt))
    assert "revoked 2" in r.output
    late = Who(rt.dispatcher, "late-qr", now=fixed_now())
    late.command("start", codes[1][0] + codes[1][1])
    assert count(rt, Participant) == 1
    rt.engine.dispose()


BAD_OPTIONS = [
    (["--role", "young_person"], "--age-band"),
    (["--role", "boss", "--age-band", "11-16"], "role must be"),
    (["--role", "young_person", "--age-band", "5-7"], "age band must be"),
    (["--role", "carer", "--district", "mars"], "district must be"),
    (["--role", "carer", "--council", "parliament"], "council must be"),
    (["--role", "carer", "--count", "0"], "count must be"),
]


def test_invite_cli_refuses_bad_options(sqlite_url: str, tmp_path: Path) -> None:
    rt = make_rt(sqlite_url, tmp_path)
    for args, message in BAD_OPTIONS:
        r = CliRunner().invoke(app, ["invite", "create", *args], env=_env(rt))
        assert r.exit_code == 2, args
        assert message in r.output, args
    assert count(rt, Invite) == 0
    rt.engine.dispose()


def test_telegram_updates_with_names_and_usernames_leave_none_of_them(rt) -> None:
    """Drive a journey with real Telegram update JSON carrying names, usernames and extra fields."""
    from bot.channels.telegram import to_inbound

    user = {"id": 6660042, "is_bot": False, "first_name": "Zebedee", "last_name": "Quillfeather",
            "username": "zq_secret_handle", "language_code": "en-GB", "is_premium": True}
    chat = {"id": 6660042, "first_name": "Zebedee", "last_name": "Quillfeather",
            "username": "zq_secret_handle", "type": "private"}
    seq = iter(range(900000, 999999))
    last: list = []

    def send(text: str | None = None, press: str | None = None) -> None:
        nonlocal last
        n = next(seq)
        if press is not None:
            token = next(c.token for r in last for c in r.choices if c.label.startswith(press))
            update = {"update_id": n, "callback_query": {
                "id": str(n), "from": user, "chat_instance": "-1234", "data": token,
                "message": {"message_id": n, "date": 1763884800, "chat": chat, "text": "(earlier)"}}}
        else:
            update = {"update_id": n, "message": {
                "message_id": n, "from": user, "chat": chat, "date": 1763884800, "text": text,
                "entities": [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
                if text.startswith("/") else []}}
        msg = to_inbound(update)
        last = rt.dispatcher.handle(msg, now=fixed_now()).replies

    code = invite(rt, fixed_now())[0]
    send(f"/start {code}")
    send(press="Tell me more")
    send(press="OK, let's go")
    send("/mystuff")
    send(press="📍")
    send(press="Thanet")
    send("/mystuff")
    send(press="📋")
    send(press="Yes, send me a copy")
    assert count(rt, Participant) == 1
    blob = text_of(dump(rt))
    for secret in ("Zebedee", "Quillfeather", "zq_secret_handle", "6660042", "en-GB", code):
        assert secret not in blob, secret
