"""Bad input through the CLI (train, evaluate, predict): a non-zero exit, one 'error:' line that names the file,
row or column and what to do, no traceback, and nothing half-written left behind. Also: rows are accounted for."""

from __future__ import annotations

import gzip
import json
import os
import random
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from textsiam.cli import app
from textsiam.errors import TextsiamError
from textsiam.text import MAX_TEXT_CHARS

from .conftest import write_pairs

runner = CliRunner()
HEADER = "question1,question2,is_duplicate\n"

# name -> file content (bytes); every one is broken in a different way.
BAD_FILES: dict[str, bytes] = {
    "empty.csv": b"",
    "blank_lines.csv": b"\n\n\n",
    "header_only.csv": b"text1,text2,label\n",
    "misspelt_column.csv": b"questoin1,question2,is_duplicate\na,b,1\nc,d,0\n",
    "all_texts_empty.csv": (HEADER + ",b,1\nc,,0\n").encode(),
    "latin1.csv": (HEADER + "a,b,1\n").encode() + "café,d,0\n".encode("latin-1"),
    "ragged.csv": (HEADER + "a,b,1\nc,d,1,extra,fields\n").encode(),
    "unbalanced_quote.csv": (HEADER + 'a,"b,1\nc,d,0\n').encode(),
    "labels_bad.csv": (HEADER + "a,b,yes\nc,d,maybe\ne,f,2\ng,h,0\n").encode(),
    "duplicated_header.csv": b"question1,question1,is_duplicate\na,b,1\n",
    "broken.csv.gz": gzip.compress((HEADER + "".join(f"{random.Random(i).random()},q{i},{i % 2}\n"
                                                     for i in range(3000))).encode())[:20_000],  # cut short
    "binary.csv": bytes(range(256)) * 4,
}
# name -> what the one error line must say (beyond the file name, which every message carries).
BAD_FILE_MESSAGES = {
    "empty.csv": "the file is empty",
    "blank_lines.csv": "the file is empty",
    "header_only.csv": "the file has a header but no data rows",
    "misspelt_column.csv": "Misspelt? 'questoin1' -> 'question1'",
    "all_texts_empty.csv": "every row has an empty text in 'question1' or 'question2'",
    "latin1.csv": "not valid utf-8 text (line 3); re-save the file as UTF-8, or pass --encoding latin-1",
    "ragged.csv": "Expected 3 fields in line 3, saw 5. Check for ragged rows or an unclosed quote",
    "unbalanced_quote.csv": "EOF inside string",
    "labels_bad.csv": "2 label(s) that are not 0/1, yes/no, true/false or duplicate/not_duplicate: "
                      "row 1 ('maybe'), row 2 ('2')",
    "duplicated_header.csv": "duplicated column name(s) in the header: question1; rename them",
    "broken.csv.gz": "cannot read the file",
    "binary.csv": "not valid utf-8 text",
}
# predict needs no label, and a file's is_duplicate column would clash with the output's: use text1/text2 there.
PREDICT_FILES = {
    "misspelt_column.csv": b"questoin1,question2\na,b\nc,d\n",
    "latin1.csv": b"text1,text2\na,b\n" + "café,d\n".encode("latin-1"),
    "ragged.csv": b"text1,text2\na,b\nc,d,e\n",
    "unbalanced_quote.csv": b'text1,text2\na,"b\nc,d\n',
    "duplicated_header.csv": b"text1,text1\na,b\n",
}
PREDICT_MESSAGES = {"ragged.csv": "Expected 2 fields in line 3, saw 3",
                    "duplicated_header.csv": "duplicated column name(s) in the header: text1; rename them"}
NOT_FOR_PREDICT = {"all_texts_empty.csv", "labels_bad.csv"}  # predict keeps such rows (see the tests below)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """An untrained tiny LSTM saved as a textsiam model with a threshold: enough to load, score and refuse."""
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    directory = tmp_path_factory.mktemp("robust") / "model"
    encoder = build_encoder("lstm", train_texts=(["how do i learn python"], ["what is tea"]), seed=0,
                            embedding_dim=8, hidden_dim=8, max_length=16)
    SiameseModel(encoder, {"threshold": 0.5, "tower": "lstm", "arch": "siamese"}).save(directory)
    return directory


def leftovers(root: Path, before: set[Path]) -> list[Path]:
    """Paths under ``root`` that were not there ``before``: partial outputs, temporary files."""
    return sorted(set(root.rglob("*")) - before)


