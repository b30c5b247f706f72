"""One content definition, many languages (issue 24, items 1-3): a `Library` per language, made by laying the
translations over the English flows and strings. The engine is unchanged: it is simply given the library for
the person's language.

Flow translations live in content/translations/<locale>/<flow_id>.yaml as `entries`, keyed by where the words
sit in the flow: `title`, `topic.why`, `<node>.text`, `<node>.low`, `<node>.high`, `<node>.labels.<n>` and
`<node>.<choice or option id>` for a button label. Each entry is a `Translation` (text, status, source hash):
a stale entry (the English changed) is not used, and a draft is used only where drafts are allowed (a demo, or
staff previewing). A language is offered to young people only when its safety-critical strings are reviewed.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict

from content.loader import Library
from content.schema import Flow, Strings, Text
from content.translations import (
    SAFETY_CRITICAL,
    Translation,
    content_root,
    languages,
    load_translations,
    source_hash,
    translation_status,
)

LANGUAGE_FLOW = "my_stuff_language"
"""The language picker (/language, My stuff): its choices are cut to the languages on offer."""


class FlowTranslations(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    locale: str
    flow: str
    entries: dict[str, Translation]


def flow_texts(flow: Flow) -> dict[str, Text]:
    """Every piece of wording in a flow, by its translation key."""
    out: dict[str, Text] = {"title": flow.title}
    if flow.topic is not None and flow.topic.why:
        out["topic.why"] = flow.topic.why
    for node in flow.nodes:
        for attr in ("text", "low", "high"):
            value = getattr(node, attr, None)
            if value:
                out[f"{node.id}.{attr}"] = value
        for i, label in enumerate(getattr(node, "labels", None) or ()):
            out[f"{node.id}.labels.{i}"] = label
        for option in [*(getattr(node, "choices", None) or ()), *(getattr(node, "options", None) or ())]:
            out[f"{node.id}.{option.id}"] = option.label
    return out


@functools.lru_cache(maxsize=4)
def load_flow_translations(root: Path | None = None) -> dict[str, dict[str, FlowTranslations]]:
    """By locale, then flow id."""
    base = (root or content_root()) / "translations"
    out: dict[str, dict[str, FlowTranslations]] = {}
    if not base.is_dir():
        return out
    for path in sorted(base.glob("*/*.yaml")):
        ft = FlowTranslations.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
        if ft.locale != path.parent.name or ft.flow != path.stem:
            raise ValueError(f"{path}: locale/flow do not match the folder and file name")
        out.setdefault(ft.locale, {})[ft.flow] = ft
    return out


def _usable(entry: Translation | None, english: Text, drafts: bool) -> bool:
    return (
        entry is not None
        and entry.source == source_hash(english)
        and (entry.status == "reviewed" or drafts)
    )


def localise_flow(flow: Flow, entries: dict[str, Translation], drafts: bool) -> Flow:
    """The flow with each usable translation in place of the English; untranslated wording stays English."""
    english = flow_texts(flow)
    use = {k: entries[k].text for k in english if _usable(entries.get(k), english[k], drafts)}
    if not use:
        return flow
    data: dict[str, Any] = flow.model_dump(by_alias=True, exclude_defaults=False)
    if "title" in use:
        data["title"] = use["title"]
    if "topic.why" in use and data.get("topic"):
        data["topic"]["why"] = use["topic.why"]
    for node in data["nodes"]:
        nid = node["id"]
        for attr in ("text", "low", "high"):
            if f"{nid}.{attr}" in use:
                node[attr] = use[f"{nid}.{attr}"]
        if node.get("labels"):
            node["labels"] = [
                use.get(f"{nid}.labels.{i}", label) for i, label in enumerate(node["labels"])
            ]
        for key in ("choices", "options"):
            for option in node.get(key) or ():
                if f"{nid}.{option['id']}" in use:
                    option["label"] = use[f"{nid}.{option['id']}"]
    return Flow.model_validate(data)


PRIVACY_FLOWS = ("privacy_notice",)


def safety_keys(lib: Library) -> dict[str, list[str]]:
    """The flow wording a language needs reviewed before it is offered: the privacy notice, and every consent
    question (a question with a `private_choice`: share my words? send this?), by flow id."""
    out: dict[str, list[str]] = {}
    for fid, flow in lib.flows.items():
        texts = flow_texts(flow)
        if fid in PRIVACY_FLOWS:
            out[fid] = [k for k in texts if k != "title"]
            continue
        consent = [n.id for n in flow.nodes if getattr(n, "private_choice", None)]
        keys = [k for k in texts if k.split(".")[0] in consent]
        if keys:
            out[fid] = keys
    return out


def safety_state(lib: Library, locale: str) -> Literal["reviewed", "drafted", "incomplete"]:
    """Whether every safety-critical string and flow wording of a language is reviewed, at least drafted (all
    there and current), or incomplete. Consent questions of topics not yet translated at all do not block a
    draft (they show in English), but do block offering the language."""
    english = lib.strings.messages
    status = translation_status(english, locale)
    loc = load_translations().get(locale)
    flows = load_flow_translations().get(locale, {})
    reviewed = status.safety_reviewed
    drafted = not (set(SAFETY_CRITICAL) & (set(status.missing) | set(status.stale_keys)))
    for fid, keys in safety_keys(lib).items():
        texts = flow_texts(lib.flows[fid])
        entries = flows[fid].entries if fid in flows else {}
        for key in keys:
            entry = entries.get(key)
            current = entry is not None and entry.source == source_hash(texts[key])
            reviewed = reviewed and current and entry is not None and entry.status == "reviewed"
            if fid in PRIVACY_FLOWS or fid in flows:
                drafted = drafted and current
    del loc
    return "reviewed" if reviewed else ("drafted" if drafted else "incomplete")


def offered_languages(lib: Library, drafts: bool) -> list[str]:
    """English, the languages whose safety-critical wording is all reviewed, and, where drafts are allowed,
    every language with a current draft of all of it."""
    out = ["en"]
    for code in languages():
        if code == "en":
            continue
        state = safety_state(lib, code)
        if state == "reviewed" or (drafts and state == "drafted"):
            out.append(code)
    return out


def is_draft(lib: Library, locale: str) -> bool:
    """A language on offer only as a draft: shown with a "draft translation" marker."""
    return locale != "en" and safety_state(lib, locale) != "reviewed"


def localised_library(lib: Library, locale: str, *, drafts: bool, offered: list[str] | None = None) -> Library:
    """The library in `locale` (English where a string or flow has no usable translation)."""
    english = lib.strings.messages
    offered = offered if offered is not None else offered_languages(lib, drafts)
    messages = dict(english)
    if locale != "en":
        loc = load_translations().get(locale)
        for key, entry in (loc.messages.items() if loc else ()):
            if key in english and _usable(entry, english[key], drafts):
                messages[key] = entry.text
    strings = Strings(schema_version=lib.strings.schema_version, id=lib.strings.id, locale=locale, messages=messages)
    per_flow = load_flow_translations().get(locale, {}) if locale != "en" else {}
    flows = {}
    for fid, flow in lib.flows.items():
        flow = localise_flow(flow, per_flow[fid].entries, drafts) if fid in per_flow else flow
        if fid == LANGUAGE_FLOW:
            flow = _only_offered(flow, offered, {c: is_draft(lib, c) for c in offered})
        flows[fid] = flow
    return Library(flows=flows, strings=strings, root=lib.root)


def _only_offered(flow: Flow, offered: list[str], draft: dict[str, bool]) -> Flow:
    """The picker lists each language on offer in its own name; a draft one says so."""
    data: dict[str, Any] = flow.model_dump(by_alias=True)
    for node in data["nodes"]:
        if node.get("choices"):
            kept = []
            for choice in node["choices"]:
                code = (choice.get("set") or {}).get("language")
                if code in offered:
                    if draft.get(code):
                        choice["label"] = f"{languages()[code].own_name} (draft translation)"
                    kept.append(choice)
            node["choices"] = kept
    return Flow.model_validate(data)


def libraries(lib: Library, *, drafts: bool) -> dict[str, Library]:
    """A library for every language on offer, English included (its picker cut to the offered languages)."""
    offered = offered_languages(lib, drafts)
    return {code: localised_library(lib, code, drafts=drafts, offered=offered) for code in offered}


def language_counts(lib: Library, locale: str) -> dict[str, int]:
    """For `translations status`: strings and flow wording in total, translated, reviewed and stale."""
    status = translation_status(lib.strings.messages, locale)
    total, translated, reviewed, stale = status.total, status.translated, status.reviewed, status.stale
    per_flow = load_flow_translations().get(locale, {})
    for fid, flow in lib.flows.items():
        texts = flow_texts(flow)
        total += len(texts)
        entries = per_flow[fid].entries if fid in per_flow else {}
        for key, entry in entries.items():
            if key not in texts:
                continue
            translated += 1
            if entry.source != source_hash(texts[key]):
                stale += 1
            elif entry.status == "reviewed":
                reviewed += 1
    return {"total": total, "translated": translated, "reviewed": reviewed, "stale": stale}


def stale_and_missing(lib: Library, locale: str) -> tuple[list[str], list[str]]:
    """For `content check`: stale translations, and safety-critical wording with no translation at all."""
    status = translation_status(lib.strings.messages, locale)
    stale = [f"strings/{k}" for k in status.stale_keys]
    missing = [f"strings/{k}" for k in SAFETY_CRITICAL if k in status.missing]
    per_flow = load_flow_translations().get(locale, {})
    for fid, flow in lib.flows.items():
        texts = flow_texts(flow)
        entries = per_flow[fid].entries if fid in per_flow else {}
        stale += [f"{fid}/{k}" for k, e in entries.items() if k in texts and e.source != source_hash(texts[k])]
    for fid, keys in safety_keys(lib).items():
        entries = per_flow[fid].entries if fid in per_flow else {}
        missing += [f"{fid}/{k}" for k in keys if k not in entries]
    return stale, missing
