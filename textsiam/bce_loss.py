"""The classic Siamese similarity head trained end to end: p(duplicate) = sigmoid(-w·d + b).

``d`` is the distance between the two towers' embeddings (cosine, euclidean or manhattan); ``w`` and ``b`` are
learnt with the towers by binary cross-entropy. After training, textsiam refits ``w`` and ``b`` on dev for every
loss (textsiam.calibration), so the probabilities a saved model gives are calibrated whatever the loss.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def pair_distance(u: Tensor, v: Tensor, distance: str) -> Tensor:
    """Row-wise distance of two embedding batches: 1 - cosine, L2 or L1."""
    if distance == "cosine":
        return 1.0 - F.cosine_similarity(u, v)
    return torch.norm(u - v, p=2 if distance == "euclidean" else 1, dim=1)


class SiameseBCELoss(nn.Module):
    """Binary cross-entropy of p = sigmoid(-w·d + b) against the 0/1 label of each pair.

    ``w`` starts at ``initial_w`` and ``b`` at ``w`` times half the typical distance scale, so the untrained head
    puts p = 0.5 at a cosine distance of 0.5.
    """

    def __init__(self, model: nn.Module, distance: str = "cosine", initial_w: float = 10.0) -> None:
        super().__init__()
        self.model = model
        self.distance = distance
        self.w = nn.Parameter(torch.tensor(float(initial_w)))
        self.b = nn.Parameter(torch.tensor(float(initial_w) * 0.5))

    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor) -> Tensor:
        u, v = (self.model(features)["sentence_embedding"] for features in sentence_features)
        logits = -self.w * pair_distance(u, v, self.distance) + self.b
        return F.binary_cross_entropy_with_logits(logits, labels.float())

    def get_config_dict(self) -> dict[str, float | str]:
        return {"distance": self.distance, "w": self.w.item(), "b": self.b.item()}