def invoke_failing(args: list[str], root: Path, *expected: str) -> str:
    """Run the CLI; check it fails cleanly with one error line containing ``expected``; return that line."""
    before = set(root.rglob("*"))
    result = runner.invoke(app, [str(a) for a in args])
    output = result.output
    assert result.exit_code == 2, output
    assert "Traceback" not in output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    for text in expected:
        assert text in errors[0], errors[0]
    assert not leftovers(root, before), leftovers(root, before)
    return errors[0]


def write_bad(directory: Path, name: str, command: str) -> Path:
    path = directory / name
    content = PREDICT_FILES.get(name, BAD_FILES[name]) if command == "predict" else BAD_FILES[name]
    path.write_bytes(content)
    return path


def command_args(command: str, data: Path, out: Path, model: Path) -> list:
    if command == "train":
        return ["train", "--data", data, "--output", out, "--epochs", "1"]
    if command == "evaluate":
        return ["evaluate", model, "--data", data, "--output", out.with_suffix(".json")]
    return ["predict", model, data, "--output", out.with_suffix(".csv")]


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_data_file(tmp_path: Path, model_dir: Path, command: str, name: str):
    if command == "predict" and name in NOT_FOR_PREDICT:
        pytest.skip("predict keeps such rows and reports them; tested below")
    data = write_bad(tmp_path, name, command)
    message = PREDICT_MESSAGES.get(name, BAD_FILE_MESSAGES[name]) if command == "predict" else BAD_FILE_MESSAGES[name]
    invoke_failing(command_args(command, data, tmp_path / "out", model_dir), tmp_path, str(data), message)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
@pytest.mark.parametrize("kind, message", [("missing", "no such file"), ("directory", "is a directory")])
def test_missing_file_or_directory(tmp_path: Path, model_dir: Path, command: str, kind: str, message: str):
    data = tmp_path / "pairs.csv"
    if kind == "directory":
        data.mkdir()
    invoke_failing(command_args(command, data, tmp_path / "out", model_dir), tmp_path, str(data), message)


@pytest.mark.parametrize("command", ["train", "evaluate", "predict"])
def test_unknown_encoding(tmp_path: Path, model_dir: Path, command: str):
    data = write_pairs(tmp_path / "pairs.csv")
    args = command_args(command, data, tmp_path / "out", model_dir) + ["--encoding", "klingon"]
    invoke_failing(args, tmp_path, "--encoding 'klingon': unknown text encoding")


@pytest.mark.parametrize("command", ["train", "evaluate"])
@pytest.mark.parametrize("option, value, message", [
    ("--text1", "questoin1", "no column 'questoin1' (--text1). Did you mean 'question1'"),
    ("--label", "is_duplicat", "no column 'is_duplicat' (--label). Did you mean 'is_duplicate'"),
])
def test_misspelt_column_option_suggests(tmp_path: Path, model_dir: Path, command: str, option: str, value: str,
                                         message: str):
    data = write_pairs(tmp_path / "pairs.csv")
    extra = [option, value] + (["--text2", "question2"] if option == "--text1" else [])
    invoke_failing(command_args(command, data, tmp_path / "out", model_dir) + extra, tmp_path, str(data), message)


def test_predict_misspelt_text_option(tmp_path: Path, model_dir: Path):
    data = tmp_path / "in.csv"
    data.write_text("text1,text2\na,b\n")
    invoke_failing(["predict", model_dir, data, "-o", tmp_path / "o.csv", "--text1", "txet1", "--text2", "text2"],
                   tmp_path, "no column 'txet1' (--text1). Did you mean 'text1'")


# ---- train: options and data that cannot train -------------------------------------------------------------

@pytest.mark.parametrize("args, message", [
    (["--tower", "gru"], "unknown --tower 'gru'; choose one of: bert, lstm"),
    (["--loss", "contrastiv"], "unknown --loss 'contrastiv'; choose one of: contrastive, online-contrastive"),
    (["--distance", "cosin"], "unknown --distance 'cosin'; choose one of: cosine, euclidean, manhattan"),
    (["--arch", "twin"], "unknown --arch 'twin'; choose one of: siamese, pseudo"),
    (["--margin", "0"], "--margin must be greater than 0 (got 0.0)"),
    (["--margin", "-1"], "--margin must be greater than 0 (got -1.0)"),
    (["--batch-size", "0"], "--batch-size must be greater than 0 (got 0)"),
    (["--batch-size", "-4"], "--batch-size must be greater than 0 (got -4)"),
    (["--epochs", "0"], "--epochs must be greater than 0 (got 0.0)"),
    (["--epochs", "-2"], "--epochs must be greater than 0 (got -2.0)"),
    (["--save-steps", "0"], "--save-steps must be greater than 0"),
    (["--dev-fraction", "0.7"], "--dev-fraction must be between 0 and 0.5"),
])
def test_train_bad_options(tmp_path: Path, args: list[str], message: str):
    data = write_pairs(tmp_path / "pairs.csv")
    invoke_failing(["train", "--data", data, "--output", tmp_path / "m", *args], tmp_path, message)


