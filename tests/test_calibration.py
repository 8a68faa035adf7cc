"""The probability head p = sigmoid(-w·d + b): its fit, its direction, Brier and ECE."""

from __future__ import annotations

import numpy as np
import pytest

from textsiam.calibration import (
    calibration_metrics,
    distances,
    expected_calibration_error,
    fit_calibration,
    fit_head,
    probabilities,
    reliability_bins,
)


def synthetic(n: int = 4000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Cosine scores whose true p(duplicate) is sigmoid(8·s - 5)."""
    rng = np.random.default_rng(seed)
    scores = rng.uniform(-0.2, 1.0, n)
    labels = (rng.random(n) < 1 / (1 + np.exp(-(8 * scores - 5)))).astype(int)
    return scores, labels


def test_fit_recovers_the_generating_head():
    scores, labels = synthetic(20000)
    calibration = fit_calibration(scores, labels, "cosine")
    # p = sigmoid(8·s - 5) = sigmoid(-8·(1 - s) + 3): w = 8, b = 3
    assert calibration["distance"] == "cosine"
    assert calibration["w"] == pytest.approx(8, rel=0.1)
    assert calibration["b"] == pytest.approx(3, rel=0.15)


def test_the_distance_the_logistic_curve_fits_is_chosen_and_kept():
    """Labels drawn from a logistic curve in sqrt(2 - 2s) are fitted in that distance, and better than in 1 - s."""
    rng = np.random.default_rng(3)
    scores = rng.uniform(-0.2, 1.0, 20000)
    chord = np.sqrt(2 - 2 * scores)
    labels = (rng.random(scores.size) < 1 / (1 + np.exp(-(-9 * chord + 6)))).astype(int)
    calibration = fit_calibration(scores, labels, "cosine")
    assert calibration["distance"] == "unit-euclidean"
    assert calibration["w"] == pytest.approx(9, rel=0.1)
    fresh = rng.uniform(-0.2, 1.0, 20000)
    fresh_labels = (rng.random(fresh.size) < 1 / (1 + np.exp(-(-9 * np.sqrt(2 - 2 * fresh) + 6)))).astype(int)
    as_cosine = fit_head(scores, labels, "cosine", "cosine")[1]  # what fit_calibration did before it chose
    assert (expected_calibration_error(probabilities(fresh, calibration), fresh_labels)
            < expected_calibration_error(probabilities(fresh, as_cosine), fresh_labels))


def test_a_calibration_saved_without_a_distance_reads_as_cosine():
    old = {"w": 4.0, "b": 1.0, "similarity": "cosine"}
    assert probabilities(np.array([0.5]), old)[0] == pytest.approx(1 / (1 + np.exp(4 * 0.5 - 1)))


def test_calibrated_probabilities_have_small_ece_on_fresh_data_and_raw_scores_do_not():
    scores, labels = synthetic(seed=1)
    calibration = fit_calibration(scores, labels, "cosine")
    fresh_scores, fresh_labels = synthetic(seed=2)
    p = probabilities(fresh_scores, calibration)
    assert expected_calibration_error(p, fresh_labels) < 0.03
    assert expected_calibration_error(np.clip(fresh_scores, 0, 1), fresh_labels) > 0.1


@pytest.mark.parametrize("similarity", ["cosine", "euclidean", "manhattan", "dot"])
def test_more_similar_means_more_probable_for_every_similarity(similarity):
    scores, labels = synthetic()
    calibration = fit_calibration(scores, labels, similarity)
    p = probabilities(np.array([0.1, 0.5, 0.9]), calibration)
    assert calibration["w"] > 0
    assert p[0] < p[1] < p[2]


def test_distance_is_derived_from_the_score():
    assert distances(np.array([1.0, 0.25]), "cosine").tolist() == [0.0, 0.75]
    assert distances(np.array([1.0, 0.5, -1.0]), "cosine", "unit-euclidean").tolist() == [0.0, 1.0, 2.0]
    assert distances(np.array([-2.0]), "euclidean").tolist() == [2.0]


def test_metrics_against_hand_computed_values():
    p = np.array([0.1, 0.1, 0.9, 0.9])
    y = np.array([0, 1, 1, 1])
    # bins: 0.1 holds (0,1): mean p 0.1, rate 0.5 -> gap 0.4; 0.9 holds (1,1): gap 0.1; ECE = 0.5·0.4 + 0.5·0.1
    assert calibration_metrics(p, y) == pytest.approx({"brier": (0.01 + 0.81 + 0.01 + 0.01) / 4, "ece": 0.25})


def test_reliability_bins_keep_every_bin_and_count_every_row():
    p = np.array([0.0, 0.05, 0.55, 1.0])
    bins = reliability_bins(p, np.array([0, 0, 1, 1]))
    assert len(bins) == 10
    assert [b["count"] for b in bins] == [2, 0, 0, 0, 0, 1, 0, 0, 0, 1]
    assert np.isnan(bins[1]["mean_probability"])
