"""Near-duplicate search over one text column: top-k pairs (exact or approximate), clusters, and ``dedup``.

No step builds an n×n matrix: exact search scores one block of rows against all rows at a time and keeps
only each row's top-k at or above the threshold; above ``ANN_MIN_TEXTS`` unique texts a FAISS HNSW index
finds the neighbours instead.
"""

from __future__ import annotations

import contextlib
import json
import logging
import resource
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from tqdm.auto import tqdm

from .cache import EmbeddingCache, default_cache_dir, embed_texts, model_fingerprint
from .data import read_table
from .errors import TextsiamError, check_choice, check_positive, suggest
from .files import atomic_path, check_output
from .text import clean_texts, duplicate_key

logger = logging.getLogger("textsiam")

# Unique texts from which `method="auto"` switches from exact to approximate search (measured, docs/dedup.md:
# exact search took ~50 s for 48k texts of 512-d on one thread, and grows with the square of the count;
# HNSW took 13 s. Below 20k, exact costs seconds and misses nothing).
ANN_MIN_TEXTS = 20_000
TOP_K = 20  # neighbours kept per unique text; exact repeats are collapsed first, so few texts have more
# HNSW settings, measured (docs/dedup.md): M=16 neighbours per node, efConstruction 40, efSearch 64 found 98 %
# of the exact search's pairs at a third of the time of M=32 (99.5 %).
HNSW_M, EF_CONSTRUCTION, EF_SEARCH = 16, 40, 64
CLUSTERINGS = ("star", "components")
METHODS = ("auto", "exact", "ann")
# Similarity function of the model -> what the index compares: inner product, L2 or L1 distance.
METRICS = {"cosine": "ip", "dot": "ip", "euclidean": "l2", "manhattan": "l1"}
BLOCK_ELEMENTS = 2**25  # scores held at once by exact search (128 MB of float32)


@dataclass
class Pairs:
    """Pairs of unique-text indices ``a < b`` with their similarity ``score``, sorted by (a, b)."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.a)


# --- vectors and scores --------------------------------------------------------------------------------

def search_space(embeddings: np.ndarray, similarity_fn: str) -> np.ndarray:
    """float32 vectors to index: unit length for cosine (a zero vector stays zero), as they are otherwise."""
    check_choice("similarity function", similarity_fn, METRICS)
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    broken = ~np.isfinite(x).all(axis=1)
    if broken.any():  # e.g. an lstm tower given a text with no known word: no evidence, so no neighbours
        logger.warning("%d text(s) got a NaN/inf embedding from the model (first: unique text %d); they are "
                       "kept, each in a cluster of its own.", int(broken.sum()), int(np.flatnonzero(broken)[0]))
        x[broken] = 0.0
    if similarity_fn == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        np.divide(x, np.maximum(norms, 1e-12), out=x)
    return x


def _block_scores(queries: torch.Tensor, corpus: torch.Tensor, metric: str) -> torch.Tensor:
    if metric == "ip":
        return queries @ corpus.T
    return -torch.cdist(queries, corpus, p=2.0 if metric == "l2" else 1.0)


def pair_scores(x: np.ndarray, a: np.ndarray, b: np.ndarray, similarity_fn: str,
                chunk: int = 65536) -> np.ndarray:
    """The model's similarity of each pair (x[a[i]], x[b[i]]), computed in chunks."""
    metric = METRICS[similarity_fn]
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        u, v = x[a[start:start + chunk]], x[b[start:start + chunk]]
        if metric == "ip":
            out[start:start + chunk] = np.einsum("ij,ij->i", u, v)
        elif metric == "l2":
            out[start:start + chunk] = -np.linalg.norm(u - v, axis=1)
        else:
            out[start:start + chunk] = -np.abs(u - v).sum(axis=1)
    return out


