"""textsiam.export: the int8 ONNX export of a transformer tower, and encoding through it."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer
from typer.testing import CliRunner

from textsiam.cli import app
from textsiam.errors import TextsiamError
from textsiam.export import INT8_FILE, OnnxTransformer, export_int8, use_int8
from textsiam.model import SiameseModel, load

from .test_matching import bag_of_words

pytest.importorskip("onnxruntime", reason="int8 export needs onnxruntime (pip install 'textsiam[int8]')")
pytest.importorskip("onnx", reason="int8 export needs onnx (pip install 'textsiam[int8]')")

runner = CliRunner()
TEXTS = ["how do i learn python", "Как выучить Python?", "如何学习 python", "what is the best way to learn java"]


@pytest.fixture
def bert_dir(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    """A copy of the tiny BERT, so the export does not write into the shared fixture."""
    return Path(shutil.copytree(tiny_bert_dir, tmp_path / "bert"))


def test_export_and_encode_through_int8_close_to_fp32(bert_dir: Path):
    path = export_int8(bert_dir)
    assert path == bert_dir / INT8_FILE and path.stat().st_size > 0
    from sentence_transformers import SentenceTransformer

    fp32 = SentenceTransformer(str(bert_dir), device="cpu").encode(TEXTS)
    model = load(bert_dir)  # every command loads through load(): it picks the export up by itself
    assert isinstance(model.encoder[0].model, OnnxTransformer)
    assert use_int8(model, bert_dir)  # a second call changes nothing
    int8 = model.encode(TEXTS)
    cosine = (fp32 * int8).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(int8, axis=1)
    assert int8.shape == fp32.shape and cosine.min() > 0.97
    assert not np.array_equal(int8, fp32)  # really computed by the quantised graph
    assert "model.onnx_digest" in "".join(model.encoder.state_dict())  # the cache fingerprint sees the file
    scores = model.score(TEXTS[:2], TEXTS[1:3])
    assert scores.shape == (2,) and np.isfinite(scores).all()


def test_exported_directory_still_loads_in_plain_sentence_transformers(bert_dir: Path):
    export_int8(bert_dir)
    assert SentenceTransformer(str(bert_dir), device="cpu").encode(TEXTS).shape[0] == len(TEXTS)


def test_no_export_means_torch(bert_dir: Path):
    model = load(bert_dir)
    assert not use_int8(model, bert_dir) and not isinstance(model.encoder[0].model, OnnxTransformer)


def test_export_refuses_a_tower_without_transformer_and_an_existing_export(bert_dir: Path, tmp_path: Path):
    bow = tmp_path / "bow"
    SiameseModel(SentenceTransformer(modules=bag_of_words(), device="cpu")).save(bow)
    with pytest.raises(TextsiamError, match="int8 export is for transformer"):
        export_int8(bow)
    export_int8(bert_dir)
    with pytest.raises(TextsiamError, match="already exists; pass --overwrite"):
        export_int8(bert_dir)


def test_cli_export(bert_dir: Path):
    result = runner.invoke(app, ["export", str(bert_dir)])
    assert result.exit_code == 2 and "--int8" in result.output
    result = runner.invoke(app, ["export", str(bert_dir), "--int8"])
    assert result.exit_code == 0, result.output
    assert (bert_dir / INT8_FILE).is_file()


def test_two_exported_models_have_different_cache_fingerprints(bert_dir: Path, tmp_path: Path):
    import torch

    from textsiam.cache import model_fingerprint

    other = load(bert_dir)
    with torch.no_grad():
        next(other.encoder.parameters()).add_(0.5)  # another model of the same architecture
    other.save(tmp_path / "other")
    fingerprints = []
    for directory in (bert_dir, tmp_path / "other"):
        export_int8(directory)
        model = load(directory)
        use_int8(model, directory)
        fingerprints.append(model_fingerprint(model.encoder))
    assert fingerprints[0] != fingerprints[1]


def test_export_again_with_overwrite(bert_dir: Path):
    """Re-exporting reads the torch weights, not the export that load() would otherwise pick up."""
    first = export_int8(bert_dir).read_bytes()
    assert export_int8(bert_dir, overwrite=True).read_bytes() == first
