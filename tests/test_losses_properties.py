"""Properties of the contrastive and triplet losses exactly as textsiam builds them (``build_loss``), for every
distance. A stub model hands the loss the embeddings we choose, so the loss maths is tested, not a tower."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from textsiam.losses import DISTANCES, LossSpec, build_loss

DIM = 4
vectors = st.lists(st.floats(-5, 5, allow_nan=False, width=32), min_size=DIM, max_size=DIM)
batches = st.integers(1, 4).flatmap(lambda n: st.lists(vectors, min_size=n, max_size=n))
fractions = st.floats(0.05, 0.9)
SETTINGS = settings(max_examples=40, deadline=None)


class StubModel(torch.nn.Module):
    """Returns the embeddings carried in the features: ``{"embedding": tensor}`` -> sentence_embedding."""

    def forward(self, features: dict) -> dict:
        return {"sentence_embedding": features["embedding"]}


def tensor(rows) -> torch.Tensor:
    return torch.tensor(np.asarray(rows, dtype=np.float32))


def distance(name: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise distance, computed independently of sentence-transformers."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if name == "euclidean":
        return np.linalg.norm(a - b, axis=1)
    if name == "manhattan":
        return np.abs(a - b).sum(axis=1)
    return 1 - (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def loss_value(loss_name: str, dist: str, margin: float | None, columns: list, labels=None) -> float:
    loss = build_loss(LossSpec(loss_name, dist, margin), StubModel())
    features = [{"embedding": tensor(column)} for column in columns]
    labels = torch.tensor(labels if labels is not None else [0] * len(columns[0]))
    with torch.no_grad():
        return float(loss(features, labels))


def nonzero_norms(*arrays) -> bool:
    return all(np.linalg.norm(np.asarray(x, dtype=np.float64), axis=1).min() > 1e-2 for x in arrays)


@pytest.mark.parametrize("dist", DISTANCES)
@SETTINGS
@given(a=batches)
def test_contrastive_is_zero_for_identical_positive_pairs(dist: str, a):
    assume(nonzero_norms(a))
    assert loss_value("contrastive", dist, None, [a, a], [1] * len(a)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("dist", DISTANCES)
@SETTINGS
@given(data=st.data(), fraction=fractions)
def test_contrastive_is_zero_for_negatives_beyond_the_margin(dist: str, data, fraction: float):
    a = data.draw(batches)
    b = data.draw(st.lists(vectors, min_size=len(a), max_size=len(a)))
    assume(nonzero_norms(a, b))
    gap = distance(dist, a, b).min()
    assume(gap > 1e-2)
    labels = [0] * len(a)
    assert loss_value("contrastive", dist, fraction * gap, [a, b], labels) == pytest.approx(0.0, abs=1e-7)
    # …and not zero once the margin reaches past the closest negative: the property is not vacuous.
    assert loss_value("contrastive", dist, gap * 1.5 + 0.1, [a, b], labels) > 0


@pytest.mark.parametrize("dist", DISTANCES)
@SETTINGS
@given(data=st.data())
def test_contrastive_is_symmetric(dist: str, data):
    a = data.draw(batches)
    b = data.draw(st.lists(vectors, min_size=len(a), max_size=len(a)))
    labels = data.draw(st.lists(st.integers(0, 1), min_size=len(a), max_size=len(a)))
    assume(nonzero_norms(a, b))
    forward = loss_value("contrastive", dist, None, [a, b], labels)
    backward = loss_value("contrastive", dist, None, [b, a], labels)
    assert forward == pytest.approx(backward, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("dist", DISTANCES)
@SETTINGS
@given(data=st.data(), fraction=fractions)
def test_triplet_is_zero_when_the_negative_is_farther_by_the_margin(dist: str, data, fraction: float):
    anchor = data.draw(batches)
    n = len(anchor)
    first = data.draw(st.lists(vectors, min_size=n, max_size=n))
    second = data.draw(st.lists(vectors, min_size=n, max_size=n))
    assume(nonzero_norms(anchor, first, second))
    d1, d2 = distance(dist, anchor, first), distance(dist, anchor, second)
    # Per row, the nearer one is the positive, the farther one the negative.
    positive = np.where((d1 <= d2)[:, None], first, second)
    negative = np.where((d1 <= d2)[:, None], second, first)
    gap = (np.maximum(d1, d2) - np.minimum(d1, d2)).min()
    assume(gap > 1e-2)
    assert loss_value("triplet", dist, fraction * gap, [anchor, positive, negative]) == pytest.approx(0.0, abs=1e-6)
    assert loss_value("triplet", dist, gap * 1.5 + 0.1, [anchor, positive, negative]) > 0
