"""textsiam dedup: find near-duplicate texts in one column of a table, and cluster them."""

from __future__ import annotations

from pathlib import Path

import typer

from ..choices import MAX_PAIRS
from .app import BATCH_SIZE_DEFAULT, DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, run_command


@app.command("dedup")
def dedup_command(
    data: Path = typer.Argument(..., help="CSV/TSV/Parquet/JSONL (.gz ok) with one text per row."),
    column: str = typer.Option(None, "--column", "-c", show_default="a column named text, question or sentence, "
                                                                  "or the only one",
                               help="Column holding the texts."),
    model: str = typer.Option(..., "--model", "-m",
                              help="A textsiam model directory (brings its threshold), or any "
                                   "SentenceTransformer directory or name together with --threshold."),
    output: Path = typer.Option(..., "--output", "-o", help="Folder to write pairs.csv, clusters.csv, "
                                                            "summary.json into."),
    id_column: list[str] = typer.Option(None, "--id-column", show_default="a column named id, qid or question_id, "
                                                                         "if any",
                                        help="Column(s) to copy into pairs.csv and clusters.csv beside the row "
                                             "numbers; repeat or comma-separate."),
    threshold: float = typer.Option(None, show_default="the model's saved threshold",
                                    help="Similarity at or above which two texts are duplicates."),
    clustering: str = typer.Option("star", help="star: every member is a direct match of its cluster's "
                                                "representative; no chains, but a pair whose texts were "
                                                "claimed by two different centres lands in two clusters. "
                                                "components: every found pair ends in one cluster, but "
                                                "chains (A~B, B~C) can merge unrelated texts."),
    method: str = typer.Option("auto", help="Neighbour search: exact (every pair, by brute force), ann "
                                            "(FAISS HNSW: nearly every pair, far faster on large inputs; "
                                            "docs/dedup.md), or auto (exact below 20,000 distinct texts)."),
    cache_dir: Path = typer.Option(None, show_default="~/.cache/textsiam/embeddings", help="Embedding cache folder."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the embedding cache."),
    batch_size: int = typer.Option(None, show_default=BATCH_SIZE_DEFAULT,
                                   help="Texts per encoding batch."),
    max_pairs: int = typer.Option(MAX_PAIRS, help="Refuse, before searching, a threshold expected to find more "
                                                   "pairs than this (estimated from 200 sampled texts); 0: no "
                                                   "limit."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the input file."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Pairs of near-duplicate rows and a cluster for every row; exact repeats are encoded once."""
    configure_runtime(threads, device)
    from ..deduplication import dedup  # here, not at the top: --help must not wait for torch

    ids = None if not id_column else [name.strip() for value in id_column for name in value.split(",") if name.strip()]
    summary = run_command(dedup, data, column, model, threshold, output_dir=output, id_columns=ids,
                          overwrite=overwrite, method=method, clustering=clustering, cache_dir=cache_dir,
                          use_cache=not no_cache, batch_size=batch_size, encoding=encoding, max_pairs=max_pairs)
    typer.echo(f"rows read {summary['rows_read']}, written {summary['rows_written']}, rejected "
               f"{summary['rows_rejected']} (empty or unscorable texts, each alone in its cluster); "
               f"{summary['unique_texts']} distinct texts, {summary['pairs']} pairs, {summary['clusters']} "
               f"clusters (largest {summary['largest_cluster']}) -> {output}")
    typer.echo(f"{summary['seconds_total']:.1f} s, {summary['rows_per_second']:,.0f} rows/s")
