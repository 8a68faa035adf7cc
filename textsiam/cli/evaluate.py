"""textsiam evaluate: metrics of a saved model on every row of a labelled pair file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..evaluation import evaluate
from .app import app, run_command


@app.command("evaluate")
def evaluate_command(
    model: str = typer.Argument(..., help="A textsiam model directory (or any SentenceTransformer with --threshold)."),
    data: str = typer.Option(..., help="Labelled pair file (CSV/TSV, .gz ok) or 'sample'."),
    output: Path = typer.Option(None, "--output", "-o", help="Write metrics JSON here, and curves beside it (.png)."),
    threshold: float = typer.Option(None, help="Override the model's saved threshold."),
    text1: str = typer.Option(None, help="Column of the first text, if not detected."),
    text2: str = typer.Option(None, help="Column of the second text, if not detected."),
    label: str = typer.Option(None, help="Column of the 0/1 label, if not detected."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the data file, e.g. latin-1."),
    overwrite: bool = typer.Option(False, help="Replace an existing output file."),
) -> None:
    """Evaluate at the frozen threshold: ROC-AUC, F1, precision, recall, accuracy, average precision."""
    metrics = run_command(evaluate, model, data, output=output, threshold=threshold, text1=text1, text2=text2,
                          label=label, overwrite=overwrite, encoding=encoding)
    typer.echo(json.dumps(metrics, indent=2))
