"""TrainConfig: every option checked up front, every field documented, per-tower defaults filled in."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from textsiam import hub
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
    assert config.model == (DEFAULT_BERT if tower == "bert" else None)  # the lstm's: set by train() from the texts


@pytest.mark.parametrize("installed", [True, False])
def test_the_lstm_starts_from_the_installed_minilm_on_latin_script_texts(monkeypatch, installed: bool):
    monkeypatch.setattr(hub, "LSTM_START_MODEL", "minilm")
    monkeypatch.setattr(hub, "minilm_installed", lambda: installed)
    english, french = ["How do I learn Python?"] * 3, ["Où est la gare, s'il vous plaît ? Déjà vu."] * 3
    assert hub.default_model("lstm", english) == hub.default_model("lstm", french) == ("minilm" if installed else None)
    for other in (["如何学习Python？"], ["Как выучить язык?"], ["?!", ""], []):
        assert hub.default_model("lstm", other) is None
    assert hub.default_model("lstm", english, embeddings="glove") is None  # GloVe vectors instead
    assert hub.default_model("static", english) is None
    assert hub.default_model("bert") == DEFAULT_BERT


def test_model_none_means_from_scratch():
    assert TrainConfig(tower="lstm", model="none").model is None
    assert not TrainConfig(tower="lstm", model="none").default_model  # train() leaves it so
    assert TrainConfig(tower="static", model="None").model is None


@pytest.mark.parametrize("overrides, message", [
    ({"tower": "bert", "model": "none"}, "--tower bert needs a pretrained --model"),
    ({"tower": "lstm", "model": "minilm", "embeddings": "glove"}, "give one of them"),
])
def test_contradictory_starting_points_are_refused(overrides: dict, message: str):
    with pytest.raises(TextsiamError, match=message):
        TrainConfig(**overrides)


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