def _canonical(a: np.ndarray, b: np.ndarray, score: np.ndarray, n: int) -> Pairs:
    """Drop self-pairs, order each pair (low, high), keep one copy of pairs found from both ends."""
    keep = a != b
    a, b, score = a[keep], b[keep], score[keep]
    low, high = np.minimum(a, b).astype(np.int64), np.maximum(a, b).astype(np.int64)
    _, first = np.unique(low * n + high, return_index=True)  # sorted by (low, high)
    return Pairs(low[first], high[first], score[first].astype(np.float32))


# --- search --------------------------------------------------------------------------------------------

def exact_pairs(x: np.ndarray, similarity_fn: str, threshold: float, top_k: int,
                progress: bool | None = None) -> Pairs:
    """Each row's ``top_k`` most similar other rows scoring at least ``threshold``, by brute force in blocks."""
    n = len(x)
    k = min(top_k, n - 1)
    if k < 1:
        return Pairs(*(np.empty(0, dtype=t) for t in (np.int64, np.int64, np.float32)))
    metric = METRICS[similarity_fn]
    corpus = torch.from_numpy(x)
    block = max(1, min(n, BLOCK_ELEMENTS // n))
    found_a, found_b, found_s = [], [], []
    with torch.inference_mode(), tqdm(total=n, desc="search (exact)", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, n, block):
            rows = torch.arange(start, min(start + block, n))
            scores = _block_scores(corpus[rows], corpus, metric)
            scores[torch.arange(len(rows)), rows] = -torch.inf  # a text is not its own neighbour
            values, neighbours = torch.topk(scores, k, dim=1)
            keep = values >= threshold
            found_a.append(rows[:, None].expand(-1, k)[keep].numpy())
            found_b.append(neighbours[keep].numpy())
            found_s.append(values[keep].numpy())
            bar.update(len(rows))
    return _canonical(np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_s), n)


def ann_pairs(x: np.ndarray, similarity_fn: str, threshold: float, top_k: int, *, m: int = HNSW_M,
              ef_construction: int = EF_CONSTRUCTION, ef_search: int | None = None, progress: bool | None = None,
              chunk: int = 16384) -> Pairs:
    """Like ``exact_pairs``, with neighbours from a FAISS HNSW index (approximate: a few may be missed).

    The index stores vectors as float16 (half the memory of a second float32 copy); every candidate is
    re-scored from ``x`` with the model's similarity function, so each score reported is exact.
    """
    faiss = _faiss()
    n = len(x)
    k = min(top_k, n - 1)
    if k < 1:
        return exact_pairs(x, similarity_fn, threshold, top_k, progress=False)
    metric = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2, "l1": faiss.METRIC_L1}
    index = faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_fp16, m, metric[METRICS[similarity_fn]])
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = max(ef_search or 0, k + 1, EF_SEARCH)
    index.train(x[:1])  # fp16 needs no training, but faiss wants the call
    with tqdm(total=n, desc="index (hnsw)", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, n, chunk):
            index.add(x[start:start + chunk])
            bar.update(min(chunk, n - start))
    found_a, found_b, found_s = [], [], []
    with tqdm(total=n, desc="search (hnsw)", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, n, chunk):
            _, neighbours = index.search(x[start:start + chunk], k + 1)
            rows = np.arange(start, start + len(neighbours))[:, None].repeat(k + 1, axis=1)
            valid = (neighbours >= 0) & (neighbours != rows)
            a, b = rows[valid], neighbours[valid]
            score = pair_scores(x, a, b, similarity_fn)
            keep = score >= threshold
            found_a.append(a[keep])
            found_b.append(b[keep])
            found_s.append(score[keep])
            bar.update(len(neighbours))
    return _canonical(np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_s), n)


def _faiss():
    try:
        import faiss
    except ImportError:
        raise TextsiamError("approximate search needs FAISS: pip install 'textsiam[ann]' (faiss-cpu), "
                            "or pass --method exact.") from None
    return faiss


