"""The dedup job: read one text column, collapse exact repeats, encode each distinct text once (cached),
find near pairs, cluster them, and write pairs.csv, clusters.csv and summary.json."""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .cache import EmbeddingCache, default_cache_dir, embed_texts, model_fingerprint
from .choices import MAX_PAIRS
from .clusters import CLUSTERINGS, cluster
from .data import find_column, read_table
from .errors import TextsiamError, check_choice, check_positive
from .files import atomic_path, check_output
from .neighbours import (
    METHODS,
    METRICS,
    TOP_K,
    Pairs,
    check_pair_budget,
    find_pairs,
    pair_scores,
    scorable,
    search_space,
)
from .text import clean_texts, duplicate_key

logger = logging.getLogger("textsiam")

TEXT_COLUMNS = ("text", "question", "sentence")  # tried in this order when --column is not given
ID_COLUMNS = ("id", "qid", "question_id")  # copied into the outputs when --id-column is not given
WRITE_CHUNK = 500_000  # output rows given texts and written at a time: bounds the memory of millions of pairs


@dataclass
class Collapsed:
    """Rows grouped by ``duplicate_key``: ``uid[row]`` is the row's group (-1 for an empty text) and
    ``first_row[g]`` the first row of group g, whose cleaned text ``texts[g]`` is what gets encoded."""

    texts: list[str]
    uid: np.ndarray
    first_row: np.ndarray


def read_column(path: str | Path, column: str | None, id_columns: Sequence[str] | None = None, *,
                encoding: str = "utf-8") -> tuple[pd.Series, pd.DataFrame]:
    """The text column (as in the file, one entry per data row) and the id columns to copy into the outputs.

    ``id_columns`` None picks the first of ``ID_COLUMNS`` present (if any); ``[]`` copies none.
    """
    frame = read_table(path, encoding=encoding)
    columns = list(frame.columns)
    column = find_column(columns, column, TEXT_COLUMNS, option="--column", source=str(path))
    if id_columns is None:
        by_lower = {c.lower(): c for c in columns if c != column}
        ids = [by_lower[name] for name in ID_COLUMNS if name in by_lower][:1]
    else:
        ids = list(dict.fromkeys(find_column(columns, name, (), option="--id-column", source=str(path))
                                 for name in id_columns))
    if column in ids:
        raise TextsiamError(f"{path}: column {column!r} is both the text column and an --id-column; "
                            "pass another --id-column.")
    return frame[column].fillna("").astype(str).reset_index(drop=True), frame[ids].reset_index(drop=True)


def collapse(texts: pd.Series) -> Collapsed:
    """Group rows whose texts are exact duplicates (``textsiam.text.duplicate_key``); empty texts join none.

    Each group is encoded once, as ``clean_text`` of its first row: the text the model and its threshold saw,
    never the lower-cased key.
    """
    cleaned = clean_texts(texts, source=str(texts.name))
    keys = cleaned.map(duplicate_key)
    codes, _ = pd.factorize(keys.where(keys != ""), use_na_sentinel=True)  # numbered by first appearance
    rows = np.flatnonzero(codes >= 0)
    _, first = np.unique(codes[rows], return_index=True)
    first_row = rows[first].astype(np.int64)
    return Collapsed(cleaned.iloc[first_row].tolist(), codes.astype(np.int64), first_row)


def _per_row(values: np.ndarray, uid: np.ndarray, fill: int = -1) -> np.ndarray:
    """``values[uid]`` for each row, and ``fill`` for rows outside every group (uid -1)."""
    out = np.full(len(uid), fill, dtype=np.int64)
    out[uid >= 0] = values[uid[uid >= 0]]
    return out


def repeated_rows(groups: Collapsed) -> np.ndarray:
    """Rows whose text already occurred earlier (the same ``duplicate_key``)."""
    return (groups.uid >= 0) & (_per_row(groups.first_row, groups.uid) != np.arange(len(groups.uid)))


def row_clusters(groups: Collapsed, labels: np.ndarray, rep: np.ndarray) -> pd.DataFrame:
    """clusters.csv's numbers: every row in input order; a row that could not be scored is alone in its cluster."""
    uid = groups.uid
    rows = np.arange(len(uid))
    alone = uid < 0
    key = np.where(alone, -1 - rows, _per_row(labels, uid))  # negative keys: one cluster per lone row
    cluster_id, _ = pd.factorize(key)  # numbered by first appearance
    return pd.DataFrame({"row": rows, "cluster_id": cluster_id, "cluster_size": np.bincount(cluster_id)[cluster_id],
                         "representative_row": np.where(alone, rows, _per_row(groups.first_row[rep], uid))})