def test_train_single_class(tmp_path: Path):
    data = tmp_path / "ones.csv"
    data.write_text("text1,text2,label\n" + "".join(f"a{i},b{i},1\n" for i in range(30)))
    invoke_failing(["train", "--data", data, "--output", tmp_path / "m"], tmp_path,
                   f"{data}: the training split has only label 1; a Siamese model needs both")


def test_train_dev_split_too_small_fails_before_training(tmp_path: Path):
    data = tmp_path / "few.csv"
    data.write_text("text1,text2,label\n" + "".join(f"a{i},b{i},{i % 2}\n" for i in range(8)))
    line = invoke_failing(["train", "--data", data, "--output", tmp_path / "m", "--epochs", "1"], tmp_path,
                          f"{data}: the dev split has", "larger --dev-fraction")
    assert "non-duplicate pair(s)" in line


def test_train_output_exists_or_not_writable(tmp_path: Path):
    data = write_pairs(tmp_path / "pairs.csv")
    (tmp_path / "m").mkdir()
    invoke_failing(["train", "--data", data, "--output", tmp_path / "m"], tmp_path, "already exists; pass --overwrite")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    invoke_failing(["train", "--data", data, "--output", blocker / "m"], tmp_path, "cannot write into", "a_file")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write into read-only folders")
def test_output_in_read_only_folder(tmp_path: Path, model_dir: Path):
    data = write_pairs(tmp_path / "pairs.csv")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        invoke_failing(["predict", model_dir, data, "-o", locked / "o.csv"], tmp_path, "cannot write into")
    finally:
        locked.chmod(0o700)


# ---- evaluate / predict: models and outputs ---------------------------------------------------------------

def damaged_copy(model_dir: Path, target: Path, *, remove: str | None = None, write: dict | None = None) -> Path:
    import shutil

    shutil.copytree(model_dir, target)
    if remove:
        (target / remove).unlink()
    for name, text in (write or {}).items():
        (target / name).write_text(text)
    return target


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize("damage, message", [
    ({"remove": "modules.json"}, "not a textsiam or SentenceTransformer model directory"),
    ({"remove": "1_LSTM/model.safetensors"}, "cannot load as a SentenceTransformer directory (files missing or "
                                             "damaged?"),
    ({"remove": "1_LSTM/lstm_config.json"}, "cannot load as a SentenceTransformer directory"),
    ({"remove": "model.safetensors"}, "cannot load as a SentenceTransformer directory"),
    ({"write": {"textsiam.json": "{not json"}}, "textsiam.json: not valid JSON"),
    ({"write": {"modules.json": "[{]"}}, "modules.json: not valid JSON"),
    ({"write": {"modules.json": '{"a": 1}'}}, "not a SentenceTransformer module list"),
])
def test_damaged_model_directory(tmp_path: Path, model_dir: Path, command: str, damage: dict, message: str):
    broken = damaged_copy(model_dir, tmp_path / "broken", **damage)
    data = write_pairs(tmp_path / "pairs.csv")
    invoke_failing(command_args(command, data, tmp_path / "out", broken), tmp_path, str(broken), message)


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_model_is_a_file_or_missing_or_foreign(tmp_path: Path, model_dir: Path, command: str):
    data = write_pairs(tmp_path / "pairs.csv")
    invoke_failing(command_args(command, data, tmp_path / "out", data), tmp_path, "expected a model directory")
    invoke_failing(command_args(command, data, tmp_path / "out", tmp_path / "nope/"), tmp_path,
                   "no such model directory")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "weights.h5").write_bytes(b"\x89HDF")
    invoke_failing(command_args(command, data, tmp_path / "out", foreign), tmp_path,
                   "not a textsiam or SentenceTransformer model directory")


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_output_exists_or_not_writable(tmp_path: Path, model_dir: Path, command: str):
    data = tmp_path / "pairs.csv"
    data.write_text("text1,text2,label\na,b,1\nc,d,0\n")
    suffix = ".json" if command == "evaluate" else ".csv"
    existing = tmp_path / f"out{suffix}"
    existing.write_text("keep me")
    invoke_failing(command_args(command, data, tmp_path / "out", model_dir), tmp_path,
                   "already exists; pass --overwrite to replace it")
    assert existing.read_text() == "keep me"
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    invoke_failing(command_args(command, data, blocker / "out", model_dir), tmp_path, "cannot write into")


