"""`ourvoice content check`: validate every content file and report file:line: reason."""

from __future__ import annotations

from pathlib import Path

import typer

from content.lint import lint
from content.loader import CONTENT_DIR, ContentInvalid, Library, load_library

app = typer.Typer(help="Check the flows, topics and surveys in content/.", no_args_is_help=True)


@app.command("check")
def check(root: Path = typer.Option(None, help="content folder (default: the installed content/)")) -> None:
    """Validate all content; exit 1 listing every problem with file and line."""
    try:
        lib = load_library(root)
    except ContentInvalid as exc:
        for err in exc.errors:
            typer.echo(str(err), err=True)
        typer.echo(f"{len(exc.errors)} problem(s) found", err=True)
        raise typer.Exit(1) from None
    problems = lint(root or CONTENT_DIR, known_actions=known_actions(lib))
    if problems:
        for err in problems:
            typer.echo(str(err), err=True)
        typer.echo(f"{len(problems)} problem(s) found", err=True)
        raise typer.Exit(1)
    from admin.risk_training import stale_reason
    from bot.risk_model import default_model_path

    # A content folder of its own (a second council's, say) may rely on the shipped model.
    own = root is not None and (root / "safeguarding" / "labelled").is_dir()
    stale = stale_reason(root / "safeguarding" / "model.json", root / "safeguarding" / "labelled") if own else (
        stale_reason(default_model_path())
    )
    languages = (root or CONTENT_DIR) / "safeguarding" / "languages"
    if not stale and (languages / "labelled").is_dir():
        from admin.risk_training_languages import stale_reason as languages_stale

        stale = languages_stale(languages / "model.json", languages / "labelled")
    if stale:
        typer.echo(stale, err=True)
        typer.echo("1 problem(s) found", err=True)
        raise typer.Exit(1)
    _report_translations(lib)
    kinds: dict[str, int] = {}
    for f in lib.flows.values():
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    summary = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(kinds.items()))
    typer.echo(f"content OK: {summary}")


def _report_translations(lib: Library) -> None:
    """Missing and stale translations per language (issue 24). Not a failure: a stale or missing translation
    is never shown (English or the multilingual safe reply is used instead), and the language is not offered
    until its safety-critical wording is reviewed."""
    from content.localise import stale_and_missing
    from content.translations import languages

    for code, lang in languages().items():
        if code == "en":
            continue
        stale, missing = stale_and_missing(lib, code)
        if stale or missing:
            typer.echo(f"translations {lang.name} ({code}): {len(stale)} stale, {len(missing)} safety-critical missing")
            for item in stale:
                typer.echo(f"  stale: {item} (the English changed: translate again)")
            for item in missing:
                typer.echo(f"  missing: {item}")


def known_actions(lib: Library) -> set[str]:
    """The `action:` names the bot runtime has handlers for (only the names are read).

    The handlers are built with throwaway keys so the check runs without a configured .env."""
    import secrets

    from cryptography.fernet import Fernet

    from bot.crypto import Keyring
    from bot.effects import EFFECTS
    from bot.settings import BotSettings

    keyring = Keyring(secrets.token_hex(32), [Fernet.generate_key().decode()])
    settings = BotSettings(_env_file=None)  # type: ignore[call-arg]
    names: set[str] = set()
    for contribute in EFFECTS:
        names.update(contribute(keyring, lib, settings))
    return names


translations_app = typer.Typer(help="Translations of the bot's strings (issue 24): status, PO export and import.")
app.add_typer(translations_app, name="translations")


@translations_app.command("status")
def translations_status() -> None:
    """Per language: strings in total, translated, reviewed, stale, and whether it may be offered."""
    from content.localise import language_counts, safety_state
    from content.translations import languages

    lib = load_library()
    typer.echo(f"{'language':<22} {'total':>5} {'translated':>10} {'reviewed':>8} {'stale':>5}  offered")
    for code, lang in languages().items():
        if code == "en":
            continue
        n = language_counts(lib, code)
        state = safety_state(lib, code)
        offered = {
            "reviewed": "yes",
            "drafted": "demo only (safety-critical wording drafted, not reviewed)",
            "incomplete": "no (safety-critical wording missing or stale)",
        }[state]
        name = f"{lang.name} ({code})"
        typer.echo(f"{name:<22} {n['total']:>5} {n['translated']:>10} {n['reviewed']:>8} {n['stale']:>5}  {offered}")


