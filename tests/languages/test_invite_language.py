"""`invite create --language ar` (issue 24 item 3): the person who redeems it is spoken to in that language from
the first message, and the invite refuses a language ourvoice does not know."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.identity import IdentitySettings, create_invites, identity_commands, invite_onboarding
from bot.runtime import build_runtime
from storage.db import session
from tests.conftest import fixed_now, make_settings
from tests.identity.util import Who


@pytest.fixture
def rt(sqlite_url: str, tmp_path: Path):
    settings = make_settings(sqlite_url, tmp_path, invite_only=True, show_draft_languages=True)
    runtime = build_runtime(settings)
    ident = IdentitySettings(_env_file=None)  # type: ignore[call-arg]
    runtime.dispatcher.onboarding = invite_onboarding(runtime.keyring, settings, runtime.library, identity=ident)
    runtime.dispatcher.commands = identity_commands(runtime.keyring, settings, runtime.library, identity=ident)
    yield runtime
    runtime.engine.dispose()


def _invite(rt, language: str | None) -> str:
    with session(rt.engine) as s:
        _, created = create_invites(
            s, rt.keyring, role="young_person", age_band="11-16", district="east", council="ocypc", expires_days=30,
            count=1, public_url="", bot_username="", created_by="test", now=fixed_now(), language=language,
        )
    return created[0].code


def test_an_invite_in_arabic_opens_the_privacy_notice_in_arabic(rt) -> None:
    me = Who(rt.dispatcher, "amal", now=fixed_now())
    me.command("start", _invite(rt, "ar"))
    said = "\n".join(r.text for r in me.last)
    assert "قبل أن نبدأ" in said and all(r.meta.get("lang") == "ar" for r in me.last)
    me.press("حسناً، لنبدأ")
    assert any("ماذا تريد أن تفعل" in r.text for r in me.last)


def test_an_invite_without_a_language_is_english_and_an_unknown_one_is_refused(rt) -> None:
    me = Who(rt.dispatcher, "sam", now=fixed_now())
    me.command("start", _invite(rt, None))
    assert any("before we start" in r.text.lower() for r in me.last)
    with pytest.raises(ValueError, match="language must be one of"):
        _invite(rt, "xx")
