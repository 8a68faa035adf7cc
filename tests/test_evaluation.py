"""evaluate(): metrics at the saved threshold, calibration metrics, the JSON file and the HTML report it writes."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from textsiam.errors import TextsiamError
from textsiam.evaluation import evaluate, evaluate_pairs, report_folder

PAIRS = pd.DataFrame({
    "text1": ["how do i learn python", "what is tea", "如何学习中文", "Как выучить русский язык?", "buy a bike",
              "paris in spring"],
    "text2": ["how can i learn python", "how do i learn python", "怎样学中文", "Как выучить немецкий язык?",
              "sell a bike", "paris in the spring"],
    "label": [1, 0, 1, 0, 0, 1],
})
CALIBRATION = {"w": 4.0, "b": 1.0, "similarity": "cosine"}


def save_model(directory: Path, metadata: dict) -> Path:
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    encoder = build_encoder("lstm", train_texts=(PAIRS["text1"].tolist(), PAIRS["text2"].tolist()), seed=0,
                            embedding_dim=8, hidden_dim=8, max_length=16)
    SiameseModel(encoder, metadata).save(directory)
    return directory


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    return save_model(tmp_path_factory.mktemp("eval") / "calibrated", {"threshold": 0.5, "calibration": CALIBRATION})


@pytest.fixture(scope="module")
def uncalibrated(tmp_path_factory) -> Path:
    return save_model(tmp_path_factory.mktemp("eval") / "plain", {"threshold": 0.5})


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.csv"
    PAIRS.rename(columns={"label": "is_duplicate"}).to_csv(path, index=False)
    return path


def test_metrics_json_and_report_beside_it(calibrated: Path, data: Path, tmp_path: Path):
    output = tmp_path / "out" / "metrics.json"
    metrics = evaluate(calibrated, data, output=output, threshold=-10.0)  # everything called a duplicate
    assert json.loads(output.read_text()) == metrics
    assert metrics["n"] == 6 and metrics["threshold"] == -10.0 and metrics["precision"] == 0.5
    report = tmp_path / "out" / "metrics-report"
    assert report_folder(output) == report
    assert sorted(p.name for p in report.iterdir()) == ["curves.png", "index.html", "map.png", "metrics.json",
                                                        "reliability.png", "scores.png"]
    page = (report / "index.html").read_text(encoding="utf-8")
    false_positives = page[page.index("false positives (3 in all)"): page.index("false negatives (0 in all)")]
    assert "Как выучить немецкий язык?" in false_positives and "sell a bike" in false_positives
    assert "calibrated on pairs.csv" in page  # title: model on data


def test_calibrated_model_reports_brier_and_ece(calibrated: Path, uncalibrated: Path, data: Path):
    from textsiam.calibration import calibration_metrics, probabilities
    from textsiam.model import load

    metrics = evaluate(calibrated, data)
    scores = load(calibrated).score(PAIRS["text1"].tolist(), PAIRS["text2"].tolist())
    expected = calibration_metrics(probabilities(scores, CALIBRATION), PAIRS["label"].to_numpy())
    assert metrics["brier"] == pytest.approx(expected["brier"]) and metrics["ece"] == pytest.approx(expected["ece"])
    assert "brier" not in evaluate(uncalibrated, data) and "ece" not in evaluate(uncalibrated, data)


def test_report_option_without_output(uncalibrated: Path, data: Path, tmp_path: Path):
    evaluate(uncalibrated, data, report=tmp_path / "rep")
    assert (tmp_path / "rep" / "index.html").exists() and not (tmp_path / "rep" / "reliability.png").exists()
    with pytest.raises(TextsiamError, match="already exists; pass --overwrite"):
        evaluate(uncalibrated, data, report=tmp_path / "rep")
    evaluate(uncalibrated, data, report=tmp_path / "rep", overwrite=True)


def test_threshold_override_and_missing_threshold(uncalibrated: Path, data: Path):
    from textsiam.model import load

    model = load(uncalibrated)
    metrics, scores = evaluate_pairs(model, PAIRS, threshold=-10.0)
    assert metrics["recall"] == 1.0 and metrics["precision"] == 0.5 and len(scores) == 6
    model.metadata.pop("threshold")
    with pytest.raises(TextsiamError, match="no saved threshold"):
        evaluate_pairs(model, PAIRS)


def test_batch_size_must_be_positive(uncalibrated: Path, data: Path):
    with pytest.raises(TextsiamError, match="--batch-size must be greater than 0"):
        evaluate(uncalibrated, data, batch_size=0)


def test_bad_data_fails_before_the_model_loads(data: Path, tmp_path: Path):
    """Data mistakes are reported first: reading a file is quick, loading a model is not."""
    with pytest.raises(TextsiamError, match="unknown text encoding"):
        evaluate(tmp_path / "no-such-model", data, encoding="klingon")
