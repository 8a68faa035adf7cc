"""SiameseModel: the one encoding path (each distinct text once), scores, threshold and probabilities."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from textsiam.calibration import probabilities
from textsiam.errors import TextsiamError
from textsiam.model import SiameseModel, load

from .test_matching import WORDS, bag_of_words


class CountingEncoder(SentenceTransformer):
    """A SentenceTransformer that records every text it is asked to encode."""

    seen: list[str]

    def encode(self, inputs, *args, **kwargs):
        self.seen.extend(inputs)
        return super().encode(inputs, *args, **kwargs)


@pytest.fixture
def model() -> SiameseModel:
    encoder = CountingEncoder(modules=bag_of_words(), device="cpu")
    encoder.seen = []
    return SiameseModel(encoder, {"threshold": 0.6})


def test_score_encodes_each_distinct_text_once(model: SiameseModel):
    scores = model.score(["red apple", "red apple", "green tea"], ["green tea", "red apple", "hot tea"])
    assert sorted(model.encoder.seen) == ["green tea", "hot tea", "red apple"]
    assert scores.tolist() == pytest.approx([0.0, 1.0, 0.5])


def test_cyrillic_and_chinese_scores(model: SiameseModel):
    scores = model.score(["красное яблоко", "苹果 绿茶", "зелёный чай"], ["красное яблоко", "绿茶", "苹果"])
    assert scores.tolist() == pytest.approx([1.0, 1 / math.sqrt(2), 0.0])
    assert model.predict(["красное яблоко"], ["яблоко"]).tolist() == [1]  # 1/sqrt(2) >= 0.6


def test_encode_nothing_gives_an_empty_matrix_of_the_right_width(model: SiameseModel):
    assert model.encode([]).shape == (0, len(WORDS)) and model.dimension == len(WORDS)
    assert model.score([], []).shape == (0,)


def test_score_needs_equal_lengths(model: SiameseModel):
    with pytest.raises(ValueError, match="differ in length"):
        model.score(["a"], [])


def test_predict_needs_a_threshold():
    with pytest.raises(TextsiamError, match="no saved threshold"):
        SiameseModel(SentenceTransformer(modules=bag_of_words(), device="cpu")).predict(["red"], ["red"])


def test_probabilities_only_with_a_calibration(model: SiameseModel):
    scores = np.array([0.2, 0.9])
    assert model.probabilities(scores) is None
    model.metadata["calibration"] = {"w": 3.0, "b": 0.5, "similarity": "cosine"}
    assert model.probabilities(scores) == pytest.approx(probabilities(scores, model.calibration))


def test_save_and_load_keep_metadata_and_scores(model: SiameseModel, tmp_path: Path):
    model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert again.threshold == 0.6
    pairs = (["red apple pie", "苹果"], ["red apple", "苹果 绿茶"])
    assert again.score(*pairs) == pytest.approx(model.score(*pairs))
