"""The council as data: content/council.yaml holds districts, councils with their ages, staff roles, help
numbers and duty contacts; the admin's policy reads them from there, and another council's file loads and
validates with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest

from admin.actions import policy
from content.loader import CONTENT_DIR, ContentInvalid, load_council

BORSETSHIRE = Path(__file__).parent / "councils" / "borsetshire.yaml"


def test_the_admin_policy_reads_the_council_file() -> None:
    kent = load_council()
    assert kent.id == "kent"
    assert kent.districts == policy.DISTRICTS
    assert kent.roles == policy.ROLES
    assert frozenset(kent.scoped_roles) == policy.SCOPED_ROLES
    assert {cid: c.label for cid, c in kent.councils.items()} == policy.COUNCILS
    assert set(policy.RULES["staff.add"].roles) <= set(kent.roles)
    assert kent.councils["yac"].ages == (16, 25)


def test_a_second_fictional_council_loads_without_code_changes() -> None:
    other = load_council(BORSETSHIRE)
    assert other.id == "borsetshire"
    assert list(other.districts) == ["felpersham", "hollerton", "ambridge_vale"]
    assert other.councils["young_voices"].ages == (8, 13)
    assert other.councils["young_voices"].bands == ("junior", "teen")
    assert other.duty_contacts["duty_number"] == "01632 960 000"
    # Every role the action rules name exists in this council's file too: the same code serves it.
    named = {role for rule in policy.RULES.values() for role in rule.roles}
    assert named <= set(other.roles)
    assert set(other.districts).isdisjoint(load_council().districts)


def test_a_broken_council_file_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "council.yaml"
    text = (CONTENT_DIR / "council.yaml").read_text(encoding="utf-8")
    bad.write_text(text.replace("ages: [16, 25]", "ages: [25, 16]").replace("scoped_roles: [", "scoped_roles: [boss, "),
                   encoding="utf-8")
    with pytest.raises(ContentInvalid) as caught:
        load_council(bad)
    assert any("ages must be" in str(e) or "unknown roles" in str(e) for e in caught.value.errors)
