"""Loading a model directory never runs code from it: pickles are refused before anything unpickles them,
modules.json may only name sentence-transformers classes, and trust_remote_code is never set."""

from __future__ import annotations

import builtins
import json
import pickle
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import textsiam
from textsiam.cli import app
from textsiam.errors import TextsiamError

PACKAGE = Path(textsiam.__file__).resolve().parent
runner = CliRunner()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    directory = tmp_path_factory.mktemp("safe") / "model"
    encoder = build_encoder("lstm", train_texts=(["a b c"], ["d e f"]), seed=0, embedding_dim=8, hidden_dim=8)
    SiameseModel(encoder, {"threshold": 0.5, "tower": "lstm", "arch": "siamese"}).save(directory)
    return directory


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "pairs.csv"
    path.write_text("text1,text2,label\na b,c,1\nd,e f,0\n")
    return path


class _WritesMarker:
    """Unpickling this creates ``marker``: proof that a pickle was loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return builtins.open, (str(self.marker), "w")


def refused(args: list, *expected: str) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    for text in expected:
        assert text in errors[0], errors[0]
    return errors[0]


@pytest.mark.parametrize("name", ["pytorch_model.bin", "1_LSTM/pytorch_model.bin", "weights.pt", "state.pkl"])
def test_pickled_weights_are_refused_unopened(model_dir: Path, data: Path, tmp_path: Path, name: str):
    copy = tmp_path / "pickled"
    shutil.copytree(model_dir, copy)
    marker = tmp_path / "unpickled.marker"
    (copy / name).write_bytes(pickle.dumps(_WritesMarker(marker)))
    refused(["evaluate", copy, "--data", data], str(copy), "holds pickled weights", "loads only safetensors")
    refused(["predict", copy, data, "-o", tmp_path / "o.csv"], "holds pickled weights")
    assert not marker.exists()
    assert not (tmp_path / "o.csv").exists()


def test_foreign_module_class_is_never_imported(model_dir: Path, data: Path, tmp_path: Path, monkeypatch):
    evil = tmp_path / "evil_model"
    shutil.copytree(model_dir, evil)
    marker = tmp_path / "evil_ran.marker"
    (evil / "evil_module.py").write_text(f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
                                         "class Evil:\n    pass\n")
    modules = json.loads((evil / "modules.json").read_text())
    modules[1]["type"] = "evil_module.Evil"
    (evil / "modules.json").write_text(json.dumps(modules))
    # Make the module importable from everywhere, so only textsiam's refusal stands between it and running.
    monkeypatch.syspath_prepend(str(evil))
    monkeypatch.chdir(evil)
    line = refused(["evaluate", evil, "--data", data], "modules.json", "'evil_module.Evil'",
                   "textsiam never imports code from a model directory")
    assert "\n" not in line
    with pytest.raises(TextsiamError, match="not part of sentence-transformers"):
        textsiam.load(evil)
    assert not marker.exists()
    import sys

    assert "evil_module" not in sys.modules


def test_custom_code_in_config_is_refused(model_dir: Path, data: Path, tmp_path: Path):
    copy = tmp_path / "auto_map"
    shutil.copytree(model_dir, copy)
    (copy / "config.json").write_text(json.dumps({"auto_map": {"AutoModel": "modeling_evil.EvilModel"}}))
    refused(["evaluate", copy, "--data", data], "needs custom code (auto_map)")


def test_module_path_outside_the_directory_is_refused(model_dir: Path, data: Path, tmp_path: Path):
    copy = tmp_path / "escape"
    shutil.copytree(model_dir, copy)
    modules = json.loads((copy / "modules.json").read_text())
    modules[1]["path"] = "../../elsewhere"
    (copy / "modules.json").write_text(json.dumps(modules))
    refused(["evaluate", copy, "--data", data], "points outside the model directory")


def test_load_never_passes_trust_remote_code(model_dir: Path, monkeypatch):
    import sentence_transformers

    seen: list[dict] = []
    original = sentence_transformers.SentenceTransformer.__init__

    def spy(self, *args, **kwargs):
        seen.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(sentence_transformers.SentenceTransformer, "__init__", spy)
    textsiam.load(model_dir)
    assert seen and all(kwargs.get("trust_remote_code") is False for kwargs in seen)
    assert all(kwargs.get("model_kwargs", {}).get("use_safetensors") is True for kwargs in seen)


def test_package_source_never_enables_remote_code_or_unsafe_torch_load():
    for path in PACKAGE.rglob("*.py"):
        source = path.read_text()
        assert not re.search(r"trust_remote_code\s*[=:]\s*(True|1|trust)", source), path
        assert '"trust_remote_code": True' not in source, path
        for call in re.findall(r"torch\.load\([^)]*\)", source):
            assert "weights_only=True" in call, (path, call)
        assert "pickle.load" not in source, path


def test_plain_sentence_transformer_needs_a_threshold(model_dir: Path, data: Path, tmp_path: Path):
    plain = tmp_path / "plain"
    shutil.copytree(model_dir, plain)
    (plain / "textsiam.json").unlink()
    refused(["evaluate", plain, "--data", data], "no saved threshold", "pass --threshold")
    result = runner.invoke(app, ["evaluate", str(plain), "--data", str(data), "--threshold", "0.3"])
    assert result.exit_code == 0, result.output
    assert '"threshold": 0.3' in result.output
