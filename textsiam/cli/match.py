"""textsiam match: rank each question's candidates (--data), or retrieve top-k answers from a pool."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from .app import BATCH_SIZE_DEFAULT, DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, run_command


@app.command("match")
def match_command(
    model: str = typer.Argument(..., help="A textsiam model directory, or any SentenceTransformer directory."),
    output: Path = typer.Option(..., "--output", "-o", help="CSV (or .tsv) to write."),
    data: Path = typer.Option(None, show_default="none: retrieval",
                              help="Ranking: a (question, candidate[, label][, question_id]) file, e.g. "
                                   "WikiQA's TSV; every row is scored and ranked within its question."),
    metrics: Path = typer.Option(None, show_default="not written",
                                 help="Ranking with labels: write MAP, MRR and P@1 here (JSON)."),
    questions: Path = typer.Option(None, show_default="none: ranking",
                                   help="Retrieval: a file of questions (column question/title/text)."),
    answers: Path = typer.Option(None, show_default="none: ranking",
                                 help="Retrieval: the answer pool (column answer/sentence/body/text)."),
    top_k: int = typer.Option(None, show_default="10", help="Retrieval: answers kept per question."),
    question: str = typer.Option(None, show_default="detected", help="Column of the question."),
    answer: str = typer.Option(None, show_default="detected", help="Column of the candidate answer."),
    label: str = typer.Option(None, show_default="detected", help="--data: column of the 0/1 label."),
    group: str = typer.Option(None, show_default="question_id/QuestionID, else the question text",
                              help="--data: column naming the question."),
    batch_size: int = typer.Option(None, show_default=BATCH_SIZE_DEFAULT, help="Texts per encoding batch."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the input files."),
    overwrite: bool = typer.Option(False, help="Replace existing output files."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Rank candidates per question (--data), or retrieve the top-k answers of each question (--questions, --answers).

    Questions go through side text1 and answers through side text2 (their own towers in a pseudo model).
    """
    configure_runtime(threads, device)
    from ..matching import match  # here, not at the top: --help must not wait for torch

    summary = run_command(match, model, output, data=data, questions=questions, answers=answers,
                          metrics_output=metrics, top_k=top_k, question=question, answer=answer, label=label,
                          group=group, batch_size=batch_size, overwrite=overwrite, encoding=encoding)
    if summary["mode"] == "rank":
        typer.echo(f"rows read {summary['read']}, written {summary['written']}, rejected {summary['rejected']} "
                   f"(empty score, see the reason column) -> {output}")
        if summary["metrics"] is not None:
            typer.echo(json.dumps(summary["metrics"], indent=2))
    else:
        typer.echo(f"questions read {summary['questions']} (rejected {summary['rejected']}), answers read "
                   f"{summary['answers']} (rejected {summary['answers_rejected']}), rows written "
                   f"{summary['written']} -> {output}")
    typer.echo(f"scoring {summary['seconds']:.1f} s, {summary['rows_per_second']:,.0f} rows/s")
