"""textsiam evaluate: metrics and an HTML report of a saved model on every row of a labelled pair file."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import BATCH_SIZE_DEFAULT, DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, echo_summary, run_command


@app.command("evaluate")
def evaluate_command(
    model: str = typer.Argument(..., help="A textsiam model directory (or any SentenceTransformer with --threshold)."),
    data: str = typer.Option(..., help="Labelled pair file (CSV/TSV, .gz ok) or 'sample'."),
    output: Path = typer.Option(None, "--output", "-o", show_default="print only",
                                help="Write the metrics JSON here, and the HTML report into the folder "
                                     "'<name>-report' beside it."),
    report: Path = typer.Option(None, show_default="beside --output",
                                help="Folder to write the HTML report (index.html, PNGs, metrics.json) into."),
    threshold: float = typer.Option(None, show_default="the model's saved threshold",
                                    help="Decide 'duplicate' at scores >= this."),
    text1: str = typer.Option(None, show_default="detected", help="Column of the first text."),
    text2: str = typer.Option(None, show_default="detected", help="Column of the second text."),
    label: str = typer.Option(None, show_default="detected", help="Column of the 0/1 label."),
    batch_size: int = typer.Option(None, show_default=BATCH_SIZE_DEFAULT, help="Texts per encoding batch."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the data file, e.g. latin-1."),
    overwrite: bool = typer.Option(False, help="Replace an existing output file and report folder."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Metrics at the frozen threshold and an HTML report (curves, histograms, mistakes, map of the texts).

    ROC-AUC, F1, precision, recall, accuracy, average precision; Brier score and ECE when the model has a
    calibration.
    """
    configure_runtime(threads, device)
    from ..evaluation import evaluate, report_folder

    metrics = run_command(evaluate, model, data, output=output, report=report, threshold=threshold, text1=text1,
                          text2=text2, label=label, overwrite=overwrite, encoding=encoding, batch_size=batch_size)
    typer.echo(json.dumps(metrics, indent=2))
    report_dir = report if report is not None else report_folder(output) if output is not None else None
    echo_summary(written={"metrics": output, "report": report_dir / "index.html" if report_dir else None},
                 rows={"scored": metrics["n"]})
