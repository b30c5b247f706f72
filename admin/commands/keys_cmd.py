"""`ourvoice keys`: make a new encryption key, re-encrypt every encrypted column under the newest key,
and check that the old keys can be retired. Keys live only in the environment, never in the database.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from storage import audit, privacy
from storage.db import make_engine, session

app = typer.Typer(help="Encryption and identity keys: new, rotate, check.", no_args_is_help=True)


def _setup():
    from admin.commands.settings_loader import load_settings
    from bot.runtime import SetupError, build_keyring

    settings = load_settings()
    try:
        return settings, build_keyring(settings)
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None


@app.command("new")
def new() -> None:
    """Print a fresh encryption key and how to put it first in OURVOICE_ENCRYPTION_KEYS."""
    from bot.crypto import Keyring

    key = Keyring.new_fernet_key()
    typer.echo(key)
    typer.echo("Put it FIRST: OURVOICE_ENCRYPTION_KEYS=<new>,<old>; restart; run `ourvoice keys rotate`.",
               err=True)


def _count(settings, keyring) -> dict[str, tuple[int, int, int]]:
    """Per column: (values, readable with the newest key alone, readable with no key)."""
    from bot.crypto import Keyring

    newest = Keyring(settings.id_hash_key, settings.fernet_keys()[:1])
    engine = make_engine(settings.database_url)
    out: dict[str, tuple[int, int, int]] = {}
    try:
        with session(engine) as s:
            for table, column in privacy.encrypted_columns():
                values = privacy.encrypted_values(s, table, column)
                fresh = bad = 0
                for v in values:
                    try:
                        newest.decrypt(v)
                        fresh += 1
                    except ValueError:
                        try:
                            keyring.decrypt(v)
                        except ValueError:
                            bad += 1
                out[f"{table}.{column}"] = (len(values), fresh, bad)
    finally:
        engine.dispose()
    return out


@app.command("check")
def check() -> None:
    """How many encrypted values use the newest key, and whether any cannot be read at all."""
    settings, keyring = _setup()
    unreadable = stale = 0
    for name, (n, fresh, bad) in _count(settings, keyring).items():
        typer.echo(f"{name}: {n} value(s), {fresh} on the newest key, {n - fresh - bad} on older keys, "
                   f"{bad} unreadable")
        unreadable += bad
        stale += n - fresh - bad
    if unreadable:
        typer.echo("some values cannot be decrypted with any configured key: do NOT remove keys", err=True)
        raise typer.Exit(1)
    typer.echo("all values on the newest key: older keys can be removed" if not stale
               else "run `ourvoice keys rotate` before removing older keys")


@app.command("rotate")
def rotate(
    batch: int = typer.Option(500, help="rows per transaction"),
    by: str = typer.Option("cli", "--by", help="staff name for the audit log"),
) -> None:
    """Seal free text still stored in clear, then re-encrypt every encrypted column under the first key in
    OURVOICE_ENCRYPTION_KEYS."""
    settings, keyring = _setup()
    engine = make_engine(settings.database_url)
    total = 0
    try:
        after, sealed = 0, 0
        while True:  # free text still in clear is sealed first, under the newest key
            with session(engine) as s:
                n, last = privacy.seal_clear_answers(s, keyring.encrypt, after_id=after, limit=batch)
            sealed += n
            if last is None:
                break
            after = last
        typer.echo(f"answer.text_value: sealed {sealed} clear free-text answer(s) into answer.text_enc")
        for table, column in privacy.encrypted_columns():
            after, done = 0, 0
            while True:
                with session(engine) as s:
                    n, last = privacy.reencrypt_batch(
                        s, table, column, keyring.rotate, after_id=after, limit=batch
                    )
                done += n
                if last is None:
                    break
                after = last
            typer.echo(f"{table}.{column}: re-encrypted {done}")
            total += done
        with session(engine) as s:
            audit.record(s, actor=by, action="keys.rotate", detail=f"values={total} sealed={sealed}",
                         now=datetime.now(UTC))
    except ValueError as exc:
        typer.echo(f"stopped: {exc} (a value no configured key can read; later rows unchanged)", err=True)
        raise typer.Exit(1) from None
    finally:
        engine.dispose()
    typer.echo(f"done: {total} value(s) now on the newest key. "
               "Check with `ourvoice keys check`, then drop old keys.")
