"""Threshold choice, binary metrics (F1, ROC-AUC, AP, …), the confusion matrix and ranking metrics (MAP, MRR, P@1).

Numbers only: the figures of the report are drawn in report.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from .choices import BALANCED_SHARE
from .errors import TextsiamError

MIN_DEV_PER_CLASS = 2


def check_dev_classes(positives: int, negatives: int, *, source: str = "") -> None:
    """Refuse a dev split with too few duplicates or non-duplicates to choose a threshold from."""
    if min(positives, negatives) < MIN_DEV_PER_CLASS:
        raise TextsiamError(
            f"{source + ': ' if source else ''}the dev split has {positives} duplicate and {negatives} non-duplicate "
            f"pair(s); at least {MIN_DEV_PER_CLASS} of each are needed to choose a threshold. Use more data or a "
            "larger --dev-fraction."
        )


def resolve_threshold_metric(labels: np.ndarray, metric: str = "auto") -> str:
    """``metric``, with ``auto`` made concrete: ``accuracy`` when both classes are at least ``BALANCED_SHARE`` of
    ``labels`` (errors of either kind are about as likely), else ``f1``."""
    if metric != "auto":
        return metric
    positives = int(np.sum(np.asarray(labels) == 1))
    rarer = min(positives, len(labels) - positives)
    return "accuracy" if len(labels) and rarer / len(labels) >= BALANCED_SHARE else "f1"


def choose_threshold(scores: np.ndarray, labels: np.ndarray, metric: str = "f1") -> float:
    """The threshold that maximises ``metric`` (``f1`` or ``accuracy``) of ``score >= threshold``.

    F1 (the default) suits duplicates that are rarer than non-duplicates; accuracy counts both kinds of error
    alike and suits data with about as many of each. The cut lies halfway between two distinct scores.

    Cutting halfway (never at a score itself) means tied scores always fall on the same side, and the
    result does not depend on row order. On equal values the higher threshold wins.
    """
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    counts = np.bincount(labels, minlength=2)
    check_dev_classes(int(counts[1]), int(counts[0]))
    distinct = np.unique(scores)[::-1]  # descending
    # Predicting positive for every score >= distinct[k]: true positives and predicted positives per cut.
    order = np.argsort(-scores, kind="stable")
    sorted_scores, sorted_labels = scores[order], labels[order]
    last_of_each = np.searchsorted(-sorted_scores, -distinct, side="right") - 1
    tp = np.cumsum(sorted_labels)[last_of_each]
    predicted = last_of_each + 1
    if metric == "f1":
        value = 2 * tp / (predicted + counts[1])
    elif metric == "accuracy":
        value = (tp + counts[0] - (predicted - tp)) / len(labels)
    else:
        raise ValueError(f"unknown threshold metric {metric!r}; choose f1 or accuracy")
    if metric == "accuracy" and counts[0] / len(labels) > value.max():  # calling nothing a duplicate is best
        return float(distinct[0] + 1.0)
    best = int(np.flatnonzero(value == value.max())[0])
    below = distinct[best + 1] if best + 1 < len(distinct) else distinct[best] - 1.0
    return float((distinct[best] + below) / 2)


def binary_metrics(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC-AUC, F1, precision, recall, accuracy and average precision at a fixed threshold."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    predicted = (scores >= threshold).astype(np.int64)
    both_classes = len(np.unique(labels)) == 2
    return {
        "roc_auc": float(skm.roc_auc_score(labels, scores)) if both_classes else float("nan"),
        "f1": float(skm.f1_score(labels, predicted, zero_division=0)),
        "precision": float(skm.precision_score(labels, predicted, zero_division=0)),
        "recall": float(skm.recall_score(labels, predicted, zero_division=0)),
        "accuracy": float(skm.accuracy_score(labels, predicted)),
        "average_precision": float(skm.average_precision_score(labels, scores)) if both_classes else float("nan"),
        "threshold": float(threshold),
        "n": int(len(labels)),
    }


def confusion_counts(scores: np.ndarray, labels: np.ndarray, threshold: float) -> dict[str, int]:
    """True/false positives and negatives of calling ``score >= threshold`` a duplicate."""
    called = np.asarray(scores, dtype=np.float64) >= threshold
    labels = np.asarray(labels) == 1
    return {"true_positives": int((called & labels).sum()), "false_positives": int((called & ~labels).sum()),
            "false_negatives": int((~called & labels).sum()), "true_negatives": int((~called & ~labels).sum())}


def ranking_metrics(groups: np.ndarray, scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """MAP, MRR and P@1 over the groups (questions) that have at least one correct candidate.

    This is the standard WikiQA/TrecQA protocol: questions with no correct candidate are left out.
    Ties are broken by row order (stable), so results are reproducible.
    """
    frame = pd.DataFrame({"group": groups, "score": scores, "label": labels})
    aps, rrs, p1s = [], [], []
    for _, group in frame.groupby("group", sort=False):
        if group["label"].max() < 1:
            continue
        ranked = group.sort_values("score", ascending=False, kind="stable")["label"].to_numpy()
        hits = np.flatnonzero(ranked > 0)
        precision_at_hits = np.arange(1, len(hits) + 1) / (hits + 1)
        aps.append(precision_at_hits.mean())
        rrs.append(1.0 / (hits[0] + 1))
        p1s.append(float(ranked[0] > 0))
    if not aps:
        raise TextsiamError("no question has a correct candidate (label 1); ranking metrics need at least one.")
    return {"map": float(np.mean(aps)), "mrr": float(np.mean(rrs)), "p_at_1": float(np.mean(p1s)),
            "n_questions": len(aps)}

