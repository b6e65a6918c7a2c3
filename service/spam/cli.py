"""``vetted spam``: train the base model, evaluate a model on labelled comments, learn examples.

The classifier's modules (scikit-learn, numpy) are imported inside the commands: every web
process registers these commands, and none of them should pay for that import.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from service.commands import domain_errors_as_messages
from service.db import session_scope
from service.extensions import sessions
from service.sites.models import Site
from service.sites.services import site_by_slug
from service.spam.options import model_path

T = TypeVar("T")

# The labelled data beside the repository (its README, in the folder above, lists the traps in it).
DEFAULT_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "youtube-spam"
# What `evaluate` prints, in this order.
METRICS = (
    "n",
    "spam",
    "precision",
    "recall",
    "f1",
    "ham_fpr",
    "unsure_rate",
    "missed_spam_rate",
    "roc_auc",
    "seconds_per_comment",
    "spam_threshold",
    "unsure_threshold",
)


@click.group("spam")
def spam_group() -> None:
    """The spam classifier: train, evaluate, learn."""


@spam_group.command("train")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=DEFAULT_DATA,
    envvar="VETTED_SPAM_DATA",
    show_default=True,
    help="A folder of labelled CSVs (CONTENT, CLASS), one per source [env: VETTED_SPAM_DATA].",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where base.npz and metadata.json are written [default: the shipped model's folder].",
)
def train_command(data: Path, out: Path | None) -> None:
    """Trains the base model reproducibly: the same data gives the same bytes."""
    from service.spam.classifier import MODEL_DIR
    from service.spam.evaluation import train_base_model

    out = out or MODEL_DIR
    metadata = _labelled_data_errors(lambda: train_base_model(data, out))
    summary = {
        "model": str(out / "base.npz"),
        "sha256": metadata["model_sha256"],
        "bytes": metadata["model_bytes"],
        "rows": metadata["rows"],
        "spam_threshold": metadata["spam_threshold"],
        "unsure_threshold": metadata["unsure_threshold"],
        "held_out_f1": [round(r["base"]["f1"], 4) for r in metadata["leave_one_video_out"]],
        "training_seconds": metadata["training_seconds"],
    }
    click.echo(json.dumps(summary))


@spam_group.command("evaluate")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--site", help="Score with this site's adapted model and thresholds.")
@with_appcontext
def evaluate_command(files: tuple[Path, ...], site: str | None) -> None:
    """Scores labelled comments (CSV: CONTENT, CLASS 1 = spam) and prints the metrics as JSON.

    Nothing is stored. Only the classifier is measured: the rules need live comments.
    """
    from service.spam.classifier import Scorer
    from service.spam.evaluation import evaluate
    from service.spam.features import load_rows
    from service.spam.learning import base_model, scorer_for
    from service.spam.services import site_thresholds

    rows = _labelled_data_errors(lambda: load_rows(files))
    base = base_model(model_path(current_app.config))
    scorer: Scorer
    with session_scope(sessions()) as session:
        if site is None:
            scorer, thresholds, adapted = base, (base.spam_threshold, base.unsure_threshold), False
        else:
            found = _site(session, site)
            scorer = scorer_for(session, found.id, base)
            thresholds, adapted = site_thresholds(found, scorer), scorer is not base
    metrics = evaluate(scorer, rows, *thresholds)
    result = {name: metrics[name] for name in METRICS}
    result["model"] = "site" if adapted else "base"
    click.echo(json.dumps(result))


@spam_group.command("learn")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--site", required=True, help="The site whose model learns the examples.")
@with_appcontext
def learn_command(file: Path, site: str) -> None:
    """Feeds labelled examples (CSV: CONTENT, CLASS) to a site as feedback and retrains it."""
    from service.spam.features import load_rows
    from service.spam.learning import base_model, learn

    examples = _labelled_data_errors(lambda: load_rows([file]))
    base = base_model(model_path(current_app.config))
    with session_scope(sessions()) as session:
        found = _site(session, site)
        stored = learn(session, found, examples, base)
        session.commit()
        result = {
            "site": found.slug,
            "learned": len(examples),
            "feedback": stored.feedback_count if stored else 0,
            "trained_at": stored.trained_at.isoformat() if stored else None,
        }
    click.echo(json.dumps(result))


@domain_errors_as_messages
def _site(session: Session, slug: str) -> Site:
    """The site, or a one-line error."""
    return site_by_slug(session, slug)


def _labelled_data_errors(read: Callable[[], T]) -> T:
    """Runs ``read``; a file without the needed columns or labels is a one-line error."""
    try:
        return read()
    except (ValueError, FileNotFoundError) as exc:
        raise click.ClickException(str(exc)) from exc