def row_pairs(groups: Collapsed, pairs: Pairs, self_score: np.ndarray) -> pd.DataFrame:
    """pairs.csv's numbers: near pairs between first rows of groups, and each exact repeat paired with its
    group's first row, sorted by (row_a, row_b)."""
    repeat = np.flatnonzero(repeated_rows(groups))
    a = np.concatenate([groups.first_row[pairs.a], groups.first_row[groups.uid[repeat]]])
    b = np.concatenate([groups.first_row[pairs.b], repeat])
    score = np.concatenate([pairs.score, self_score[groups.uid[repeat]]]).astype(np.float32)
    exact = np.r_[np.zeros(len(pairs), dtype=bool), np.ones(len(repeat), dtype=bool)]
    row_a, row_b = np.minimum(a, b), np.maximum(a, b)
    order = np.lexsort((row_b, row_a))
    return pd.DataFrame({"row_a": row_a[order], "row_b": row_b[order], "score": score[order], "exact": exact[order]})


def with_texts(table: pd.DataFrame, texts: pd.Series, ids: pd.DataFrame) -> pd.DataFrame:
    """``table`` (rows of pairs.csv or clusters.csv) with the id columns after the row numbers and the texts
    at the end, looked up in ``texts`` (taken as arrow strings: no Python object per text)."""
    def at(values: pd.Series, rows: pd.Series) -> pd.Series:
        return values.iloc[rows.to_numpy()].reset_index(drop=True)

    table = table.reset_index(drop=True)
    if "row_a" in table:
        columns = {"row_a": table.row_a, "row_b": table.row_b}
        for name in ids.columns:
            columns[f"{name}_a"], columns[f"{name}_b"] = at(ids[name], table.row_a), at(ids[name], table.row_b)
        columns.update(score=table.score, exact=table.exact, text_a=at(texts, table.row_a),
                       text_b=at(texts, table.row_b))
    else:
        columns = {"row": table.row, **{name: at(ids[name], table.row) for name in ids.columns},
                   **{name: table[name] for name in ("cluster_id", "cluster_size", "representative_row")},
                   "text": at(texts, table.row), "representative_text": at(texts, table.representative_row)}
    return pd.DataFrame(columns)


