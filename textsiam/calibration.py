"""The Siamese probability head p(duplicate) = sigmoid(-w·d + b), its fit on dev, and calibration metrics.

``d`` is a distance derived from the model's similarity score. sentence-transformers reports euclidean and
manhattan similarity as a negated distance, so there ``d = -s`` (a dot product has no natural zero and is treated
alike). A cosine score gives two classic distances:

* ``cosine``: 1 - s;
* ``unit-euclidean``: sqrt(2 - 2s), the euclidean distance between the two unit-length embeddings (the
  distance of the classic Siamese head).

Which one the logistic curve fits depends on the model and the data (LCQMC lstm, dev halves: ECE 0.038 with
``cosine``, 0.025 with ``unit-euclidean``; the QQP static tower: 0.019 vs 0.033), so ``fit_calibration`` fits
both on dev and keeps the one with the lower log loss (both have two parameters, so the comparison is fair).
``w``, ``b`` and the distance's name are saved in textsiam.json; a calibration saved without a distance name
(textsiam 0.1 before this rule) is ``cosine``.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss

ECE_BINS = 10
# The distances the head of a cosine score may use (``distances``), with the words the model card gives them.
COSINE_DISTANCES = {
    "cosine": "1 − cosine similarity",
    "unit-euclidean": "√(2 − 2·cosine similarity), the euclidean distance of the unit-length embeddings",
}


def distances(scores: np.ndarray, similarity: str, distance: str = "cosine") -> np.ndarray:
    """The distance ``d`` for each similarity score (smaller means more alike); ``distance`` applies to cosine."""
    scores = np.asarray(scores, dtype=np.float64)
    if similarity != "cosine":
        return -scores
    if distance == "unit-euclidean":
        return np.sqrt(np.clip(2.0 - 2.0 * scores, 0.0, None))
    return 1.0 - scores


def fit_head(scores: np.ndarray, labels: np.ndarray, similarity: str,
             distance: str = "cosine") -> tuple[float, dict[str, float | str]]:
    """``w`` and ``b`` of p = sigmoid(-w·d + b) fitted with one ``distance``, and the fit's log loss.

    The fit is a one-feature logistic regression, lightly regularised so that perfectly separated dev scores
    still give a finite slope.
    """
    labels = np.asarray(labels, dtype=np.int64)
    d = distances(scores, similarity, distance).reshape(-1, 1)
    regression = LogisticRegression(C=100.0, max_iter=1000).fit(d, labels)
    loss = log_loss(labels, regression.predict_proba(d)[:, 1], labels=[0, 1])
    return loss, {"w": float(-regression.coef_[0, 0]), "b": float(regression.intercept_[0]),
                  "similarity": similarity, "distance": distance}


def fit_calibration(scores: np.ndarray, labels: np.ndarray, similarity: str) -> dict[str, float | str]:
    """Fit ``w`` and ``b`` of p = sigmoid(-w·d + b) on labelled scores (the dev split).

    For cosine scores the head is fitted with each of ``COSINE_DISTANCES`` (``fit_head``) and the one with the
    lower log loss is kept.
    """
    candidates = tuple(COSINE_DISTANCES) if similarity == "cosine" else ("negated-score",)
    fits = [fit_head(scores, labels, similarity, distance) for distance in candidates]
    return min(fits, key=lambda fit: fit[0])[1]


def probabilities(scores: np.ndarray, calibration: dict) -> np.ndarray:
    """p(duplicate) for each score, with a fitted calibration (see ``fit_calibration``)."""
    d = distances(scores, str(calibration["similarity"]), str(calibration.get("distance", "cosine")))
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
