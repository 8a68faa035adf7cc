"""textsiam dedup: find near-duplicate texts in one column of a CSV, and cluster them."""

from __future__ import annotations

from pathlib import Path

import typer

from ..search import TOP_K, dedup
from .app import app, run_command


@app.command("dedup")
def dedup_command(
    data: Path = typer.Argument(..., help="CSV/TSV (.gz ok) with one text per row."),
    column: str = typer.Option(..., "--column", "-c", help="Column holding the texts."),
    model: str = typer.Option(..., "--model", "-m",
                              help="A textsiam model directory (brings its threshold), or any "
                                   "SentenceTransformer directory or name together with --threshold."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write pairs.csv, clusters.csv, "
                                                            "summary.json into."),
    threshold: float = typer.Option(None, help="Similarity at or above which two texts are duplicates "
                                               "(default: the model's saved threshold)."),
    clustering: str = typer.Option("star", help="star: every member matches its cluster's representative "
                                                "(no chaining); components: all connected pairs."),
    method: str = typer.Option("auto", help="Neighbour search: exact, ann (FAISS HNSW), or auto (exact "
                                            "below 20,000 unique texts)."),
    top_k: int = typer.Option(TOP_K, help="Neighbours kept per unique text (pairs beyond both texts' top-k "
                                          "are missed; raise it for heavily duplicated data)."),
    cache_dir: Path = typer.Option(None, help="Embedding cache folder (default: ~/.cache/textsiam/embeddings)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the embedding cache."),
    batch_size: int = typer.Option(64, help="Texts per encoding batch."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the input file."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Pairs of near-duplicate rows and a cluster for every row; exact repeats are encoded once."""
    summary = run_command(dedup, data, column, model, threshold, output_dir=output, overwrite=overwrite,
                          top_k=top_k, method=method, clustering=clustering, cache_dir=cache_dir,
                          use_cache=not no_cache, batch_size=batch_size, encoding=encoding)
    typer.echo(f"rows read {summary['rows_read']}, written {summary['rows_written']}, rejected "
               f"{summary['rows_rejected']}; {summary['unique_texts']} unique texts "
               f"({summary['empty_rows']} empty), {summary['pairs']} pairs, {summary['clusters']} clusters "
               f"(largest {summary['largest_cluster']}) in {summary['seconds_total']:.1f} s -> {output}")
