"""`ourvoice invite`: create one-time invite codes (with links and QR codes), list batches, revoke.

Codes are printed once and stored only as keyed hashes: staff cannot look a code up later.
"""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from storage import audit
from storage import invites as store
from storage.db import make_engine, session

app = typer.Typer(help="Invite codes for young people and foster carers.", no_args_is_help=True)


def _now() -> datetime:
    return datetime.now(UTC)


def _wiring():  # noqa: ANN202 - (settings, identity settings, keyring)
    from admin.cli import load_settings
    from bot.identity import IdentitySettings
    from bot.runtime import SetupError, build_keyring

    settings = load_settings()
    try:
        keyring = build_keyring(settings)
    except SetupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    return settings, IdentitySettings(), keyring


@app.command("create")
def create(
    role: str = typer.Option(..., help="young_person | carer"),
    age_band: str = typer.Option(None, "--age-band", help="7-11 | 11-16 | 16-25 (young people only)"),
    district: str = typer.Option(None, help="north | south | east | thanet | west | out_of_county"),
    council: str = typer.Option(None, help="super_council | ocypc | ocypc_extra | yac"),
    expires_days: int = typer.Option(30, "--expires-days", help="days until unused codes stop working"),
    count: int = typer.Option(1, "--count", help="how many codes"),
    qr_dir: str = typer.Option(None, "--qr-dir", help="write a PNG and an SVG QR code per invite here"),
    by: str = typer.Option("cli", "--by", help="staff name for the audit log"),
    case_ref: str = typer.Option(
        None, "--case-ref", help="the young person's council case reference (one code; stored encrypted)"
    ),
) -> None:
    """Create one-time invite codes and print each with its Telegram and web chat links."""
    from bot.identity import create_invites, pretty, write_qr

    settings, identity, keyring = _wiring()
    if role == "young_person" and not age_band:
        typer.echo("young people need --age-band 7-11, 11-16 or 16-25", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    now = _now()
    try:
        with session(engine) as s:
            batch, created = create_invites(
                s, keyring, role=role, age_band=age_band, district=district, council=council,
                expires_days=expires_days, count=count, public_url=settings.public_url,
                bot_username=identity.telegram_bot_username, created_by=by, now=now, council_ref=case_ref,
            )
            audit.record(s, actor=by, action="invite.create", target=batch,
                         detail=f"count={count} role={role} age={age_band or '-'} district={district or '-'} "
                                f"council={council or '-'} days={expires_days}"
                                + (" case_ref=yes" if case_ref else ""), now=now)
    except ValueError as exc:
        typer.echo(f"refused: {exc}", err=True)
        raise typer.Exit(2) from None
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
def list_batches() -> None:
    """Invite batches, newest first: what they grant and how many were used or revoked."""
    from admin.cli import load_settings

    engine = make_engine(load_settings().database_url)
    try:
        with session(engine) as s:
            rows = store.invite_batches(s)
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
    by: str = typer.Option("cli", "--by", help="staff name for the audit log"),
) -> None:
    """Cancel an unused code (or a whole batch), e.g. when a printed sheet is lost."""
    from bot.identity import normalise

    settings, _identity, keyring = _wiring()
    if not code and not batch:
        typer.echo("give a CODE or --batch", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    now = _now()
    try:
        with session(engine) as s:
            if batch:
                n = store.revoke_batch(s, batch.strip().upper(), now=now)
                target = batch
            else:
                n = int(store.revoke_invite(s, keyring.identity_hash("invite", normalise(code)), now=now))
                target = "one code"
            audit.record(s, actor=by, action="invite.revoke", target=target, detail=f"revoked={n}", now=now)
    finally:
        engine.dispose()
    typer.echo(f"revoked {n} unused code(s)")
