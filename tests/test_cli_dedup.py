"""The dedup command: counts on success, one-line errors with exit code 2, nothing half-written."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

import textsiam.cli.dedup  # noqa: F401  (registers the command on the app)
from textsiam.cli.app import app

from .test_search import TEXTS, tiny_model_dir, write_csv


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
    assert "rows read 8, written 8, rejected 0" in result.output
    assert pd.read_csv(out / "clusters.csv").row.tolist() == list(range(8))
    again = invoke(data, "--column", "question", "--model", model_dir, "--output", out,
                   "--cache-dir", tmp_path / "cache")
    assert again.exit_code == 2 and "--overwrite" in again.output
    forced = invoke(data, "--column", "question", "--model", model_dir, "--output", out, "--overwrite",
                    "--no-cache", "--clustering", "components", "--method", "ann")
    assert forced.exit_code == 0, forced.output


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
