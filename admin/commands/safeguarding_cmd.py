"""`ourvoice safeguarding`: let staff try phrases against the live risk check, and test the alert routes.

`check` runs exactly what the live pipeline runs (`bot.language_check.assess_message`: the English lexicon and
model, and for a message in another language its lexicon and the other-languages model); it stores nothing.
`train` rebuilds the stored models from the labelled data, deterministically.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from bot.language_check import assess_message
from bot.risk_model import RiskModel, default_model_path
from bot.safeguarding import Lexicon, default_lexicon_path

app = typer.Typer(help="Safeguarding: try phrases against the risk check; test alert routes.",
                  no_args_is_help=True)


def load_lexicon(path: Path | None) -> Lexicon:
    """The live lexicon (or a draft file to try); exits 1 with the reason when it is invalid."""
    try:
        return Lexicon.from_file(path or default_lexicon_path())
    except (OSError, ValueError) as exc:
        typer.echo(f"{path or default_lexicon_path()}: {exc}", err=True)
        raise typer.Exit(1) from None


@app.command("check")
def check(
    messages: Annotated[
        list[str] | None, typer.Argument(help="messages to check; when none, one per line from stdin")
    ] = None,
    lexicon: Annotated[Path | None, typer.Option(help="try a draft lexicon file instead")] = None,
    model: Annotated[Path | None, typer.Option(help="try a draft model file instead")] = None,
) -> None:
    """Print one JSON line per message: {"text", "flagged", "categories", "detectors", "score", "language"},
    and "overruled" (the lexicon's categories) when the model overruled a lexicon hit (README, "Two detectors")."""
    lx = load_lexicon(lexicon)
    try:
        rm = RiskModel.from_file(model or default_model_path())
    except (OSError, ValueError, KeyError) as exc:
        typer.echo(f"{model or default_model_path()}: {exc}", err=True)
        raise typer.Exit(1) from None
    texts: Iterable[str]
    if messages:
        texts = messages
    else:
        if sys.stdin.isatty():
            typer.echo("type messages, one per line (Ctrl-D to finish)", err=True)
        texts = (line.rstrip("\r\n") for line in sys.stdin)
    for text in texts:
        if not text.strip():
            continue
        verdict = assess_message(text, lx, model=rm)
        row = {
            "text": text,
            "flagged": verdict.flagged,
            "categories": list(verdict.categories),
            "detectors": list(verdict.detectors),
            "score": verdict.score,
            "language": verdict.language,
        }
        if verdict.overruled:
            row["overruled"] = list(verdict.overruled)  # the lexicon's categories for a hit the model overruled
        typer.echo(json.dumps(row, ensure_ascii=False))


@app.command("train")
def train(
    out: Annotated[Path | None, typer.Option(help="where to write the model (default: the live model file)")] = None,
    labelled: Annotated[Path | None, typer.Option(help="folder of labelled messages (default: the live one)")] = None,
) -> None:
    """Rebuild the risk models from content/safeguarding/labelled/ and, with the live data, the other-languages
    model from content/safeguarding/languages/labelled/ (same data, same bytes, every time)."""
    from admin.risk_training import dumps, train_model
    from admin.risk_training_languages import labelled_dir as languages_dir
    from admin.risk_training_languages import model_path as languages_model
    from admin.risk_training_languages import train_languages_model

    try:
        data = train_model(labelled)
    except (OSError, ValueError) as exc:
        typer.echo(f"cannot train: {exc}", err=True)
        raise typer.Exit(1) from None
    target = out or default_model_path()
    target.write_text(dumps(data), encoding="utf-8")
    seen = data["trained_on"]
    typer.echo(
        f"{target}: {len(data['features'])} features from {seen['flag']} disclosures and {seen['not_flag']} "
        f"everyday messages; threshold {data['threshold']} (cross-validated by whole file: recall "
        f"{seen['cv_recall']}, false alarms {seen['cv_false_positive_rate']} for the model alone; "
        f"{seen['cv_combined_recall']} / {seen['cv_combined_false_positive_rate']} with the lexicon)"
    )
    if out is not None or labelled is not None or not languages_dir().is_dir():
        return  # a draft English model only; the other-languages model is trained from the live folder
    other = train_languages_model()
    languages_model().write_text(dumps(other), encoding="utf-8")
    seen = other["trained_on"]
    typer.echo(
        f"{languages_model()}: other languages ({', '.join(other['languages'])}), {len(other['features'])} "
        f"features from {seen['flag']} disclosures and {seen['not_flag']} everyday messages; threshold "
        f"{other['threshold']} (cross-validated within each language: recall {seen['cv_recall']}, false alarms "
        f"{seen['cv_false_positive_rate']})"
    )


@app.command("test-alert")
def send_test_alert(
    wait: Annotated[float, typer.Option(help="seconds to wait for the routes to accept it")] = 20.0,
) -> None:
    """Send a clearly marked test notice to every alert recipient (all levels) and report the result."""
    from admin.commands.settings_loader import load_settings
    from bot.alerts import AlertNotice
    from bot.runtime import build_notifier

    settings = load_settings()
    notifier = build_notifier(settings)
    if not notifier.recipients:
        typer.echo("no alert recipients configured: set OURVOICE_ALERT_EMAIL_TO", err=True)
        raise typer.Exit(1)
    now = datetime.now(UTC)
    notice = AlertNotice(
        alert_ref=f"TEST-{now:%y%m%d%H%M}",
        categories=("test",),
        at=now.isoformat(timespec="minutes"),
        kind="test",
        level=max(r.level for r in notifier.recipients),
    )
    notifier.max_tries = 1
    sent = notifier.notify(notice)
    notifier.wait_idle(wait)
    notifier.stop()
    ok = len(notifier.delivered)
    typer.echo(f"test notice {notice.alert_ref}: delivered to {ok} of {sent} recipient(s)")
    if ok < sent:
        raise typer.Exit(1)
