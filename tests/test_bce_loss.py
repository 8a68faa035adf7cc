"""The Siamese similarity head trained end to end: p = sigmoid(-w·d + b) with binary cross-entropy."""

from __future__ import annotations

import pytest
import torch

from textsiam.bce_loss import SiameseBCELoss, pair_distance


class Identity(torch.nn.Module):
    """A 'tower' that returns its input features as the embedding."""

    def forward(self, features):
        return {"sentence_embedding": features["x"]}


@pytest.mark.parametrize("distance", ["cosine", "euclidean", "manhattan"])
def test_distance_is_zero_for_identical_and_grows_apart(distance):
    u = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    v = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    d = pair_distance(u, v, distance)
    assert d[0].item() == pytest.approx(0.0, abs=1e-6) and d[1].item() > 0.5


def test_training_the_head_separates_close_from_far_pairs():
    torch.manual_seed(0)
    loss = SiameseBCELoss(Identity(), distance="euclidean", initial_w=1.0)
    u = torch.randn(64, 4)
    v = torch.cat([u[:32] + 0.05 * torch.randn(32, 4), torch.randn(32, 4) * 3])
    labels = torch.cat([torch.ones(32), torch.zeros(32)])
    optimiser = torch.optim.Adam(loss.parameters(), lr=0.1)
    first = loss([{"x": u}, {"x": v}], labels).item()
    for _ in range(200):
        optimiser.zero_grad()
        value = loss([{"x": u}, {"x": v}], labels)
        value.backward()
        optimiser.step()
    assert value.item() < first / 3
    assert loss.w.item() > 1.0  # a larger distance means a lower p(duplicate)
    assert set(loss.get_config_dict()) == {"distance", "w", "b"}
