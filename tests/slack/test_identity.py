"""Identity over Slack: the same invite codes and the same onboarding as every channel (/ourvoice CODE),
nothing stored for people who are not invited, and linking Slack to an identity made on another channel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from storage.db import session
from storage.models import ChannelIdentity, Participant
from tests.conftest import fixed_now
from tests.identity.util import Who, code_in, invite, make_rt
from tests.slack.conftest import SlackFake, SlackUser, row_counts, running


@pytest.fixture
def invite_rt(sqlite_url: str, tmp_path: Path) -> Iterator[Runtime]:
    rt = make_rt(sqlite_url, tmp_path)
    yield rt
    rt.notifier.stop()


async def test_strangers_are_turned_away_and_invited_carers_join(invite_rt: Runtime, fake: SlackFake) -> None:
    async with running(invite_rt, fake) as (client, service):
        stranger = SlackUser(client, service, fake, "U0STRANGE")
        before = row_counts(invite_rt)
        assert (await stranger.say("hello")).status_code == 200
        assert stranger.texts(), "a stranger is told how to get in"
        assert row_counts(invite_rt) == before  # and nothing about them is kept

        code = invite(invite_rt, fixed_now(), role="carer", age=None, district="thanet", council=None)[0]
        carer = SlackUser(client, service, fake, "U0JOINER1")
        assert (await carer.slash(code)).status_code == 200
        with session(invite_rt.engine) as s:
            (person,) = s.execute(select(Participant)).scalars().all()
            (ident,) = s.execute(select(ChannelIdentity)).scalars().all()
        assert (person.audience, person.band, person.district) == ("carer", "carer", "thanet")
        assert ident.channel == "slack" and invite_rt.keyring.decrypt(ident.address_enc) == "U0JOINER1"
        assert code not in str(carer.messages())  # the code is not repeated back


async def test_link_slack_to_an_identity_from_the_web_chat(invite_rt: Runtime, fake: SlackFake) -> None:
    now = fixed_now()
    web = Who(invite_rt.dispatcher, "web-cookie-9", now=now)
    web.command("start", invite(invite_rt, now)[0])
    web.press("OK, let's go")
    web.command("menu")
    web.press("🔒 My stuff")
    web.press("📱")
    link = code_in(web.said)
    async with running(invite_rt, fake) as (client, service):
        me = SlackUser(client, service, fake, "U0LINKER1")
        assert (await me.slash(f"link {link}")).status_code == 200
    with session(invite_rt.engine) as s:
        people = s.execute(select(Participant)).scalars().all()
        idents = sorted(i.channel for i in s.execute(select(ChannelIdentity)).scalars())
    assert len(people) == 1 and idents == ["slack", "web"]
