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
    if stale:
        typer.echo(stale, err=True)
        typer.echo("1 problem(s) found", err=True)
        raise typer.Exit(1)
    kinds: dict[str, int] = {}
    for f in lib.flows.values():
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    summary = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in sorted(kinds.items()))
    typer.echo(f"content OK: {summary}")


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
