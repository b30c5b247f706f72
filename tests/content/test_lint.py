"""Content lint (issue 23 item 5, issue 21 item 8): every check catches its mistake with file:line, the shipped
content is clean, and `ourvoice content check` fails on a lint problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from admin.cli import app
from admin.commands.content_cmd import known_actions
from content.lint import lint
from content.loader import CONTENT_DIR, load_library
from tests.conftest import fixed_now

FLOW = """schema_version: 1
id: zz_lint
kind: flow
title: "Lint me"
audience: [young_person]
bands: [junior, teen, young_adult]
start: hello
nodes:
  - id: hello
    type: say
    text: "Hello there."
    next: first
  - id: first
    type: choice
    text: "Pick one."
    choices:
      - {id: a, label: "A"}
      - {id: b, label: "B"}
    next: done
  - id: done
    type: end
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    copy = tmp_path / "content"
    shutil.copytree(CONTENT_DIR, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


def problems(root: Path, body: str, actions: set[str] | None = None) -> list[str]:
    (root / "flows" / "zz_lint.yaml").write_text(body, encoding="utf-8")
    load_library(root)  # the fixture is valid content: only the lint objects to it
    return [str(e) for e in lint(root, actions) if "zz_lint.yaml" in e.path]


def test_clean_fixture_has_no_problems(root: Path) -> None:
    assert problems(root, FLOW) == []


def test_shipped_content_is_clean_with_the_runtime_actions() -> None:
    lib = load_library()
    actions = known_actions(lib)
    assert {"card_create", "good_news_save", "survey_reminders_off", "my_export"} <= actions
    assert [str(e) for e in lint(CONTENT_DIR, actions)] == []


def test_action_without_handler(root: Path) -> None:
    body = FLOW.replace("    next: first\n", "    next: act\n  - id: act\n    type: action\n    action: zz_fly\n"
                        "    next: first\n", 1)
    errs = problems(root, body, {"card_create"})
    assert errs == ["content/flows/zz_lint.yaml:15: node 'act' action 'zz_fly' has no handler"]
    assert problems(root, body, {"zz_fly"}) == []


def test_unknown_age_band_key(root: Path) -> None:
    body = FLOW.replace('    text: "Hello there."\n', '    text:\n      junoir: "Hello there."\n      default: "Hi."\n')
    errs = problems(root, body)
    assert any(e.startswith("content/flows/zz_lint.yaml:12:") and "unknown age band 'junoir'" in e for e in errs), errs


def test_lower_case_sentence_start_in_young_text(root: Path) -> None:
    errs = problems(root, FLOW.replace('"Hello there."', '"Hello there. we are glad you came."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' text: sentence starts in lower case ('we')"]
    # The brand name is lower case on purpose.
    assert problems(root, FLOW.replace('"Hello there."', '"ourvoice is here."')) == []


def test_carer_only_text_is_not_held_to_young_people_rules(root: Path) -> None:
    body = FLOW.replace('    text: "Hello there."\n', '    text:\n      carer: "hello, the IRO says."\n'
                        '      default: "Hello there."\n')
    body = body.replace("audience: [young_person]", "audience: [young_person, carer]").replace(
        "bands: [junior, teen, young_adult]", "bands: [junior, teen, young_adult, carer]")
    assert problems(root, body) == []


def test_unexplained_acronym(root: Path) -> None:
    errs = problems(root, FLOW.replace('"Hello there."', '"Tell your IRO."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' text: acronym 'IRO' is not explained "
                    "(write 'Full name (IRO)')"]
    explained = FLOW.replace('"Hello there."', '"Tell your Independent Reviewing Officer (IRO). The IRO listens."')
    assert problems(root, explained) == []
    assert problems(root, FLOW.replace('"Hello there."', '"OK, hello."')) == []  # on the allow-list


def test_question_count_must_match(root: Path) -> None:
    errs = problems(root, FLOW.replace('"Hello there."', '"Two quick questions."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' says 'Two quick questions' but the flow has "
                    "1 questions"]
    errs = problems(root, FLOW.replace('"Hello there."', '"This is question 1 of 3."'))
    assert len(errs) == 1 and "'question 1 of 3'" in errs[0]
    assert problems(root, FLOW.replace('"Hello there."', '"Just one question."')) == []


def test_question_count_typed_by_hand_asks_for_the_placeholder(root: Path) -> None:
    # A count that matches today still goes stale when a question is added: the engine fills {questions}.
    body = FLOW.replace("    next: done\n", "    next: second\n  - id: second\n    type: yesno\n    text: \"Sure?\"\n"
                        "    next: done\n", 1)
    errs = problems(root, body.replace('"Hello there."', '"Two quick questions."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' says 'Two quick questions': write '{questions}' "
                    "so the count follows the flow"]
    assert problems(root, body.replace('"Hello there."', '"{questions} quick questions."')) == []


def test_mood_check_in_takes_no_wording_of_its_own(root: Path) -> None:
    body = FLOW.replace("    next: first\n", "    next: feeling\n  - id: feeling\n    type: scale\n    mood: true\n"
                        "    next: first\n", 1)
    assert problems(root, body) == []
    worded = body.replace("    mood: true\n", "    mood: true\n    text: \"How do you feel?\"\n")
    errs = problems(root, worded)
    assert len(errs) == 1 and "node 'feeling' is the mood check-in" in errs[0], errs


def test_slash_command_in_web_visible_text(root: Path) -> None:
    errs = problems(root, FLOW.replace('"Hello there."', '"Type /stop to have a break."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' text: slash command '/stop' in text the web chat "
                    "shows (name the button instead)"]
    assert problems(root, FLOW.replace('"Hello there."', '"See https://example.org/help for more."')) == []


def test_slash_command_allowed_only_in_channel_strings(root: Path) -> None:
    strings = root / "strings" / "en.yaml"
    text = strings.read_text(encoding="utf-8")
    strings.write_text(text + '  telegram_only_tip:\n    default: "Send /start and your code."\n'
                       '  web_tip:\n    default: "Send /start and your code."\n', encoding="utf-8")
    errs = [str(e) for e in lint(root) if "en.yaml" in e.path]
    assert len(errs) == 1 and "string 'web_tip'" in errs[0] and "'/start'" in errs[0], errs


def test_explicit_skip_is_flagged(root: Path) -> None:
    errs = problems(root, FLOW.replace('      - {id: b, label: "B"}\n', '      - {id: skip, label: "Skip"}\n'))
    assert errs == ["content/flows/zz_lint.yaml:18: node 'first' offers Skip itself (Skip is added to questions "
                    "automatically)"]
    errs = problems(root, FLOW.replace('"Hello there."', '"Hello there. Tap Skip to move on."'))
    assert errs == ["content/flows/zz_lint.yaml:11: node 'hello' (say) offers Skip but is not a question"]


def test_content_check_fails_on_a_lint_problem(root: Path) -> None:
    (root / "flows" / "zz_lint.yaml").write_text(FLOW.replace('"Hello there."', '"Type /menu."'), encoding="utf-8")
    result = CliRunner().invoke(app, ["content", "check", "--root", str(root)])
    assert result.exit_code == 1
    assert "zz_lint.yaml:11: node 'hello' text: slash command '/menu'" in result.output


def _at(node_id: str, flow_id: str = "privacy_notice"):
    from bot.engine import ConversationState

    audience = "carer" if flow_id.startswith("carer") else "young_person"
    band = "carer" if audience == "carer" else "teen"
    return ConversationState(flow_id=flow_id, node_id=node_id, run=1, profile={"audience": audience, "band": band})


def _step(lib, state, **kw: str):
    from bot.engine import step
    from bot.messages import Inbound

    kind = "command" if "command" in kw else "text"
    return step(lib, state, Inbound("test", "p1", "m", kind, **kw), now=fixed_now())  # type: ignore[arg-type]


def test_notices_and_confirmations_have_no_skip() -> None:
    """Issue 23 item 3: Skip only on questions; `skip: false` marks the privacy notice and confirmations."""
    lib = load_library()
    skip_label = lib.strings.messages["skip_label"]["default"]  # type: ignore[index]
    for flow_id, node_id in (("privacy_notice", "notice"), ("privacy_notice", "details"),
                             ("challenge_card", "confirm"), ("carer_pulse", "submit")):
        result = _step(lib, _at(node_id, flow_id), command="start")
        labels = [c.label for r in result.replies for c in r.choices]
        assert labels and skip_label not in labels, (flow_id, node_id, labels)
        skipped = _step(lib, result.state, command="skip")
        assert skipped.state.node_id == node_id and not skipped.answers  # typing /skip does not skip it either
    asked = _step(lib, _at("news", "good_news"), command="start")  # a real question keeps its Skip
    assert skip_label in [c.label for r in asked.replies for c in r.choices]


def test_branch_on_skip_of_a_node_without_skip_is_refused(root: Path) -> None:
    from content.loader import ContentInvalid

    body = FLOW.replace("    next: done\n", "    skip: false\n    next: check\n  - id: check\n    type: branch\n"
                        "    rules:\n      - if: {first: [skip]}\n        goto: done\n    otherwise: done\n", 1)
    (root / "flows" / "zz_lint.yaml").write_text(body, encoding="utf-8")
    with pytest.raises(ContentInvalid) as info:
        load_library(root)
    assert any("branch on 'first' uses unknown answers ['skip']" in str(e) for e in info.value.errors)
