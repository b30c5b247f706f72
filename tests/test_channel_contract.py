"""The channel contract every channel in bot.channels.CHANNELS keeps (those whose module exists): recorded
payloads translate to the right kind of Inbound, rendering keeps every button token exactly once, and
unsupported kinds never carry content. A new channel adds its adapter entry below and its payloads."""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.channels import CHANNELS
from bot.messages import Choice, Inbound, Outbound

PAYLOADS = Path(__file__).parent / "payloads"


def available(name: str) -> bool:
    return importlib.util.find_spec(CHANNELS[name]) is not None


def recorded(channel: str, kinds: dict[str, str]) -> dict[str, tuple[Any, str]]:
    """name -> (recorded payload, expected Inbound kind), from tests/payloads/<channel>/."""
    folder = PAYLOADS / channel
    return {n: (json.loads((folder / f"{n}.json").read_text(encoding="utf-8")), k) for n, k in kinds.items()}


@dataclass
class Contract:
    name: str
    to_inbound: Callable[[Any], Any]
    render: Callable[[Outbound], Any]
    tokens: Callable[[Any], list[str]]  # every button token in a rendered message
    payloads: dict[str, tuple[Any, str]]


def web_contract() -> Contract:
    web = importlib.import_module("bot.channels.web")
    chan = web.WebChannel()

    def body(**kw: str) -> Any:
        return web.ChatIn(message_id="m1", **kw)

    return Contract(
        "web",
        lambda b: chan.to_inbound(b, "cookie-id"),
        chan.render,
        lambda out: [c["token"] for c in out["choices"]],
        {"text": (body(text="hello"), "text"), "command": (body(text="/start"), "command"),
         "button": (body(payload="3.1.0"), "button")},
    )


def telegram_contract() -> Contract:
    tg = importlib.import_module("bot.channels.telegram")

    def tokens(out: Any) -> list[str]:
        _, markup = out
        return [b.callback_data for row in (markup.inline_keyboard if markup else ()) for b in row]

    return Contract("telegram", tg.to_inbound, tg.render, tokens, recorded("telegram", {
        "text": "text", "command_start": "command", "command_start_payload": "command", "callback_query": "button",
        "sticker": "unsupported", "photo_with_caption": "unsupported", "voice": "unsupported",
        "document": "unsupported", "edited_message": "unsupported", "location": "unsupported",
    }))


def slack_contract() -> Contract:
    sl = importlib.import_module("bot.channels.slack")

    def tokens(out: Any) -> list[str]:
        return [e["value"] for b in out["blocks"] if b["type"] == "actions" for e in b["elements"]]

    return Contract("slack", sl.to_inbound, sl.render, tokens, recorded("slack", {
        "dm_text": "text", "dm_command": "command", "block_actions": "button", "slash_menu": "command",
        "slash_invite_code": "command", "file_share": "unsupported", "image_share": "unsupported",
        "message_changed": "unsupported", "reaction_added": "unsupported",
    }))


BUILDERS: dict[str, Callable[[], Contract]] = {"web": web_contract, "telegram": telegram_contract,
                                               "slack": slack_contract}
PRESENT = [name for name in CHANNELS if available(name)]


def test_every_registered_channel_has_a_contract_entry() -> None:
    assert set(PRESENT) <= set(BUILDERS), "add the new channel to BUILDERS in this file"
    assert {"web", "slack"} <= set(PRESENT)


@pytest.fixture(params=PRESENT)
def contract(request: pytest.FixtureRequest) -> Contract:
    return BUILDERS[request.param]()


def test_module_shape(contract: Contract) -> None:
    module = importlib.import_module(CHANNELS[contract.name])
    assert module.__doc__ and module.__doc__.strip()
    shells = [v for v in vars(module).values() if isinstance(v, type) and getattr(v, "name", None) == contract.name
              and all(callable(getattr(v, m, None)) for m in ("to_inbound", "render", "send"))]
    assert shells, "a channel class (name = the CHANNELS key) with to_inbound, render and send"


def test_recorded_payloads_give_the_right_kind(contract: Contract) -> None:
    kinds = set()
    for name, (payload, kind) in contract.payloads.items():
        msg = contract.to_inbound(payload)
        assert isinstance(msg, Inbound), name
        assert (msg.channel, msg.kind) == (contract.name, kind), name
        assert msg.sender and msg.message_id, name
        kinds.add(kind)
    assert {"text", "command", "button"} <= kinds


def test_unsupported_kinds_never_carry_content(contract: Contract) -> None:
    for name, (payload, kind) in contract.payloads.items():
        if kind != "unsupported":
            continue
        msg = contract.to_inbound(payload)
        assert msg.unsupported, name
        assert (msg.text, msg.args, msg.payload, msg.command) == ("", "", "", ""), name


SAMPLES = [
    Outbound("Which of these is you?", (Choice("3.1.0", "I'm 7 to 11"), Choice("3.1.1", "I'm 11 to 16"),
                                        Choice("3.1.2", "I'm a foster carer"), Choice("skip", "Skip")), "buttons"),
    Outbound("How safe do you feel?", tuple(Choice(f"4.1.{i}", f"{i + 1}") for i in range(5))
             + (Choice("back", "Back"), Choice("skip", "Skip")), "scale"),
    Outbound("Pick any", (Choice("5.2.0", "✅ Friends"), Choice("5.2.1", "Family"), Choice("done", "Done"),
                          Choice("back", "Back")), "multi"),
    Outbound("What would you like to do?", tuple(Choice(f"t.{i}", f"Topic number {i}") for i in range(12)), "menu"),
    Outbound("Thanks! That's everything."),
]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda o: o.layout)
def test_render_keeps_every_token_exactly_once(contract: Contract, sample: Outbound) -> None:
    out = contract.render(sample)
    assert sorted(contract.tokens(out)) == sorted(c.token for c in sample.choices)
    assert sample.text in json.dumps(out if isinstance(out, dict) else out[0], ensure_ascii=False)