def test_predict_refuses_to_write_over_its_input(tmp_path: Path, model_dir: Path):
    data = tmp_path / "in.csv"
    data.write_text("text1,text2\na,b\n")
    invoke_failing(["predict", model_dir, data, "-o", data, "--overwrite"], tmp_path, "would replace the input file")
    assert data.read_text() == "text1,text2\na,b\n"


def test_predict_bad_chunksize(tmp_path: Path, model_dir: Path):
    data = tmp_path / "in.csv"
    data.write_text("text1,text2\na,b\n")
    invoke_failing(["predict", model_dir, data, "-o", tmp_path / "o.csv", "--chunksize", "0"], tmp_path,
                   "--chunksize must be greater than 0")


# ---- inputs that work, with every row accounted for --------------------------------------------------------

def run_ok(args: list) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output and "error:" not in result.output
    return result.output


@pytest.mark.parametrize("name, content", [
    ("tab_separated.csv", b"question1\tquestion2\tis_duplicate\na, b\tc\t1\nd\te\t0\n"),
    ("comma_separated.tsv", b"question1,question2,is_duplicate\na\tb,c,1\nd,e,0\n"),
    ("with_bom.csv", b"\xef\xbb\xbfquestion1,question2,is_duplicate\na,c,1\nd,e,0\n"),
    ("leading_blank_lines.csv", b"\n\nquestion1,question2,is_duplicate\na,c,1\nd,e,0\n"),
    ("word_labels.csv", b"question1,question2,is_duplicate\na,c,Duplicate\nd,e,not_duplicate\n"),
])
def test_evaluate_reads_odd_but_valid_files(tmp_path: Path, model_dir: Path, name: str, content: bytes):
    data = tmp_path / name
    data.write_bytes(content)
    output = run_ok(["evaluate", model_dir, "--data", data])
    assert "rows read 2, used 2, rejected 0" in output
    assert '"n": 2' in output


def test_evaluate_counts_rejected_rows(tmp_path: Path, model_dir: Path):
    data = tmp_path / "p.csv"
    data.write_text("question1,question2,is_duplicate\na,b,yes\n,c,no\nd,,1\ne,f,0\ng,h,no\n")
    output = run_ok(["evaluate", model_dir, "--data", data])
    assert "skipped 2 row(s) with an empty text: rows 1, 2" in output
    assert "rows read 5, used 3, rejected 2" in output
    assert '"n": 3' in output


def test_encoding_option_reads_latin1(tmp_path: Path, model_dir: Path):
    data = tmp_path / "latin1.csv"
    data.write_bytes("text1,text2,label\ncafé,thé,1\nnaïve,b,0\n".encode("latin-1"))
    run_ok(["evaluate", model_dir, "--data", data, "--encoding", "latin-1"])
    out = tmp_path / "scored.csv"
    run_ok(["predict", model_dir, data, "-o", out, "--encoding", "latin-1"])
    assert pd.read_csv(out)["text1"].tolist() == ["café", "naïve"]


def test_ten_megabyte_text_is_truncated_with_a_warning(tmp_path: Path, model_dir: Path):
    huge = "word " * 2_000_000  # 10 MB in one field
    data = tmp_path / "huge.csv"
    pd.DataFrame({"text1": [huge, "a"], "text2": ["b", huge], "label": [1, 0]}).to_csv(data, index=False)
    out = tmp_path / "scored.csv"
    output = run_ok(["predict", model_dir, data, "-o", out, "--chunksize", "1"])
    assert f"2 text(s) longer than {MAX_TEXT_CHARS} characters were truncated" not in output  # one per chunk
    assert output.count(f"longer than {MAX_TEXT_CHARS} characters were truncated: rows") == 2
    assert "rows read 2, written 2, rejected 0" in output
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["score"].notna().all() and len(scored) == 2
    output = run_ok(["evaluate", model_dir, "--data", data])
    assert output.count(f"1 text(s) longer than {MAX_TEXT_CHARS} characters were truncated") == 2  # per column
    assert f"{data}: column 'text2': 1 text(s) longer" in output


