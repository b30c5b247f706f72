"""The `ourvoice` command: composition root for staff actions and for running the bot.

Each concern lives in its own module under admin/commands; this file wires them together.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import typer

from admin.actions.policy import roles_for
from admin.commands import (
    alerts_cmd,
    audit_cmd,
    card_cmd,
    content_cmd,
    council_cmd,
    db_cmd,
    demo_cmd,
    event_cmd,
    goodnews_cmd,
    invite_cmd,
    jobs_cmd,
    keys_cmd,
    participant_cmd,
    report_cmd,
    requests_cmd,
    responses_cmd,
    run_cmd,
    safeguarding_cmd,
    staff_cmd,
    survey_cmd,
    topic_cmd,
    toread_cmd,
)
from admin.commands.auth_helper import guard
from admin.commands.settings_loader import load_settings  # noqa: F401 - the name other code reads here
from bot.crypto import Keyring
from bot.push import new_vapid_key

app = typer.Typer(help="ourvoice: a participation bot for children in care, care leavers and foster carers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(content_cmd.app, name="content")
app.add_typer(db_cmd.app, name="db")
app.add_typer(safeguarding_cmd.app, name="safeguarding")
app.add_typer(alerts_cmd.app, name="alerts")  # signs in itself (18)
app.add_typer(toread_cmd.app, name="toread")  # signs in itself (18)
app.add_typer(requests_cmd.app, name="requests")  # signs in itself (25)
app.add_typer(survey_cmd.app, name="survey")
app.add_typer(invite_cmd.app, name="invite")
app.add_typer(keys_cmd.app, name="keys")
app.add_typer(participant_cmd.app, name="participant")
app.add_typer(topic_cmd.app, name="topic")  # issue 6
app.add_typer(card_cmd.app, name="card")  # issue 6
app.add_typer(goodnews_cmd.app, name="goodnews")  # issue 6
app.add_typer(event_cmd.app, name="event")  # signs in itself (20)
app.add_typer(staff_cmd.app, name="staff")  # issue 9
app.add_typer(audit_cmd.app, name="audit")  # issue 9
app.add_typer(responses_cmd.app, name="responses")  # issue 9
app.add_typer(report_cmd.app, name="report")  # issue 8
app.add_typer(report_cmd.quote_app, name="quote")  # issue 8
app.add_typer(demo_cmd.app, name="demo")  # issue 8
app.add_typer(jobs_cmd.app, name="jobs")
app.command("run")(run_cmd.run)
app.add_typer(council_cmd.app, name="council")  # issue 26 (operator)


@app.callback()
def _council(council: str = typer.Option(
    "", "--council", envvar="OURVOICE_COUNCIL",
    help="which council's data and content a command works on (default: the signing-in account's, else "
         "this deployment's own council)")) -> None:
    """The CLI's one entry point for councils (issue 26): everything after runs for this council."""
    if council.strip():
        from admin.commands.settings_loader import load_settings
        from bot import tenant
        from storage.db import make_engine

        tenant.enter(make_engine(load_settings().database_url), council.strip())

# Commands that change things, export data or show an individual's words need a signed-in staff member
# (after the first staff account exists). Listed here, in one place, so the rule is easy to review. Commands
# backed by a staff action take their roles from that action's rule (admin/actions/policy.py RULES).
_WORKERS = ("participation_worker", "participation_manager")
_PROTECTED: dict[str, dict[str, tuple[str, ...] | None]] = {
    "survey": {"list": roles_for("wave.list"), "status": roles_for("wave.view"), "open": roles_for("wave.open"),
               "close": roles_for("wave.close"), "enter": roles_for("wave.enter")},
    "topic": {"publish": roles_for("topic.publish"), "close": roles_for("topic.close")},
    "card": {"list": roles_for("card.list"), "show": roles_for("card.view"), "move": roles_for("card.move"),
             "resolve": roles_for("card.move")},
    "goodnews": {"list": roles_for("goodnews.list"), "approve": roles_for("goodnews.decide"),
                 "reject": roles_for("goodnews.decide")},
    "report": {n: roles_for("report.export") for n in ("ocypc", "young-people", "panel")},
    "quote": {"list": roles_for("quote.list"), "approve": roles_for("quote.decide"),
              "reject": roles_for("quote.decide")},
    "invite": {"create": roles_for("invite.create"), "list": roles_for("invite.create"),
               "revoke": roles_for("invite.revoke")},
    "keys": {"rotate": ("participation_manager",)},
    "participant": {n: ("participation_manager",) for n in ("export", "delete")},
}
for _group in app.registered_groups:
    for _command, _roles in _PROTECTED.get(_group.name or "", {}).items():
        guard(_group.typer_instance, _command, roles=_roles)  # type: ignore[arg-type]


@app.command("init")
def init(env_file: Path = typer.Option(Path(".env"), help="where to write the generated keys")) -> None:
    """Create a .env with fresh secret keys (never overwrites an existing one)."""
    if env_file.exists():
        typer.echo(f"{env_file} already exists; leaving it alone.")
        return
    env_file.write_text(
        "# Generated by `ourvoice init`. Keep secret; never commit.\n"
        f"OURVOICE_ID_HASH_KEY={secrets.token_urlsafe(32)}\n"
        f"OURVOICE_ENCRYPTION_KEYS={Keyring.new_fernet_key()}\n"
        f"OURVOICE_AUDIT_KEY={secrets.token_urlsafe(32)}\n"
        # Web Push: the VAPID key pair's private half (the public half is derived from it). Set
        # OURVOICE_PUSH_VAPID_SUBJECT to a mailto: address push services can reach you at.
        f"OURVOICE_PUSH_VAPID_PRIVATE_KEY={new_vapid_key()}\n",
        encoding="utf-8",
    )
    os.chmod(env_file, 0o600)
    typer.echo(f"wrote {env_file} with new keys")


def main() -> None:
    """Console-script entry point. A database that is locked past its busy timeout, or down, ends a command with
    one plain line and exit code 3 instead of a traceback (nothing was changed: each command's transaction is
    rolled back whole)."""
    from storage.db import DatabaseUnavailable

    try:
        app()  # exits by itself (SystemExit) with the command's code; a usage error is answered by Typer
    except DatabaseUnavailable as exc:
        reason = "busy (another process is writing)" if "locked" in str(exc).lower() else "unavailable"
        typer.echo(f"the database is {reason}: nothing was changed; try again in a moment", err=True)
        sys.exit(3)