def write_csv(frames: Iterable[pd.DataFrame], path: Path) -> None:
    """Write the frames, one after the other, as one CSV with pyarrow (far less CPU than pandas' to_csv on
    millions of rows with texts, which are arrow strings already). Text columns are quoted."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    writer, schema = None, None
    try:
        for frame in frames:
            table = pa.Table.from_pandas(frame, preserve_index=False, schema=schema)
            if writer is None:
                schema, writer = table.schema, pa_csv.CSVWriter(path, table.schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


def chunks(table: pd.DataFrame) -> Iterator[pd.DataFrame]:
    """``table`` in slices of ``WRITE_CHUNK`` rows (one empty slice for an empty table: the header is written)."""
    size = WRITE_CHUNK
    for start in range(0, max(len(table), 1), size):
        yield table.iloc[start:start + size]


class _Stages:
    """Wall-clock and CPU seconds (all threads of this process) spent in each named stage, and the peak
    memory so far at its end (the stage where it jumps is the one that set it)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.peak_memory_mb: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self.cpu_seconds[name] = round(time.process_time() - cpu, 3)
        self.peak_memory_mb[name] = peak_memory_mb()


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dedup(input_path: str | Path, column: str | None, model: Any, threshold: float | None = None, *,
          output_dir: str | Path, id_columns: Sequence[str] | None = None, overwrite: bool = False,
          method: str = "auto", clustering: str = "star", cache_dir: str | Path | None = None,
          use_cache: bool = True, batch_size: int | None = None, top_k: int = TOP_K, encoding: str = "utf-8",
          max_pairs: int = MAX_PAIRS, progress: bool | None = None) -> dict[str, Any]:
    """Find near-duplicate texts in one column of a table and write pairs.csv, clusters.csv, summary.json.

    ``model`` is a textsiam/SentenceTransformer directory or name, or a loaded ``SiameseModel``; its saved
    threshold is used unless ``threshold`` is given. A threshold expected to find more than ``max_pairs`` pairs
    is refused before the search (``neighbours.check_pair_budget``; 0: no limit). Returns the summary (also
    written to summary.json).
    """
    from .model import SiameseModel, load

    output_dir = check_output(output_dir, overwrite=overwrite)
    check_choice("--method", method, METHODS)
    check_choice("--clustering", clustering, CLUSTERINGS)
    check_positive("--top-k", top_k)
    check_positive("--batch-size", batch_size, optional=True)
    stages = _Stages()
    started, started_cpu = time.perf_counter(), time.process_time()
    with stages("read"):
        texts, ids = read_column(input_path, column, id_columns, encoding=encoding)
    with stages("load_model"):
        siamese = model if isinstance(model, SiameseModel) else load(model)
    threshold = siamese.threshold if threshold is None else float(threshold)
    if threshold is None:
        raise TextsiamError(f"{model}: the model has no saved threshold; pass --threshold.")
    similarity_fn = siamese.encoder.similarity_fn_name or "cosine"
    check_choice("the model's similarity function", similarity_fn, METRICS)
    with stages("collapse"):
        groups = collapse(texts)
    empty_rows = int((groups.uid < 0).sum())
    with stages("encode"):
        cache = (EmbeddingCache(cache_dir or default_cache_dir(), model_fingerprint(siamese.encoder))
                 if use_cache else None)
        embeddings, n_encoded = embed_texts(siamese, groups.texts, cache=cache, batch_size=batch_size,
                                            progress=progress)
    dim = embeddings.shape[1]
    with stages("search"):
        usable = np.flatnonzero(scorable(embeddings, similarity_fn))
        # Only scorable texts are searched; a copy is made only when some are not.
        x = search_space(embeddings if len(usable) == len(embeddings) else embeddings[usable], similarity_fn)
        del embeddings
        expected_pairs = check_pair_budget(x, similarity_fn, threshold, max_pairs)
        found, used = find_pairs(x, similarity_fn, threshold, method=method, top_k=top_k, progress=progress)
        pairs = Pairs(usable[found.a], usable[found.b], found.score)
        self_score = np.zeros(len(groups.texts), dtype=np.float32)
        self_score[usable] = pair_scores(x, np.arange(len(x)), np.arange(len(x)), similarity_fn)
        del x, found
    unscorable = np.setdiff1d(np.arange(len(groups.texts)), usable)
    if len(unscorable):
        logger.warning("%d distinct text(s) got no usable vector from the model (first at row %d); each stays "
                       "alone in its cluster and is counted in rows_rejected.", len(unscorable),
                       int(groups.first_row[unscorable[0]]))
    groups.uid[np.isin(groups.uid, unscorable)] = -1  # rows the model cannot embed stand alone, like empty ones
    with stages("cluster"):
        labels, rep = cluster(len(groups.texts), pairs, clustering)
        clusters = row_clusters(groups, labels, rep)
    with stages("pairs"):
        table = row_pairs(groups, pairs, self_score)
    summary = {
        "input": str(input_path), "column": texts.name, "id_columns": list(ids.columns),
        "model": _model_name(model), "threshold": threshold, "similarity": similarity_fn, "embedding_dim": dim,
        "search": used, "clustering": clustering, "pairs_expected": None if np.isnan(expected_pairs) else
        round(expected_pairs),
        **_counts(groups, clusters, empty_rows, len(unscorable)), "texts_encoded": n_encoded,
        "texts_from_cache": len(groups.texts) - n_encoded, "pairs": len(table), "near_pairs": len(pairs),
    }
    del pairs, labels, rep
    write_start = time.perf_counter()
    with atomic_path(output_dir, directory=True) as tmp:
        write_csv((with_texts(part, texts, ids) for part in chunks(table)), tmp / "pairs.csv")
        del table
        write_csv((with_texts(part, texts, ids) for part in chunks(clusters)), tmp / "clusters.csv")
        summary["seconds"] = {**stages.seconds, "write": round(time.perf_counter() - write_start, 3)}
        summary["cpu_seconds"] = stages.cpu_seconds
        summary["peak_memory_mb_after"] = {**stages.peak_memory_mb, "write": peak_memory_mb()}
        summary["seconds_total"] = round(time.perf_counter() - started, 3)
        summary["cpu_seconds_total"] = round(time.process_time() - started_cpu, 3)
        summary["rows_per_second"] = round(len(texts) / max(summary["seconds_total"], 1e-9), 1)
        summary["peak_memory_mb"] = peak_memory_mb()
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _counts(groups: Collapsed, clusters: pd.DataFrame, empty_rows: int, unscorable_texts: int) -> dict[str, int]:
    """What happened to the rows: read, written to clusters.csv, rejected (could not be scored), and why."""
    sizes = np.bincount(clusters.cluster_id.to_numpy())
    rejected = int((groups.uid < 0).sum())
    return {
        "rows_read": len(groups.uid), "rows_written": len(clusters), "rows_rejected": rejected,
        "empty_rows": empty_rows, "unscorable_rows": rejected - empty_rows,
        "unique_texts": len(groups.texts), "unscorable_texts": unscorable_texts,
        "exact_duplicate_rows": int(repeated_rows(groups).sum()),
        "clusters": len(sizes), "clusters_with_duplicates": int((sizes > 1).sum()),
        "largest_cluster": int(sizes.max()),
    }


def _model_name(model: Any) -> str:
    return str(model) if isinstance(model, (str, Path)) else type(model).__name__
