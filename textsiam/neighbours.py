"""Neighbour search: every pair of vectors whose similarity reaches a threshold, exact or approximate.

No step builds an n×n matrix. Exact search scores one block of rows against the rows after them and keeps
every pair at or above the threshold (no top-k cap: a text with 150 near-duplicates keeps all 150). Above
``ANN_MIN_TEXTS`` texts a FAISS HNSW index proposes candidates instead; each candidate is re-scored exactly,
and a text whose candidates all reach the threshold is asked again for more, so dense groups are not cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from . import runtime
from .errors import TextsiamError, check_choice

# Texts from which `method="auto"` switches from exact to approximate search: exact search misses nothing but
# grows with the square of the count; the switch point is the one the first version measured (docs/dedup.md).
ANN_MIN_TEXTS = 20_000
# Candidates first asked of the index per text; a text whose candidates all reach the threshold is asked
# again with GROWTH times as many, until one falls below it (or every text has been returned).
TOP_K = 20
GROWTH = 4
# HNSW settings, chosen by scripts/bench_dedup.py ann (scripts/results/dedup.md): 16 links per node,
# 40 candidates while building, 128 while searching (64 found 0.975 of the exact pairs of a million rows with a
# QQP-trained static tower, 128 0.987, for 105 s of search instead of 80), vectors stored as float16.
HNSW_M, EF_CONSTRUCTION, EF_SEARCH = 16, 40, 128
METHODS = ("auto", "exact", "ann")
# Similarity function of the model -> what the search compares: inner product, L2 or L1 distance.
METRICS = {"cosine": "ip", "dot": "ip", "euclidean": "l2", "manhattan": "l1"}
BLOCK_ELEMENTS = 2**25  # scores held at once by exact search (128 MB of float32)
QUERY_CHUNK = 65_536  # texts per index query: bounds the memory of the candidate lists
BUDGET_SAMPLE = 200  # texts whose partners are counted exactly to estimate the pairs before the search


@dataclass
class Pairs:
    """Pairs of vector indices ``a < b`` with their similarity ``score``, sorted by (a, b)."""

    a: np.ndarray
    b: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def empty(cls) -> Pairs:
        return cls(np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32))


# --- vectors and scores --------------------------------------------------------------------------------

def scorable(embeddings: np.ndarray, similarity_fn: str) -> np.ndarray:
    """Mask of the embeddings that can be compared: finite, and not all zero for a cosine model.

    An lstm tower gives NaN for a text with no known word, a static tower a zero vector: no evidence of
    what the text means, so such texts are neighbours of nothing.
    """
    ok = np.empty(len(embeddings), dtype=bool)
    for start in range(0, len(embeddings), QUERY_CHUNK):  # in chunks: no second copy of a large matrix
        part = embeddings[start:start + QUERY_CHUNK]
        ok[start:start + QUERY_CHUNK] = np.isfinite(part).all(axis=1)
        if similarity_fn == "cosine":
            ok[start:start + QUERY_CHUNK] &= (part != 0).any(axis=1)
    return ok


def search_space(embeddings: np.ndarray, similarity_fn: str) -> np.ndarray:
    """float32 vectors to search: unit length for cosine, as they are otherwise (converted in place if possible)."""
    check_choice("similarity function", similarity_fn, METRICS)
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if similarity_fn == "cosine":
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        np.divide(x, np.maximum(norms, 1e-12), out=x)
    return x


def pair_scores(x: np.ndarray, a: np.ndarray, b: np.ndarray, similarity_fn: str,
                chunk: int = 65536) -> np.ndarray:
    """The model's similarity of each pair (x[a[i]], x[b[i]]) of ``search_space`` vectors, in chunks."""
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


def _block_scores(queries: torch.Tensor, corpus: torch.Tensor, metric: str) -> torch.Tensor:
    if metric == "ip":
        return queries @ corpus.T
    return -torch.cdist(queries, corpus, p=2.0 if metric == "l2" else 1.0)


