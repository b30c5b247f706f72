"""`ourvoice invite`: create one-time invite codes (with links and QR codes), list batches, revoke.

Codes are printed once and stored only as keyed hashes: staff cannot look a code up later. Each command
signs in and calls the same action as the admin web (admin/actions/invites.py): own districts only, and only
the audiences the staff member's role may invite.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from admin.actions import invites as invite_actions
from admin.actions.policy import COUNCILS, DISTRICTS, ActionError, Actor
from storage.db import make_engine, session

app = typer.Typer(help="Invite codes for young people and foster carers.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _wiring():
    from admin.commands.settings_loader import load_settings
    from bot.identity import IdentitySettings
    from bot.runtime import SetupError, build_keyring

    settings = load_settings()
    try:
        keyring = build_keyring(settings)
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return settings, IdentitySettings(), keyring


def _refuse(exc: Exception) -> typer.Exit:
    typer.echo(f"refused: {exc}", err=True)
    return typer.Exit(2)


@app.command("create")
def create(
    role: str = typer.Option(..., help="young_person | carer"),
    age_band: str = typer.Option(None, "--age-band", help="7-11 | 11-16 | 16-25 (young people only)"),
    district: str = typer.Option(None, help=" | ".join(DISTRICTS)),
    council: str = typer.Option(None, help=" | ".join(COUNCILS)),
    expires_days: int = typer.Option(30, "--expires-days", help="days until unused codes stop working"),
    count: int = typer.Option(1, "--count", help="how many codes"),
    qr_dir: str = typer.Option(None, "--qr-dir", help="write a PNG and an SVG QR code per invite here"),
    case_ref: str = typer.Option(
        None, "--case-ref", help="the young person's council case reference (one code; stored encrypted)"
    ),
    language: str = typer.Option(
        None, "--language", help="the language to speak from the first message: ar, ps, fa-AF, ti, ckb, sq, vi"
    ),
    iro_email: str = typer.Option(
        None, "--iro-email", help="their IRO's email: review statements go there (one code; stored encrypted)"
    ),
    social_worker_email: str = typer.Option(
        None, "--social-worker-email", help="their social worker's (or PA's) email, likewise"
    ),
    *,
    actor: Actor,
) -> None:
    """Create one-time invite codes and print each with its Telegram and web chat links."""
    from bot.identity import pretty, write_qr

    settings, identity, keyring = _wiring()
    if role == "young_person" and not age_band:
        typer.echo("young people need --age-band 7-11, 11-16 or 16-25", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            batch, created = invite_actions.create_invites(
                s, keyring, actor, audience=role, age_band=age_band, district=district, council=council,
                expires_days=expires_days, count=count, public_url=settings.public_url,
                bot_username=identity.telegram_bot_username, council_ref=case_ref, now=_now(), language=language,
                iro_email=iro_email, social_worker_email=social_worker_email,
            )
    except ActionError as exc:
        raise _refuse(exc) from None
    finally:
        engine.dispose()
    typer.echo(f"batch {batch}: {len(created)} code(s), valid for {expires_days} days, each works once")
    if not identity.telegram_bot_username:
        typer.echo("(set OURVOICE_TELEGRAM_BOT_USERNAME to print Telegram links)")
    for inv in created:
        typer.echo(f"{pretty(inv.code)}  {inv.telegram_link or '-'}  {inv.web_link}")
    if qr_dir:
        paths = write_qr(created, qr_dir, batch=batch)
        typer.echo(f"wrote {len(paths)} QR files to {qr_dir}")
    typer.echo("Codes are not stored in clear: keep this list safe until they are handed out.")


@app.command("list")
def list_batches(*, actor: Actor) -> None:
    """Invite batches in your districts, newest first: what they grant and how many were used or revoked."""
    from admin.commands.settings_loader import load_settings

    engine = make_engine(load_settings().database_url)
    try:
        with session(engine) as s:
            rows = invite_actions.visible_batches(s, actor)
    except ActionError as exc:
        raise _refuse(exc) from None
    finally:
        engine.dispose()
    if not rows:
        typer.echo("no invites yet")
    for b in rows:
        typer.echo(
            f"{b.batch}  {b.audience}/{b.band}  district={b.district or '-'}  council={b.council or '-'}  "
            f"used {b.used}/{b.total}  revoked {b.revoked}  expires {b.expires_at:%Y-%m-%d}  "
            f"by {b.created_by}"
        )


@app.command("revoke")
def revoke(
    code: str = typer.Argument(None, help="one code to cancel"),
    batch: str = typer.Option(None, "--batch", help="cancel every unused code of this batch"),
    *,
    actor: Actor,
) -> None:
    """Cancel an unused code (or a whole batch), e.g. when a printed sheet is lost."""
    settings, _identity, keyring = _wiring()
    if not code and not batch:
        typer.echo("give a CODE or --batch", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        with session(engine) as s:
            if batch:
                n = invite_actions.revoke_batch(s, actor, batch, now=_now())
            else:
                n = invite_actions.revoke_code(s, keyring, actor, code, now=_now())
    except ActionError as exc:
        raise _refuse(exc) from None
    finally:
        engine.dispose()
    typer.echo(f"revoked {n} unused code(s)")
