"""TrainConfig: every option checked up front, every field documented, per-tower defaults filled in."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from textsiam.choices import TOWER_DEFAULTS
from textsiam.errors import TextsiamError
from textsiam.hub import DEFAULT_BERT
from textsiam.training_args import TrainConfig


@pytest.mark.parametrize("overrides, message", [
    ({"tower": "cnn"}, "unknown --tower 'cnn'; choose one of: bert, lstm, static"),
    ({"loss": "contrastiv"}, "Did you mean 'contrastive'"),
    ({"distance": "cosin"}, "unknown --distance"),
    ({"arch": "twin"}, "unknown --arch"),
    ({"margin": 0.0}, "--margin must be greater than 0"),
    ({"batch_size": 0}, "--batch-size must be greater than 0"),
    ({"epochs": -1}, "--epochs must be greater than 0"),
])
def test_bad_options_are_refused(tmp_path: Path, overrides: dict, message: str):
    with pytest.raises(TextsiamError, match=message):
        TrainConfig(data=str(tmp_path / "p.csv"), output=str(tmp_path / "m"), **overrides)


def test_every_field_has_a_docstring():
    tree = ast.parse(inspect.getsource(TrainConfig))
    body = tree.body[0].body
    for i, node in enumerate(body):
        if isinstance(node, ast.AnnAssign):
            following = body[i + 1] if i + 1 < len(body) else None
            assert isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant), \
                f"TrainConfig.{node.target.id} has no docstring"


@pytest.mark.parametrize("tower", sorted(TOWER_DEFAULTS))
def test_a_tower_alone_gets_its_defaults(tower):
    config = TrainConfig(tower=tower)
    for name, value in TOWER_DEFAULTS[tower].items():
        if hasattr(config, name):
            assert getattr(config, name) == value
    assert config.model == (DEFAULT_BERT if tower == "bert" else None)


@pytest.mark.parametrize("tower, labelled, expected", [("lstm", True, "cosent"), ("static", True, "online-contrastive"),
                                                       ("bert", True, "online-contrastive"),
                                                       ("lstm", False, "in-batch-negatives")])
def test_the_default_loss_follows_the_tower_and_the_labels(tower: str, labelled: bool, expected: str):
    config = TrainConfig(tower=tower)
    config.resolve_loss(labelled)
    assert config.loss == expected and config.loss_spec.name == expected
    chosen = TrainConfig(tower=tower, loss="in-batch-negatives")
    chosen.resolve_loss(labelled)
    assert chosen.loss == "in-batch-negatives"  # a loss the user names is kept