def _canonical(a: np.ndarray, b: np.ndarray, score: np.ndarray, n: int) -> Pairs:
    """Drop self-pairs, order each pair (low, high), keep one copy of pairs found from both ends.

    Works on one int64 key per pair (low * n + high), so the peak stays near 40 bytes per pair found: at a
    million texts the pairs, not the vectors, are what memory is spent on.
    """
    keep = a != b
    key = np.minimum(a, b)[keep].astype(np.int64) * n + np.maximum(a, b)[keep]
    score = score[keep]
    del a, b, keep
    order = np.argsort(key, kind="stable")
    key, score = key[order], score[order]
    del order
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, score = key[first], score[first]
    return Pairs(key // n, key % n, score.astype(np.float32))


# --- search --------------------------------------------------------------------------------------------

def exact_pairs(x: np.ndarray, similarity_fn: str, threshold: float, *, progress: bool | None = None) -> Pairs:
    """Every pair scoring at least ``threshold``, by brute force: each block of rows against the rows after it."""
    n = len(x)
    if n < 2:
        return Pairs.empty()
    metric = METRICS[similarity_fn]
    corpus = torch.from_numpy(x)
    block = max(1, min(n, BLOCK_ELEMENTS // n))
    found_a, found_b, found_s = [], [], []
    with torch.inference_mode(), tqdm(total=n, desc="search (exact)", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, n, block):
            stop = min(start + block, n)
            scores = _block_scores(corpus[start:stop], corpus[start:], metric)
            # Only pairs (a, b) with b > a: mask the block's own diagonal and the part below it.
            scores[:, :stop - start].masked_fill_(torch.ones(stop - start, stop - start, dtype=torch.bool).tril(),
                                                  -torch.inf)
            rows, cols = torch.nonzero(scores >= threshold, as_tuple=True)
            found_s.append(scores[rows, cols].numpy())
            found_a.append(rows.numpy() + start)
            found_b.append(cols.numpy() + start)
            bar.update(stop - start)
    # torch.nonzero walks row by row, so the pairs come out sorted by (a, b) already.
    return Pairs(np.concatenate(found_a).astype(np.int64), np.concatenate(found_b).astype(np.int64),
                 np.concatenate(found_s).astype(np.float32))


def ann_pairs(x: np.ndarray, similarity_fn: str, threshold: float, *, top_k: int = TOP_K,
              progress: bool | None = None) -> Pairs:
    """Like ``exact_pairs``, with candidates from a FAISS HNSW index (approximate: a few pairs may be missed).

    Every candidate is re-scored from ``x`` with the model's similarity, so each reported score is exact.
    A text whose ``top_k`` candidates all reach the threshold is queried again with ``GROWTH`` times as many.
    Identical vectors (a static tower gives one to reordered words) are indexed once: an HNSW graph
    cannot tell copies apart and loses most of their pairs.
    """
    n = len(x)
    if n < 2:
        return Pairs.empty()
    copy_of, _ = pd.factorize(_stored_hash(x))  # numbered by first appearance
    _, first = np.unique(copy_of, return_index=True)  # so each form's first row, in row order
    found = _ann_rows(x, first, similarity_fn, threshold, top_k, progress)
    if len(first) == n:
        return found
    return _with_copies(x, found, copy_of, similarity_fn, threshold)


def _stored_hash(x: np.ndarray, chunk: int = 16_384) -> np.ndarray:
    """A 64-bit hash of each row as the index stores it (float16): equal for rows the index cannot tell apart.

    Hashed in chunks, so no second copy of ``x`` is made; a collision (odds ~n²/2⁶⁴) would only join two
    vectors whose pairs are all re-scored anyway.
    """
    weights = np.random.default_rng(0).integers(1, 2**63, size=x.shape[1], dtype=np.uint64) | np.uint64(1)
    out = np.empty(len(x), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, len(x), chunk):
            bits = np.ascontiguousarray(x[start:start + chunk], dtype=np.float16).view(np.uint16)
            out[start:start + chunk] = (bits.astype(np.uint64) * weights).sum(axis=1)
    return out


def _ann_rows(x: np.ndarray, rows: np.ndarray, similarity_fn: str, threshold: float, top_k: int,
              progress: bool | None) -> Pairs:
    """Pairs among ``x[rows]`` (``rows`` sorted), from an HNSW index of those rows alone."""
    n = len(rows)
    if n < 2:
        return Pairs.empty()
    index = _hnsw_index(x, rows, similarity_fn, progress)
    found_a, found_b, found_s = [], [], []
    pending, k = np.arange(n), min(top_k, n - 1)
    with tqdm(total=n, desc="search (hnsw)", unit="text", disable=_disable(progress)) as bar:
        while len(pending):
            index.hnsw.efSearch = max(EF_SEARCH, k + 1)
            crowded = []
            for start in range(0, len(pending), QUERY_CHUNK):
                queries = pending[start:start + QUERY_CHUNK]
                keys = index.search(x[rows[queries]], k + 1)[1]
                a = np.repeat(queries, keys.shape[1])
                b = keys.reshape(-1)
                valid = (b >= 0) & (a != b)  # faiss pads missing results with -1
                score = np.full(len(b), -np.inf, dtype=np.float32)
                score[valid] = pair_scores(x, rows[a[valid]], rows[b[valid]], similarity_fn)
                hit = (score >= threshold).reshape(len(queries), -1)
                full = hit.sum(axis=1) >= k  # every candidate reached the threshold: there may be more
                if k < n - 1:
                    crowded.append(queries[full])
                    hit[full] = False  # asked again below, with more candidates
                else:
                    full[:] = False
                hit = hit.reshape(-1)
                found_a.append(rows[a[hit]].astype(np.int32))  # row numbers fit: half the memory
                found_b.append(rows[b[hit]].astype(np.int32))
                found_s.append(score[hit])
                bar.update(len(queries) - int(full.sum()))
            pending = np.concatenate(crowded) if crowded else np.empty(0, dtype=np.int64)
            k = min(k * GROWTH, n - 1)
    del index  # before merging the pairs: both are large at a million texts
    return _canonical(_concatenate_and_clear(found_a), _concatenate_and_clear(found_b),
                      _concatenate_and_clear(found_s), len(x))


def _concatenate_and_clear(parts: list[np.ndarray]) -> np.ndarray:
    """One array from ``parts``, emptying the list so the parts are freed at once."""
    whole = np.concatenate(parts)
    parts.clear()
    return whole


def _with_copies(x: np.ndarray, found: Pairs, copy_of: np.ndarray, similarity_fn: str, threshold: float) -> Pairs:
    """Row pairs from the pairs found between first copies (``copy_of[row]`` numbers the row's stored form):
    every copy of one with every copy of the other, and the copies of one form with each other, each re-scored."""
    groups = int(copy_of.max()) + 1
    counts = np.bincount(copy_of, minlength=groups)
    members = np.argsort(copy_of, kind="stable")  # rows grouped by stored form
    offsets = np.r_[0, np.cumsum(counts)]
    same = np.flatnonzero(counts > 1)
    ga, gb = np.r_[copy_of[found.a], same], np.r_[copy_of[found.b], same]
    sizes = counts[ga] * counts[gb]
    pair = np.repeat(np.arange(len(ga)), sizes)
    within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
    a = members[offsets[ga[pair]] + within // counts[gb[pair]]]
    b = members[offsets[gb[pair]] + within % counts[gb[pair]]]
    score = pair_scores(x, a, b, similarity_fn)
    keep = score >= threshold
    return _canonical(a[keep], b[keep], score[keep], len(x))


def _hnsw_index(x: np.ndarray, rows: np.ndarray, similarity_fn: str, progress: bool | None):
    """A FAISS HNSW index of ``x[rows]`` (position i holds row ``rows[i]``), stored as float16, in the model's
    metric."""
    try:
        import faiss
    except ImportError:
        raise TextsiamError("approximate search needs FAISS: pip install faiss-cpu, or pass --method exact.") from None
    faiss.omp_set_num_threads(runtime.threads())
    metric = {"ip": faiss.METRIC_INNER_PRODUCT, "l2": faiss.METRIC_L2, "l1": faiss.METRIC_L1}[METRICS[similarity_fn]]
    index = faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_fp16, HNSW_M, metric)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    index.train(x[:1])  # float16 needs no training, but faiss wants the call
    with tqdm(total=len(rows), desc="index (hnsw)", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, len(rows), QUERY_CHUNK):
            index.add(x[rows[start:start + QUERY_CHUNK]])
            bar.update(min(QUERY_CHUNK, len(rows) - start))
    return index


def estimate_pairs(x: np.ndarray, similarity_fn: str, threshold: float, *, sample: int = BUDGET_SAMPLE,
                   keep_top: int = 0, seed: int = 0) -> tuple[float, np.ndarray]:
    """Pairs at or above ``threshold`` to expect, from the exact partner counts of ``sample`` random texts.

    Also returns the ``keep_top`` highest of those sampled scores, high to low (to suggest a threshold that
    fits a budget). The sampled rows are scored a few at a time, so memory stays near a few rows of scores.
    """
    n = len(x)
    rows = np.random.default_rng(seed).choice(n, min(n, sample), replace=False)
    corpus, metric = torch.from_numpy(x), METRICS[similarity_fn]
    step = max(1, BLOCK_ELEMENTS // n)
    partners, tops = 0, []
    with torch.inference_mode():
        for start in range(0, len(rows), step):
            chunk = torch.from_numpy(rows[start:start + step])
            scores = _block_scores(corpus[chunk], corpus, metric)
            scores[torch.arange(len(chunk)), chunk] = -torch.inf  # not a pair with itself
            partners += int((scores >= threshold).sum())
            if keep_top:
                tops.append(torch.topk(scores.flatten(), min(keep_top, scores.numel())).values)
    top = torch.sort(torch.cat(tops), descending=True).values[:keep_top].numpy() if tops else np.zeros(0)
    return partners / len(rows) * n / 2, top


def check_pair_budget(x: np.ndarray, similarity_fn: str, threshold: float, max_pairs: int) -> float:
    """Refuse, before the search, a threshold that would find more than ``max_pairs`` pairs; return the estimate.

    A loose threshold on a large file can mean hundreds of millions of pairs: more memory and disk than the
    machine has, after an hour of searching. Saying so up front, with a threshold that fits, is kinder.
    """
    if max_pairs <= 0 or len(x) * (len(x) - 1) / 2 <= max_pairs:
        return float("nan")
    sampled = min(len(x), BUDGET_SAMPLE)
    allowed = int(max_pairs * 2 / len(x) * sampled)  # sampled scores the budget allows at or above the cut
    expected, top_scores = estimate_pairs(x, similarity_fn, threshold, sample=sampled, keep_top=allowed + 1)
    if expected <= max_pairs:
        return expected
    fits = float(top_scores[min(allowed, len(top_scores) - 1)])
    raise TextsiamError(
        f"at threshold {threshold:.4g} about {expected:,.0f} pairs would be found among {len(x):,} distinct texts "
        f"({2 * expected / len(x):,.0f} per text on average, estimated from {sampled} sampled texts): more than "
        f"--max-pairs {max_pairs:,}, which already needs gigabytes. A threshold of about {fits:.4g} keeps the pairs "
        "within it. Pass a stricter --threshold (the model's threshold was chosen for telling pairs apart, not "
        "for a whole file), or --max-pairs 0 to search anyway.")


def find_pairs(x: np.ndarray, similarity_fn: str, threshold: float, *, method: str = "auto",
               top_k: int = TOP_K, progress: bool | None = None) -> tuple[Pairs, str]:
    """Pairs at or above ``threshold`` and the method used; ``auto`` is exact below ``ANN_MIN_TEXTS`` texts."""
    check_choice("--method", method, METHODS)
    if method == "auto":
        method = "exact" if len(x) < ANN_MIN_TEXTS else "ann"
    if method == "exact":
        return exact_pairs(x, similarity_fn, threshold, progress=progress), method
    return ann_pairs(x, similarity_fn, threshold, top_k=top_k, progress=progress), method


def _disable(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None lets tqdm hide the bar when stderr is not a terminal."""
    return None if progress is None else not progress
