from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import f1_score

from textsiam.errors import TextsiamError
from textsiam.metrics import binary_metrics, choose_threshold, confusion_counts, ranking_metrics

scores_and_labels = st.lists(
    st.tuples(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 1.0]), st.integers(0, 1)), min_size=4, max_size=14
).filter(lambda rows: sum(lab for _, lab in rows) >= 2 and sum(1 - lab for _, lab in rows) >= 2)


def brute_force_best_f1(scores: np.ndarray, labels: np.ndarray) -> float:
    cuts = np.unique(scores)
    return max(f1_score(labels, (scores >= c).astype(int), zero_division=0) for c in cuts)


@settings(max_examples=200, deadline=None)
@given(scores_and_labels)
def test_threshold_never_cuts_between_ties_and_is_f1_optimal(rows):
    scores = np.array([s for s, _ in rows])
    labels = np.array([lab for _, lab in rows])
    threshold = choose_threshold(scores, labels)
    assert threshold not in set(scores.tolist())  # cuts strictly between distinct scores
    for s in np.unique(scores):  # tied scores all fall on one side
        assert len({bool(x >= threshold) for x in scores[scores == s]}) == 1
    achieved = f1_score(labels, (scores >= threshold).astype(int))
    assert achieved == pytest.approx(brute_force_best_f1(scores, labels))


@settings(max_examples=100, deadline=None)
@given(scores_and_labels, st.randoms())
def test_threshold_invariant_to_row_order(rows, rnd):
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    first = choose_threshold(np.array([s for s, _ in rows]), np.array([lab for _, lab in rows]))
    second = choose_threshold(np.array([s for s, _ in shuffled]), np.array([lab for _, lab in shuffled]))
    assert first == second


def test_threshold_small_cases_exhaustive():
    # Every labelling of 6 rows with scores 0..5 that has two of each class.
    scores = np.arange(6, dtype=float)
    for labels in product([0, 1], repeat=6):
        labels = np.array(labels)
        if labels.sum() < 2 or (1 - labels).sum() < 2:
            continue
        t = choose_threshold(scores, labels)
        assert f1_score(labels, (scores >= t).astype(int)) == pytest.approx(brute_force_best_f1(scores, labels))


@settings(max_examples=200, deadline=None)
@given(scores_and_labels)
def test_accuracy_threshold_is_accuracy_optimal(rows):
    scores = np.array([s for s, _ in rows])
    labels = np.array([lab for _, lab in rows])
    threshold = choose_threshold(scores, labels, "accuracy")
    best = max(np.mean((scores >= c) == labels) for c in [*np.unique(scores), np.inf])
    assert np.mean((scores >= threshold) == labels) == pytest.approx(best)


def test_f1_and_accuracy_thresholds_differ_where_they_should():
    # A band of mixed scores (2 duplicates, 3 not): F1 takes it as duplicates (0.727 vs 0.667), accuracy does
    # not (0.8 vs 0.7).
    scores = np.array([0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.1, 0.1])
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert choose_threshold(scores, labels) < 0.5 < choose_threshold(scores, labels, "accuracy")
    with pytest.raises(ValueError, match="unknown threshold metric"):
        choose_threshold(scores, labels, "recall")


def test_auto_threshold_metric_is_accuracy_on_a_balanced_dev_else_f1():
    from textsiam.metrics import resolve_threshold_metric

    def labels(positives: int) -> np.ndarray:
        return np.array([1] * positives + [0] * (100 - positives))

    assert [resolve_threshold_metric(labels(p)) for p in (50, 45, 55, 44, 56, 37, 90)] == [
        "accuracy", "accuracy", "accuracy", "f1", "f1", "f1", "f1"]
    assert resolve_threshold_metric(labels(50), "f1") == "f1"  # an explicit choice is kept
    assert resolve_threshold_metric(labels(10), "accuracy") == "accuracy"


def test_threshold_needs_both_classes_in_dev():
    with pytest.raises(TextsiamError, match="dev split"):
        choose_threshold(np.array([0.1, 0.2, 0.3]), np.array([1, 1, 0]))


def test_binary_metrics_values():
    scores = np.array([0.9, 0.8, 0.3, 0.2])
    labels = np.array([1, 0, 1, 0])
    m = binary_metrics(scores, labels, threshold=0.5)
    assert m["precision"] == 0.5 and m["recall"] == 0.5 and m["accuracy"] == 0.5
    assert m["roc_auc"] == pytest.approx(0.75)
    assert set(m) == {"roc_auc", "f1", "precision", "recall", "accuracy", "average_precision", "threshold", "n"}
    assert m["n"] == 4


def test_confusion_counts_at_the_threshold():
    scores = np.array([0.9, 0.8, 0.5, 0.3, 0.2, 0.5])
    labels = np.array([1, 0, 1, 1, 0, 0])
    # score >= 0.5 is called a duplicate: ties at the threshold count as duplicates, like binary_metrics.
    assert confusion_counts(scores, labels, 0.5) == {"true_positives": 2, "false_positives": 2,
                                                     "false_negatives": 1, "true_negatives": 1}
    m = binary_metrics(scores, labels, 0.5)
    assert m["precision"] == pytest.approx(2 / 4) and m["recall"] == pytest.approx(2 / 3)


def test_binary_metrics_with_one_class_has_no_auc():
    m = binary_metrics(np.array([0.9, 0.1]), np.array([1, 1]), 0.5)
    assert np.isnan(m["roc_auc"]) and np.isnan(m["average_precision"]) and m["recall"] == 0.5


def test_ranking_metrics_standard_protocol():
    groups = np.array(["q1", "q1", "q1", "q2", "q2", "q3", "q3"])
    scores = np.array([0.9, 0.5, 0.1, 0.8, 0.7, 0.6, 0.4])
    labels = np.array([0, 1, 1, 1, 0, 0, 0])  # q3 has no correct candidate: left out
    m = ranking_metrics(groups, scores, labels)
    assert m["n_questions"] == 2
    # q1: hits at ranks 2 and 3 -> AP (1/2 + 2/3)/2, RR 1/2; q2: hit at rank 1 -> AP 1, RR 1.
    assert m["map"] == pytest.approx(((0.5 + 2 / 3) / 2 + 1) / 2)
    assert m["mrr"] == pytest.approx(0.75)
    assert m["p_at_1"] == pytest.approx(0.5)