@translations_app.command("export")
def translations_export(
    locale: str = typer.Argument(..., help="e.g. ar, ps, fa-AF, ti, ckb, sq, vi"),
    out: Path = typer.Option(..., help="the PO file to write"),
) -> None:
    """Write a PO file for a translator: every English string (one entry per age band), with the current
    translation where there is one; stale and draft entries are marked fuzzy."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    from content.translations import load_translations, source_hash

    english = load_library().strings.messages
    have = load_translations().get(locale)
    catalog = Catalog(locale=locale.replace("-", "_"), project="ourvoice")
    for key, text in english.items():
        bands = {"default": text} if isinstance(text, str) else dict(text)
        entry = have.messages.get(key) if have else None
        for band, words in bands.items():
            done = ""
            if entry is not None:
                theirs = {"default": entry.text} if isinstance(entry.text, str) else dict(entry.text)
                done = theirs.get(band, "")
            fresh = entry is not None and entry.source == source_hash(text) and entry.status == "reviewed"
            catalog.add(
                words, done, context=f"{key}|{band}", flags=() if fresh or not done else ("fuzzy",),
                auto_comments=[f"source {source_hash(text)}"],
            )
    with out.open("wb") as fh:
        write_po(fh, catalog, width=0)
    typer.echo(f"wrote {len(catalog)} entries to {out}")


@translations_app.command("import")
def translations_import(
    locale: str = typer.Argument(...),
    po: Path = typer.Argument(..., exists=True),
    reviewed_by: str = typer.Option("", help="the qualified translator who reviewed it: marks entries reviewed"),
    root: Path = typer.Option(None, help="content folder (default: the installed content/)"),
) -> None:
    """Read a translator's PO file back into content/strings/<locale>.yaml. Entries still fuzzy stay draft;
    with --reviewed-by the others are marked reviewed by that person today."""
    import datetime as dt

    import yaml
    from babel.messages.pofile import read_po

    from content.translations import content_root, source_hash

    english = load_library().strings.messages
    with po.open("rb") as fh:
        catalog = read_po(fh)
    path = (root or content_root()) / "strings" / f"{locale}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else {"messages": {}}
    messages = dict(data.get("messages") or {})
    count = 0
    for msg in catalog:
        if not msg.id or not msg.string or not msg.context or "|" not in msg.context:
            continue
        key, band = msg.context.split("|", 1)
        if key not in english:
            continue
        old = messages.get(key) or {}
        text = dict(old.get("text") or {}) if isinstance(old.get("text"), dict) else {}
        text[band] = msg.string
        reviewed = bool(reviewed_by) and not msg.fuzzy
        messages[key] = {
            "text": text, "status": "reviewed" if reviewed else "draft", "source": source_hash(english[key]),
            "translator": old.get("translator"),
            "reviewed_by": reviewed_by if reviewed else None,
            "reviewed_on": dt.datetime.now(dt.UTC).date().isoformat() if reviewed else None,
        }
        count += 1
    body = yaml.safe_dump({"schema_version": 1, "locale": locale, "messages": messages}, allow_unicode=True,
                          sort_keys=False, width=1000)
    path.write_text(body, encoding="utf-8")
    typer.echo(f"imported {count} entries into {path}")


@app.command("preview")
def preview(
    flow_id: str = typer.Argument(..., help="a flow, topic or survey id"),
    language: str = typer.Option("en", "--language", help="e.g. ar, ps, fa-AF, ti, ckb, sq, vi"),
    band: str = typer.Option("teen", help="junior, teen, young_adult or carer"),
) -> None:
    """Staff preview (issue 24): a flow's wording in any language and age band, drafts included and marked,
    English wherever there is no current translation."""
    from content.localise import flow_texts, is_draft, localised_library
    from content.schema import text_for

    lib = load_library()
    if flow_id not in lib.flows:
        typer.echo(f"no flow {flow_id!r}", err=True)
        raise typer.Exit(1)
    english = flow_texts(lib.flows[flow_id])
    shown = flow_texts(localised_library(lib, language, drafts=True).flows[flow_id])
    if is_draft(lib, language):
        typer.echo(f"[{language}: draft translation, not yet reviewed by a qualified translator]")
    for key, text in shown.items():
        words = text_for(text, band)
        mark = "" if language == "en" or words != text_for(english[key], band) else "  [English: not translated]"
        typer.echo(f"{key}: {words}{mark}")
