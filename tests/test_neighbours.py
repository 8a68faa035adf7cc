"""Neighbour search: exact search finds every pair above the threshold, ann nearly all, scores exact."""

from __future__ import annotations

import numpy as np
import pytest

from textsiam.errors import TextsiamError
from textsiam.neighbours import (
    Pairs,
    ann_pairs,
    check_pair_budget,
    estimate_pairs,
    exact_pairs,
    find_pairs,
    scorable,
    search_space,
)


def brute_force(x: np.ndarray, threshold: float, metric: str = "cosine") -> set[tuple[int, int]]:
    """Every pair at or above the threshold, from the full matrix (fine for a test's few thousand rows)."""
    if metric == "euclidean":
        scores = -np.linalg.norm(x[:, None] - x[None], axis=2)
    else:
        scores = x @ x.T
    a, b = np.nonzero(np.triu(scores >= threshold, k=1))
    return set(zip(a.tolist(), b.tolist(), strict=True))


def planted(n: int = 1500, copies: int = 300, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Random unit vectors plus noisy copies of some of them: known near-duplicate pairs."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, dim))
    noisy = base[rng.choice(n, copies, replace=False)] + rng.normal(scale=0.15, size=(copies, dim))
    return search_space(np.vstack([base, noisy]).astype(np.float32), "cosine")


def crowded(members: int = 150, others: int = 500, dim: int = 32, seed: int = 0) -> np.ndarray:
    """One text with ``members`` near-duplicates of it (all pairs among them score > 0.95), among unrelated ones."""
    rng = np.random.default_rng(seed)
    centre = rng.normal(size=dim)
    group = centre + rng.normal(scale=0.03 * np.linalg.norm(centre) / np.sqrt(dim), size=(members + 1, dim))
    return search_space(np.vstack([rng.normal(size=(others, dim)), group]).astype(np.float32), "cosine")


def pair_set(pairs: Pairs) -> set[tuple[int, int]]:
    return set(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))


def test_exact_search_equals_brute_force_without_a_full_matrix(monkeypatch):
    monkeypatch.setattr("textsiam.neighbours.BLOCK_ELEMENTS", 200 * 1800)  # several blocks
    x = planted()
    truth = brute_force(x, 0.9)
    assert len(truth) >= 250
    found = exact_pairs(x, "cosine", 0.9, progress=False)
    assert pair_set(found) == truth and len(found) == len(truth)
    assert np.all(found.a < found.b) and np.all(found.score >= 0.9)
    assert np.all(np.diff(found.a * len(x) + found.b) > 0)  # sorted by (a, b)
    np.testing.assert_allclose(found.score, np.einsum("ij,ij->i", x[found.a], x[found.b]), atol=1e-5)


def test_exact_search_keeps_all_150_duplicates_of_a_text():
    x = crowded()
    truth = brute_force(x, 0.95)
    assert len(truth) == 151 * 150 // 2
    assert pair_set(exact_pairs(x, "cosine", 0.95, progress=False)) == truth
    found, method = find_pairs(x, "cosine", 0.95, method="auto", top_k=5, progress=False)
    assert method == "exact" and pair_set(found) == truth  # top_k is no cap on exact search


def test_ann_asks_again_where_every_candidate_reaches_the_threshold():
    x = crowded()
    truth = brute_force(x, 0.95)
    found = ann_pairs(x, "cosine", 0.95, top_k=5, progress=False)
    assert len(pair_set(found) & truth) / len(truth) >= 0.98  # far beyond 5 neighbours per text
    assert pair_set(found) <= truth


def test_exact_search_with_a_distance_model():
    x = planted(n=300, copies=100) * 3  # not unit length: euclidean scores are negative distances
    truth = brute_force(x, -1.5, metric="euclidean")
    found = exact_pairs(x, "euclidean", -1.5, progress=False)
    assert pair_set(found) == truth and len(truth) > 0
    assert np.all(found.score <= 0)
    approx = ann_pairs(x, "euclidean", -1.5, progress=False)
    assert len(pair_set(approx) & truth) / len(truth) >= 0.98 and pair_set(approx) <= truth


def test_ann_search_agrees_with_exact_and_scores_exactly():
    x = planted()
    exact = pair_set(exact_pairs(x, "cosine", 0.9, progress=False))
    approx = ann_pairs(x, "cosine", 0.9, progress=False)
    assert len(pair_set(approx) & exact) / len(exact) >= 0.98
    assert pair_set(approx) <= exact  # re-scored exactly: nothing below the threshold
    np.testing.assert_allclose(approx.score, np.einsum("ij,ij->i", x[approx.a], x[approx.b]), atol=1e-5)


def test_tiny_inputs_have_no_pairs():
    for n in (0, 1):
        x = np.ones((n, 4), dtype=np.float32)
        assert len(exact_pairs(x, "cosine", 0.5, progress=False)) == 0
        assert len(ann_pairs(x, "cosine", 0.5, progress=False)) == 0


def test_scorable_rejects_nan_and_zero_vectors_for_cosine():
    e = np.array([[1.0, 0.0], [np.nan, 1.0], [0.0, 0.0], [np.inf, 0.0]], dtype=np.float32)
    assert scorable(e, "cosine").tolist() == [True, False, False, False]
    assert scorable(e, "euclidean").tolist() == [True, False, True, False]  # the origin is a point like any


def test_unknown_method_is_refused():
    with pytest.raises(Exception, match="--method"):
        find_pairs(planted(n=10, copies=1), "cosine", 0.9, method="hnsw")


def test_pair_estimate_is_close_to_the_true_count():
    x = planted(n=3000, copies=600)
    truth = len(brute_force(x, 0.2))
    expected, _ = estimate_pairs(x, "cosine", 0.2, sample=400)
    assert 0.8 * truth < expected < 1.25 * truth


def test_a_threshold_that_would_find_too_many_pairs_is_refused_with_one_that_fits():
    x = planted(n=3000, copies=600)
    loose = len(brute_force(x, 0.1))
    with pytest.raises(TextsiamError, match="pairs would be found") as refused:
        check_pair_budget(x, "cosine", 0.1, max_pairs=loose // 10)
    suggested = float(str(refused.value).split("A threshold of about ")[1].split(" ")[0])
    assert suggested > 0.1 and len(brute_force(x, suggested)) < loose // 10 * 1.5  # it does fit (sampling aside)
    assert np.isnan(check_pair_budget(x, "cosine", 0.1, max_pairs=0))  # no limit: nothing estimated
    assert loose * 2 < len(x) * (len(x) - 1) / 2
    assert 0.8 * loose < check_pair_budget(x, "cosine", 0.1, max_pairs=loose * 2) < 1.25 * loose  # fits: goes on
