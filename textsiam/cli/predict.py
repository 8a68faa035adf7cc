"""textsiam predict: add score and is_duplicate to every row of a pair file."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import BATCH_SIZE_DEFAULT, DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, run_command


@app.command("predict")
def predict_command(
    model: str = typer.Argument(..., help="A textsiam model directory (or any SentenceTransformer with --threshold)."),
    data: Path = typer.Argument(..., help="Pair file to score (CSV/TSV, .gz ok); labels are not needed."),
    output: Path = typer.Option(..., "--output", "-o", help="Scored CSV (or .tsv) to write."),
    threshold: float = typer.Option(None, show_default="the model's saved threshold",
                                    help="Call pairs scoring at least this duplicates."),
    text1: str = typer.Option(None, show_default="detected", help="Column of the first text."),
    text2: str = typer.Option(None, show_default="detected", help="Column of the second text."),
    chunksize: int = typer.Option(20_000, help="Rows read and scored at a time."),
    batch_size: int = typer.Option(None, show_default=BATCH_SIZE_DEFAULT, help="Texts per encoding batch."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the input file, e.g. latin-1."),
    overwrite: bool = typer.Option(False, help="Replace an existing output file."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Score pairs with the model's frozen threshold; every input row is written, in order."""
    configure_runtime(threads, device)
    from ..prediction import predict_file  # here, not at the top: --help must not wait for torch

    counts = run_command(predict_file, model, data, output, threshold=threshold, text1=text1, text2=text2,
                         chunksize=chunksize, batch_size=batch_size, overwrite=overwrite,
                         encoding=encoding)
    typer.echo(f"rows read {counts['read']}, written {counts['written']}, rejected {counts['rejected']} "
               f"(empty score, see the reason column) -> {output}")
    typer.echo(f"scoring {counts['seconds']:.1f} s, {counts['rows_per_second']:,.0f} rows/s")
