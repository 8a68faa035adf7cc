"""The CLI end to end with typer's CliRunner: train, evaluate, predict, and one-line errors."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from textsiam.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def sample_model(tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("cli") / "model"
    result = runner.invoke(app, ["train", "--data", "sample", "--output", str(output), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    return output


def test_train_on_sample_prints_test_metrics(sample_model: Path):
    meta = json.loads((sample_model / "textsiam.json").read_text())
    assert meta["metrics"]["test"]["n"] > 0 and -1.0 <= meta["threshold"] <= 1.0


def test_evaluate_writes_metrics_json_and_curves(sample_model: Path, tmp_path: Path):
    out = tmp_path / "metrics.json"
    result = runner.invoke(app, ["evaluate", str(sample_model), "--data", "sample", "--output", str(out)])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert set(metrics) == {"roc_auc", "f1", "precision", "recall", "accuracy", "average_precision", "threshold", "n"}
    assert metrics["n"] == len(pd.read_csv("data/sample_pairs.csv"))
    assert metrics["threshold"] == json.loads((sample_model / "textsiam.json").read_text())["threshold"]
    assert out.with_suffix(".png").exists()


def test_predict_keeps_every_row_in_order(sample_model: Path, tmp_path: Path):
    source = tmp_path / "in.csv"
    pd.DataFrame({"question1": ["how do i learn python", "", "what is inflation", "x"],
                  "question2": ["how can i learn python fast", "b", "what is a recession", None],
                  "extra": [1, 2, 3, 4]}).to_csv(source, index=False)
    out = tmp_path / "scored.csv"
    result = runner.invoke(app, ["predict", str(sample_model), str(source), "--output", str(out), "--chunksize", "2"])
    assert result.exit_code == 0, result.output
    assert "rows read 4, written 4, rejected 2" in result.output
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["extra"].tolist() == [1, 2, 3, 4]
    assert scored["reason"].tolist() == ["", "empty question1", "", "empty question2"]
    assert scored.loc[1, "score"] == "" and scored.loc[0, "score"] != ""
    assert set(scored.loc[[0, 2], "is_duplicate"].astype(int)) <= {0, 1}
    # Refuses to overwrite.
    again = runner.invoke(app, ["predict", str(sample_model), str(source), "--output", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output


@pytest.mark.parametrize("args, message", [
    (["train", "--data", "missing.csv", "--output", "OUT"], "missing.csv: no such file"),
    (["train", "--tower", "gru", "--output", "OUT"], "unknown --tower 'gru'; choose one of: bert, lstm"),
    (["train", "--margin", "-1", "--output", "OUT"], "--margin must be greater than 0"),
    (["evaluate", "no_such_model_dir/", "--data", "sample"], "no such model directory"),
])
def test_user_errors_are_one_line_without_traceback(tmp_path: Path, args: list[str], message: str):
    args = [a.replace("OUT", str(tmp_path / "m")) for a in args]
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "m").exists()


def test_model_dir_that_is_not_a_model(tmp_path: Path):
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("hi")
    result = runner.invoke(app, ["evaluate", str(tmp_path / "junk"), "--data", "sample"])
    assert result.exit_code == 2 and "not a textsiam or SentenceTransformer model directory" in result.output


def test_pickled_weights_are_refused(sample_model: Path, tmp_path: Path):
    import shutil

    copy = tmp_path / "pickled"
    shutil.copytree(sample_model, copy)
    (copy / "pytorch_model.bin").write_bytes(b"not really a pickle")
    result = runner.invoke(app, ["evaluate", str(copy), "--data", "sample"])
    assert result.exit_code == 2 and "pickled weights" in result.output