def find_pairs(x: np.ndarray, similarity_fn: str, threshold: float, *, top_k: int = TOP_K,
               method: str = "auto", progress: bool | None = None) -> tuple[Pairs, str]:
    """Pairs at or above ``threshold``; ``auto`` uses exact search below ``ANN_MIN_TEXTS`` texts."""
    check_choice("--method", method, METHODS)
    if method == "auto":
        method = "exact" if len(x) < ANN_MIN_TEXTS else "ann"
    search = exact_pairs if method == "exact" else ann_pairs
    return search(x, similarity_fn, threshold, top_k, progress=progress), method


# --- clustering ----------------------------------------------------------------------------------------

def connected_clusters(n: int, pairs: Pairs) -> np.ndarray:
    """Cluster label of each of ``n`` nodes: the connected components of the pair graph."""
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs.a, pairs.b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def star_clusters(n: int, pairs: Pairs) -> np.ndarray:
    """Greedy star clustering: no chains, every member is a direct match of its cluster's centre.

    Nodes are visited by degree (most pairs first); an unassigned node becomes a centre and takes every
    unassigned neighbour. So any two members are at most two pairs apart, through the centre.
    """
    graph = coo_matrix((np.ones(2 * len(pairs), dtype=np.int8),
                        (np.concatenate([pairs.a, pairs.b]), np.concatenate([pairs.b, pairs.a]))),
                       shape=(n, n)).tocsr()
    degree = np.diff(graph.indptr)
    labels = np.full(n, -1, dtype=np.int64)
    linked = np.flatnonzero(degree)
    for node in linked[np.argsort(-degree[linked], kind="stable")]:
        if labels[node] >= 0:
            continue
        neighbours = graph.indices[graph.indptr[node]:graph.indptr[node + 1]]
        labels[neighbours[labels[neighbours] < 0]] = node
        labels[node] = node
    alone = labels < 0
    labels[alone] = np.flatnonzero(alone)
    return labels


