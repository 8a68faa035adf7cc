"""The Siamese probability head p(duplicate) = sigmoid(-w·d + b), its fit on dev, and calibration metrics.

``d`` is the tower's distance, derived from the model's similarity score: ``1 - s`` for cosine similarity,
``-s`` for the others (sentence-transformers reports euclidean and manhattan similarity as a negated
distance, and a dot product has no natural zero). ``w`` and ``b`` are fitted by logistic regression on the
dev split after training, whatever the loss, and saved in textsiam.json.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

ECE_BINS = 10


def distances(scores: np.ndarray, similarity: str) -> np.ndarray:
    """The tower's distance for each similarity score (smaller means more alike)."""
    scores = np.asarray(scores, dtype=np.float64)
    return 1.0 - scores if similarity == "cosine" else -scores


def fit_calibration(scores: np.ndarray, labels: np.ndarray, similarity: str) -> dict[str, float | str]:
    """Fit ``w`` and ``b`` of p = sigmoid(-w·d + b) on labelled scores (the dev split).

    The fit is a one-feature logistic regression, lightly regularised so that perfectly separated dev scores
    still give a finite slope.
    """
    d = distances(scores, similarity).reshape(-1, 1)
    labels = np.asarray(labels, dtype=np.int64)
    regression = LogisticRegression(C=100.0, max_iter=1000).fit(d, labels)
    return {"w": float(-regression.coef_[0, 0]), "b": float(regression.intercept_[0]), "similarity": similarity}


def probabilities(scores: np.ndarray, calibration: dict) -> np.ndarray:
    """p(duplicate) for each score, with a fitted calibration (see ``fit_calibration``)."""
    d = distances(scores, str(calibration["similarity"]))
    logits = -float(calibration["w"]) * d + float(calibration["b"])
    return 1.0 / (1.0 + np.exp(-np.clip(logits, -500, 500)))


def reliability_bins(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> list[dict[str, float]]:
    """Equal-width bins of predicted probability: each bin's range, count, mean prediction and positive rate.

    Empty bins are kept (count 0, NaN means), so every plot and table has the same ``bins`` rows.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    index = np.minimum((probs * bins).astype(np.int64), bins - 1)
    rows = []
    for k in range(bins):
        inside = index == k
        count = int(inside.sum())
        rows.append({"low": k / bins, "high": (k + 1) / bins, "count": count,
                     "mean_probability": float(probs[inside].mean()) if count else float("nan"),
                     "positive_rate": float(labels[inside].mean()) if count else float("nan")})
    return rows


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, bins: int = ECE_BINS) -> float:
    """ECE: the count-weighted mean gap between mean prediction and positive rate over equal-width bins."""
    total = len(probs)
    return float(sum(row["count"] / total * abs(row["mean_probability"] - row["positive_rate"])
                     for row in reliability_bins(probs, labels, bins) if row["count"]))


def calibration_metrics(probs: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Brier score (mean squared error of the probabilities) and ECE with 10 equal-width bins."""
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64)
    return {"brier": float(np.mean((probs - labels) ** 2)), "ece": expected_calibration_error(probs, labels)}
