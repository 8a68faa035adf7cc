"""The dedup command: counts and speed on success, one-line errors with exit code 2, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import textsiam.cli.dedup  # noqa: F401  (registers the command on the app)
from textsiam.cli.app import app

from .test_deduplication import TEXTS, tiny_model_dir, write_csv


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return tiny_model_dir(tmp_path_factory.mktemp("model") / "tiny", threshold=0.9)


def invoke(*args: str):
    return CliRunner().invoke(app, ["dedup", *map(str, args)])


def test_dedup_command_writes_outputs_and_prints_counts(tmp_path, model_dir):
    data = write_csv(tmp_path / "q.csv", TEXTS)
    out = tmp_path / "out"
    result = invoke(data, "--column", "question", "--model", model_dir, "--output", out,
                    "--cache-dir", tmp_path / "cache")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2].startswith("rows read 8, written 8, rejected 2 ")
    assert lines[-1].endswith(" rows/s")
    assert "FutureWarning" not in result.output
    assert pd.read_csv(out / "clusters.csv").row.tolist() == list(range(8))
    again = invoke(data, "--column", "question", "--model", model_dir, "--output", out,
                   "--cache-dir", tmp_path / "cache")
    assert again.exit_code == 2 and "--overwrite" in again.output
    forced = invoke(data, "--model", model_dir, "--output", out, "--overwrite", "--no-cache",
                    "--clustering", "components", "--method", "ann")
    assert forced.exit_code == 0, forced.output


def test_id_columns_repeat_or_comma_separate(tmp_path, model_dir):
    data = tmp_path / "q.csv"
    pd.DataFrame({"a": ["1", "2"], "b": ["x", "y"], "text": ["w1 w2", "w2 w1"]}).to_csv(data, index=False)
    for name, options in (("comma", ["--id-column", "a,b"]), ("repeat", ["--id-column", "a", "--id-column", "b"])):
        result = invoke(data, "--model", model_dir, "--output", tmp_path / name, "--no-cache", *options)
        assert result.exit_code == 0, result.output
        columns = pd.read_csv(tmp_path / name / "pairs.csv").columns.tolist()
        assert columns[:6] == ["row_a", "row_b", "a_a", "a_b", "b_a", "b_b"]


@pytest.mark.parametrize("content, message", [
    ("id,question\n1,w1 w2\n", "no column 'text'"),
    ("", "the file is empty"),
    ('id,text\n1,"w1 w2"\n2,w3,w4,w5\n', "line 3"),
])
def test_bad_input_is_one_line_exit_2_and_leaves_nothing(tmp_path, model_dir, content, message):
    data = tmp_path / "in.csv"
    data.write_text(content)
    result = invoke(data, "--column", "text", "--model", model_dir, "--output", tmp_path / "out")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0] and "in.csv" in lines[0]
    assert "Traceback" not in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["in.csv"]


def test_unknown_clustering_is_refused(tmp_path, model_dir):
    data = write_csv(tmp_path / "q.csv", TEXTS)
    result = invoke(data, "--column", "question", "--model", model_dir, "--output", tmp_path / "o",
                    "--clustering", "component")
    assert result.exit_code == 2 and "Did you mean 'components'" in result.output


def test_a_threshold_that_would_flood_the_output_is_a_one_line_refusal(tmp_path, model_dir):
    data = write_csv(tmp_path / "q.csv", TEXTS)
    out = tmp_path / "out"
    result = invoke(data, "--model", model_dir, "--output", out, "--no-cache", "--threshold", "-1",
                    "--max-pairs", "2")
    assert result.exit_code == 2 and "pairs would be found" in result.output and "--max-pairs" in result.output
    assert "Traceback" not in result.output and not out.exists()
    allowed = invoke(data, "--model", model_dir, "--output", out, "--no-cache", "--threshold", "-1",
                     "--max-pairs", "0")
    assert allowed.exit_code == 0, allowed.output