def representatives(labels: np.ndarray, pairs: Pairs) -> np.ndarray:
    """For each node, its cluster's most connected member (ties: the earliest)."""
    n = len(labels)
    degree = np.bincount(pairs.a, minlength=n) + np.bincount(pairs.b, minlength=n)
    order = np.lexsort((np.arange(n), -degree, labels))  # by label, then degree desc, then index
    sorted_labels = labels[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_labels[1:] != sorted_labels[:-1]
    best = np.zeros(n, dtype=np.int64)  # labels are node numbers, so below n
    best[sorted_labels[first]] = order[first]
    return best[labels]


def cluster(n: int, pairs: Pairs, how: str = "star") -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels and representative node of each of ``n`` nodes, by ``star`` or ``components``."""
    check_choice("--clustering", how, CLUSTERINGS)
    labels = star_clusters(n, pairs) if how == "star" else connected_clusters(n, pairs)
    return labels, representatives(labels, pairs)


# --- dedup ---------------------------------------------------------------------------------------------

def read_column(path: str | Path, column: str | None, *, encoding: str = "utf-8") -> pd.Series:
    """The cleaned texts of one column of a CSV/TSV, one per data row (empty strings kept)."""
    frame = read_table(path, encoding=encoding)
    columns = list(frame.columns)
    if column is None:
        if len(columns) != 1:
            raise TextsiamError(f"{path}: has {len(columns)} columns ({', '.join(columns)}); "
                                "pass --column to name the one holding the texts.")
        column = columns[0]
    if column not in columns:
        by_lower = {c.lower(): c for c in columns}
        if column.lower() not in by_lower:
            raise TextsiamError(f"{path}: no column {column!r}.{suggest(column, columns)} "
                                f"Columns are: {', '.join(columns)}. Pass the right one to --column.")
        column = by_lower[column.lower()]
    return clean_texts(frame[column]).reset_index(drop=True).rename(column)


def collapse(texts: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Exact duplicates (same text after lower-casing and collapsing spaces) become one unique text.

    Returns the unique normalised texts (in order of first appearance), each row's unique index (-1 for an
    empty text) and each unique text's first row.
    """
    normalised = texts.map(duplicate_key)
    codes, uniques = pd.factorize(normalised.where(normalised != ""), use_na_sentinel=True)
    rows = np.flatnonzero(codes >= 0)
    _, first = np.unique(codes[rows], return_index=True)  # codes are numbered in order of appearance
    return list(uniques), codes.astype(np.int64), rows[first].astype(np.int64)


def _per_row(values: np.ndarray, uid: np.ndarray, fill: int = -1) -> np.ndarray:
    """``values[uid]`` for each row, and ``fill`` for rows with an empty text (uid -1)."""
    out = np.full(len(uid), fill, dtype=np.int64)
    out[uid >= 0] = values[uid[uid >= 0]]
    return out


def row_clusters(uid: np.ndarray, labels: np.ndarray, rep: np.ndarray, first_row: np.ndarray) -> pd.DataFrame:
    """clusters.csv: every row in input order; empty texts each get a cluster of their own."""
    rows = np.arange(len(uid))
    empty = uid < 0
    key = np.where(empty, -1 - rows, _per_row(labels, uid))  # negative keys: one cluster per empty row
    cluster_id, _ = pd.factorize(key)  # numbered by first appearance
    representative = np.where(empty, rows, _per_row(first_row[rep], uid))
    size = np.bincount(cluster_id)[cluster_id]
    return pd.DataFrame({"row": rows, "cluster_id": cluster_id, "cluster_size": size,
                         "representative_row": representative})


def repeated_rows(uid: np.ndarray, first_row: np.ndarray) -> np.ndarray:
    """Rows whose text already occurred earlier (an exact duplicate after normalising)."""
    return (uid >= 0) & (_per_row(first_row, uid) != np.arange(len(uid)))


def row_pairs(uid: np.ndarray, first_row: np.ndarray, pairs: Pairs, self_score: np.ndarray) -> pd.DataFrame:
    """pairs.csv: near pairs between first occurrences, and each exact repeat paired with its first row."""
    repeat = np.flatnonzero(repeated_rows(uid, first_row))
    frame = pd.DataFrame({
        "row_a": np.concatenate([first_row[pairs.a], first_row[uid[repeat]]]),
        "row_b": np.concatenate([first_row[pairs.b], repeat]),
        "score": np.concatenate([pairs.score, self_score[uid[repeat]]]).astype(np.float32),
    })
    swap = (frame.row_a > frame.row_b).to_numpy()
    frame.loc[swap, ["row_a", "row_b"]] = frame.loc[swap, ["row_b", "row_a"]].to_numpy()
    return frame.sort_values(["row_a", "row_b"], kind="stable").reset_index(drop=True)


class _Stages:
    """Wall-clock and CPU seconds (all threads of this process) spent in each named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        start, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = round(time.perf_counter() - start, 3)
        self.cpu_seconds[name] = round(time.process_time() - cpu, 3)


def peak_memory_mb() -> float:
    """Peak resident memory of this process so far (Linux ru_maxrss is in KiB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def dedup(input_path: str | Path, column: str | None, model: Any, threshold: float | None = None, *,
          output_dir: str | Path, overwrite: bool = False, top_k: int = TOP_K, method: str = "auto",
          clustering: str = "star", cache_dir: str | Path | None = None, use_cache: bool = True,
          batch_size: int = 64, encoding: str = "utf-8", progress: bool | None = None) -> dict[str, Any]:
    """Find near-duplicate texts in one column of a CSV and write pairs.csv, clusters.csv, summary.json.

    ``model`` is a textsiam/SentenceTransformer directory or name, or a loaded ``SiameseModel``; its saved
    threshold is used unless ``threshold`` is given. Returns the summary (also written to summary.json).
    """
    from .model import SiameseModel, load

    output_dir = check_output(output_dir, overwrite=overwrite)
    check_choice("--method", method, METHODS)
    check_choice("--clustering", clustering, CLUSTERINGS)
    check_positive("--top-k", top_k)
    check_positive("--batch-size", batch_size)
    stages = _Stages()
    started, started_cpu = time.perf_counter(), time.process_time()
    with stages("read"):
        texts = read_column(input_path, column, encoding=encoding)
    with stages("load_model"):
        siamese = model if isinstance(model, SiameseModel) else load(model)
    threshold = siamese.threshold if threshold is None else float(threshold)
    if threshold is None:
        raise TextsiamError(f"{model}: the model has no saved threshold; pass --threshold.")
    similarity_fn = siamese.encoder.similarity_fn_name or "cosine"
    check_choice("the model's similarity function", similarity_fn, METRICS)
    with stages("collapse"):
        unique, uid, first_row = collapse(texts)
    with stages("encode"):
        cache = (EmbeddingCache(cache_dir or default_cache_dir(), model_fingerprint(siamese.encoder))
                 if use_cache else None)
        embeddings, n_encoded = embed_texts(siamese, unique, cache=cache, batch_size=batch_size,
                                            progress=progress)
    dim = embeddings.shape[1]
    with stages("search"):
        x = search_space(embeddings, similarity_fn)
        del embeddings
        pairs, used = find_pairs(x, similarity_fn, threshold, top_k=top_k, method=method, progress=progress)
        self_score = pair_scores(x, np.arange(len(x)), np.arange(len(x)), similarity_fn)
        del x
    with stages("cluster"):
        labels, rep = cluster(len(unique), pairs, clustering)
        clusters = row_clusters(uid, labels, rep, first_row)
    with stages("pairs"):
        table = row_pairs(uid, first_row, pairs, self_score)
    summary = {
        "input": str(input_path), "column": texts.name, "model": _model_name(model), "threshold": threshold,
        "similarity": similarity_fn, "embedding_dim": dim, "search": used, "top_k": top_k, "clustering": clustering,
        **_counts(texts, uid, first_row, clusters), "texts_encoded": n_encoded,
        "texts_from_cache": len(unique) - n_encoded, "pairs": len(table), "near_pairs": len(pairs),
    }
    write_start = time.perf_counter()
    with atomic_path(output_dir, directory=True) as tmp:
        table.to_csv(tmp / "pairs.csv", index=False, float_format="%.6f")
        clusters.to_csv(tmp / "clusters.csv", index=False)
        summary["seconds"] = {**stages.seconds, "write": round(time.perf_counter() - write_start, 3)}
        summary["cpu_seconds"] = stages.cpu_seconds
        summary["seconds_total"] = round(time.perf_counter() - started, 3)
        summary["cpu_seconds_total"] = round(time.process_time() - started_cpu, 3)
        summary["peak_memory_mb"] = peak_memory_mb()
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def _counts(texts: pd.Series, uid: np.ndarray, first_row: np.ndarray, clusters: pd.DataFrame) -> dict[str, int]:
    sizes = clusters.drop_duplicates("cluster_id").cluster_size
    return {
        "rows": len(texts), "rows_read": len(texts), "rows_written": len(clusters), "rows_rejected": 0,
        "empty_rows": int((uid < 0).sum()), "unique_texts": int(len(first_row)),
        "exact_duplicate_rows": int(repeated_rows(uid, first_row).sum()),
        "clusters": int(len(sizes)), "clusters_with_duplicates": int((sizes > 1).sum()),
        "largest_cluster": int(sizes.max()),
    }


def _model_name(model: Any) -> str:
    return str(model) if isinstance(model, (str, Path)) else type(model).__name__


def _disable(progress: bool | None) -> bool | None:
    return None if progress is None else not progress
