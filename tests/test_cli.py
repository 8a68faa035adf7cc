"""The CLI end to end with typer's CliRunner: train, evaluate, predict, and one-line errors."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from textsiam.cli import app

runner = CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, str]:
    output = tmp_path_factory.mktemp("cli") / "model"
    result = runner.invoke(app, ["train", "--data", "sample", "--output", str(output), "--epochs", "2"])
    assert result.exit_code == 0, result.output
    return output, result.output


@pytest.fixture(scope="module")
def sample_model(trained) -> Path:
    return trained[0]


def test_train_output_is_quiet_and_ends_with_a_summary(trained):
    model, output = trained
    for noise in ("Computing widget examples", "Loading weights", "UserWarning", "FutureWarning"):
        assert noise not in output
    assert f"model -> {model}" in output and f"report -> {model / 'report' / 'index.html'}" in output
    assert re.search(r"rows trained on [0-9]+; [0-9.]+ s \([0-9,]+ rows/s\)", output), output


def test_train_on_sample_prints_test_metrics(sample_model: Path):
    meta = json.loads((sample_model / "textsiam.json").read_text())
    test = meta["metrics"]["test"]
    assert test["n"] == len(meta["split"]["test"]) and test["threshold"] == meta["threshold"]
    assert (sample_model / "report" / "index.html").exists()


def test_evaluate_writes_metrics_json_and_report(sample_model: Path, tmp_path: Path):
    out = tmp_path / "metrics.json"
    result = runner.invoke(app, ["evaluate", str(sample_model), "--data", "sample", "--output", str(out),
                                 "--batch-size", "7"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert {"roc_auc", "f1", "precision", "recall", "accuracy", "average_precision", "threshold", "n"} <= set(metrics)
    meta = json.loads((sample_model / "textsiam.json").read_text())
    assert ("brier" in metrics) == ("calibration" in meta)
    assert metrics["n"] == len(pd.read_csv("data/sample_pairs.csv"))
    assert metrics["threshold"] == meta["threshold"]
    assert (tmp_path / "metrics-report" / "index.html").exists()
    # The summary says what was written where, and how fast.
    assert f"report -> {tmp_path / 'metrics-report' / 'index.html'}" in result.output
    assert re.search(rf"rows scored {metrics['n']}; [0-9.]+ s \([0-9,]+ rows/s\)", result.output), result.output


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


# ---- start-up, help and the options every command shares --------------------------------------------------

def test_importing_the_cli_loads_no_torch():
    """``textsiam --help`` must not wait for torch: the commands import the heavy libraries when they run."""
    code = ("import sys, textsiam.cli; heavy = ('torch', 'sentence_transformers', 'transformers', 'pandas'); "
            "print(','.join(m for m in heavy if m in sys.modules))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_version():
    from textsiam import __version__

    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"textsiam {__version__}"


def click_commands() -> dict:
    import typer

    return typer.main.get_command(app).commands


def test_every_command_takes_threads_and_device():
    for name, command in click_commands().items():
        options = {option for param in command.params for option in param.opts}
        assert {"--threads", "--device"} <= options, name


def test_every_option_says_what_it_does_and_its_default():
    for name, command in click_commands().items():
        for param in command.params:
            if param.param_type_name != "option" or param.required:
                continue
            assert param.help and len(param.help) > 10, (name, param.name)
            has_default = param.default is not None or isinstance(param.show_default, str)
            assert has_default and param.show_default is not False, (name, param.name)


@pytest.mark.parametrize("option, shown", [("--epochs", "1 bert, 8 lstm"), ("--batch-size", "32 bert, 128 lstm"),
                                           ("--learning-rate", "5e-05 bert, 0.002 lstm"),
                                           ("--max-length", "64 bert, 48 lstm"),
                                           ("--margin", "0.5 cosine, 1 euclidean, 5 manhattan")])
def test_train_help_shows_per_tower_defaults(option: str, shown: str):
    command = click_commands()["train"]
    param = next(p for p in command.params if option in p.opts)
    assert shown in param.show_default


def test_threads_and_device_reach_the_runtime(sample_model: Path, monkeypatch):
    import textsiam.runtime

    calls = []
    monkeypatch.setattr(textsiam.runtime, "configure", lambda threads, device: calls.append((threads, device)))
    result = runner.invoke(app, ["evaluate", str(sample_model), "--data", "sample", "--threads", "3",
                                 "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert calls == [(3, "cpu")]


def test_bad_threads_or_device_is_one_line(sample_model: Path):
    for args, message in ((["--threads", "0"], "--threads must be greater than 0"),
                          (["--device", "tpu"], "unknown --device 'tpu'")):
        result = runner.invoke(app, ["evaluate", str(sample_model), "--data", "sample", *args])
        assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
