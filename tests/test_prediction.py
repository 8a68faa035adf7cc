"""predict_file / `textsiam predict`: every row kept in order, the column rule for labelled files, calibrated
probabilities, and texts in any script. The bag-of-words model of test_matching gives hand-computable scores."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer
from typer.testing import CliRunner

from textsiam.calibration import probabilities
from textsiam.cli import app
from textsiam.errors import TextsiamError
from textsiam.model import SiameseModel
from textsiam.prediction import predict_file, result_columns

from .test_matching import bag_of_words

runner = CliRunner()
CALIBRATION = {"w": 4.0, "b": 1.0, "similarity": "cosine"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A bag-of-words model with textsiam.json (threshold 0.6) but no calibration."""
    directory = tmp_path_factory.mktemp("bow") / "model"
    SiameseModel(SentenceTransformer(modules=bag_of_words(), device="cpu"), {"threshold": 0.6}).save(directory)
    return directory


def calibrated(model_dir: Path) -> SiameseModel:
    from textsiam.model import load

    model = load(model_dir)
    model.metadata["calibration"] = CALIBRATION
    return model


def test_labelled_file_keeps_its_columns_and_gets_prefixed_ones(model_dir: Path, tmp_path: Path):
    source = tmp_path / "labelled.csv"
    pd.DataFrame({"question1": ["red apple", "green tea", ""], "question2": ["red car", "green tea", "x"],
                  "is_duplicate": [1, 1, 0]}).to_csv(source, index=False)
    summary = predict_file(str(model_dir), source, tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv", keep_default_na=False)
    assert list(out.columns) == ["question1", "question2", "is_duplicate", "textsiam_score",
                                 "textsiam_is_duplicate", "textsiam_reason"]
    assert out["is_duplicate"].tolist() == [1, 1, 0]  # the user's labels, untouched
    assert out["textsiam_score"].tolist()[:2] == ["0.5", "1.0"]
    assert out["textsiam_is_duplicate"].astype(str).tolist() == ["0", "1", ""]  # threshold 0.6
    assert out["textsiam_reason"].tolist() == ["", "", "empty question1"]
    assert summary["read"] == summary["written"] == 3 and summary["rejected"] == 1
    assert summary["rows_per_second"] > 0


def test_unlabelled_file_gets_plain_column_names(model_dir: Path, tmp_path: Path):
    source = tmp_path / "pairs.csv"
    pd.DataFrame({"text1": ["red apple"], "text2": ["red apple pie"]}).to_csv(source, index=False)
    predict_file(str(model_dir), source, tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["text1", "text2", "score", "is_duplicate", "reason"]
    assert out["score"].tolist() == pytest.approx([2 / math.sqrt(6)])


def test_probability_column_comes_from_the_models_calibration(model_dir: Path, tmp_path: Path):
    source = tmp_path / "pairs.csv"
    pd.DataFrame({"text1": ["red apple", "blue sky", "green tea"],
                  "text2": ["red car", "red car", ""]}).to_csv(source, index=False)
    predict_file(calibrated(model_dir), source, tmp_path / "out.csv", chunksize=2)
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["text1", "text2", "score", "probability", "is_duplicate", "reason"]
    expected = probabilities(np.array([0.5, 0.0]), CALIBRATION)  # sigmoid(-4 * (1 - s) + 1)
    assert out["probability"].tolist()[:2] == pytest.approx(expected, abs=1e-6)
    assert expected[0] == pytest.approx(1 / (1 + math.exp(1.0)))
    assert np.isnan(out["probability"].iloc[2])  # unscorable row: empty, like its score


def test_cyrillic_and_chinese_pairs_are_scored_and_written_unchanged(model_dir: Path, tmp_path: Path):
    rows = [("красное яблоко", "красное яблоко"), ("苹果 绿茶", "绿茶"), ("зелёный чай", "苹果")]
    source = tmp_path / "intl.tsv"
    pd.DataFrame(rows, columns=["sentence1", "sentence2"]).to_csv(source, sep="\t", index=False)
    predict_file(str(model_dir), source, tmp_path / "out.tsv")
    out = pd.read_csv(tmp_path / "out.tsv", sep="\t")
    assert out[["sentence1", "sentence2"]].apply(tuple, axis=1).tolist() == rows
    assert out["score"].tolist() == pytest.approx([1.0, 1 / math.sqrt(2), 0.0])
    assert out["is_duplicate"].tolist() == [1, 1, 0]


def test_result_columns_rule():
    names = ("score", "is_duplicate", "reason")
    assert result_columns(["a", "b"], names) == {n: n for n in names}
    assert result_columns(["a", "reason"], names) == {n: "textsiam_" + n for n in names}
    with pytest.raises(TextsiamError, match="already has column.s. textsiam_score"):
        result_columns(["score", "textsiam_score"], names)


def test_cli_predict_batch_size_and_labelled_input(model_dir: Path, tmp_path: Path):
    source = tmp_path / "labelled.csv"
    pd.DataFrame({"question1": ["red apple"], "question2": ["red car"], "is_duplicate": [1]}).to_csv(source,
                                                                                                    index=False)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["predict", str(model_dir), str(source), "-o", str(out), "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert "textsiam_score" in pd.read_csv(out).columns
    assert "rows/s" in result.output
    bad = runner.invoke(app, ["predict", str(model_dir), str(source), "-o", str(tmp_path / "b.csv"),
                              "--batch-size", "0"])
    assert bad.exit_code == 2 and "--batch-size must be greater than 0" in bad.output