def test_predict_keeps_rows_with_empty_texts_and_bad_labels(tmp_path: Path, model_dir: Path):
    data = tmp_path / "in.csv"
    data.write_text("text1,text2,label\n,b,maybe\nc,,2\n,,yes\n")
    out = tmp_path / "scored.csv"
    output = run_ok(["predict", model_dir, data, "-o", out])
    assert "rows read 3, written 3, rejected 3" in output
    scored = pd.read_csv(out, keep_default_na=False)
    assert scored["label"].tolist() == ["maybe", "2", "yes"]  # passed through untouched
    assert scored["reason"].tolist() == ["empty text1", "empty text2", "empty text1"]
    assert (scored["score"] == "").all()


def test_debug_shows_the_traceback(tmp_path: Path):
    result = runner.invoke(app, ["--debug", "train", "--data", tmp_path / "missing.csv", "--output", tmp_path / "m"])
    assert result.exit_code != 0
    assert isinstance(result.exception, TextsiamError)  # raised, so Python prints the traceback
    assert "no such file" in str(result.exception)


def test_debug_traceback_shows_the_underlying_error(tmp_path: Path):
    """Library code raises TextsiamError 'from None' to keep the one-line message clean; --debug shows the cause."""
    import subprocess
    import sys

    data = write_pairs(tmp_path / "pairs.csv")
    args = ["evaluate", str(tmp_path / "no-model"), "--data", str(data), "--encoding", "klingon"]
    debug = subprocess.run([sys.executable, "-m", "textsiam", "--debug", *args], capture_output=True, text=True)
    assert debug.returncode != 0
    assert "LookupError: unknown encoding: klingon" in debug.stderr  # the codec lookup that failed
    assert "TextsiamError: --encoding 'klingon': unknown text encoding" in debug.stderr
    plain = subprocess.run([sys.executable, "-m", "textsiam", *args], capture_output=True, text=True)
    assert plain.returncode == 2 and "LookupError" not in plain.stderr and "Traceback" not in plain.stderr


def test_messages_with_control_characters_stay_on_one_line(tmp_path: Path, model_dir: Path):
    data = tmp_path / "odd.csv"
    data.write_bytes(b'question1,question2\x01\x1b[31m,is_duplicate\na,b,1\n')
    line = invoke_failing(["evaluate", model_dir, "--data", data], tmp_path, "cannot tell which columns",
                          "'question2\\x01\\x1b[31m' -> 'question2'")
    assert "\x1b" not in line and "\x01" not in line


def test_header_with_a_line_break_in_a_quoted_name(tmp_path: Path, model_dir: Path):
    data = tmp_path / "odd.csv"
    data.write_bytes(b'"question1\nmore",question2,is_duplicate\na,b,1\n')
    invoke_failing(["evaluate", model_dir, "--data", data], tmp_path, "the header line has an unclosed quote")


def test_evaluate_writes_nothing_when_data_is_bad(tmp_path: Path, model_dir: Path):
    data = tmp_path / "bad.csv"
    data.write_bytes(BAD_FILES["ragged.csv"])
    invoke_failing(["evaluate", model_dir, "--data", data, "-o", tmp_path / "metrics.json"], tmp_path, "ragged")
    assert not list(tmp_path.glob("metrics*")) and not list(tmp_path.glob(".*tmp"))


def test_json_metrics_are_valid_after_success(tmp_path: Path, model_dir: Path):
    data = tmp_path / "p.csv"
    data.write_text("text1,text2,label\na,b,1\nc,d,0\n")
    run_ok(["evaluate", model_dir, "--data", data, "-o", tmp_path / "m.json"])
    assert json.loads((tmp_path / "m.json").read_text())["n"] == 2
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_disk_errors_are_one_line(tmp_path: Path, model_dir: Path, monkeypatch):
    import errno

    import textsiam.prediction

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "o.csv"))

    monkeypatch.setattr(textsiam.prediction, "predict_file", disk_full)  # the command imports it when it runs
    invoke_failing(["predict", model_dir, tmp_path / "in.csv", "-o", tmp_path / "o.csv"], tmp_path,
                   f"{tmp_path / 'o.csv'}: No space left on device")


@pytest.mark.parametrize("name", ["empty.csv", "latin1.csv", "ragged.csv", "unbalanced_quote.csv", "binary.csv"])
def test_match_shares_the_clean_reader_errors(tmp_path: Path, model_dir: Path, name: str):
    if "match" not in {command.name for command in app.registered_commands}:
        pytest.skip("textsiam match is not registered in this checkout")
    data = write_bad(tmp_path, name, "train")
    invoke_failing(["match", model_dir, "--data", data, "-o", tmp_path / "ranked.csv"], tmp_path, str(data),
                   BAD_FILE_MESSAGES[name])
