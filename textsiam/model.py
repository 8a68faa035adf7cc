"""SiameseModel: a SentenceTransformer plus textsiam's metadata (tower, loss, threshold, split, metrics)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from . import runtime
from .choices import ENCODE_BATCH_SIZES
from .errors import TextsiamError

logger = logging.getLogger("textsiam")

METADATA_FILE = "textsiam.json"
BATCH_SIZES = ENCODE_BATCH_SIZES  # texts per encoding batch by kind of tower (see choices.py)
# Route names of pseudo-siamese models: text1 goes through one tower, text2 through the other.
SIDES = ("text1", "text2")


class SiameseModel:
    """A trained pair scorer. ``encoder`` is a plain SentenceTransformer; ``metadata`` is textsiam.json."""

    def __init__(self, encoder, metadata: dict[str, Any] | None = None) -> None:
        self.encoder = encoder
        self.metadata: dict[str, Any] = dict(metadata or {})

    @property
    def threshold(self) -> float | None:
        """The decision threshold chosen on the dev split, or None for a model textsiam did not train."""
        value = self.metadata.get("threshold")
        return None if value is None else float(value)

    @property
    def calibration(self) -> dict | None:
        """w and b of p(duplicate) = sigmoid(-w·d + b), fitted on dev after training; None if never fitted."""
        return self.metadata.get("calibration")

    def probabilities(self, scores: np.ndarray) -> np.ndarray | None:
        """Calibrated p(duplicate) of similarity scores, or None for a model without a calibration."""
        from .calibration import probabilities

        return None if self.calibration is None else probabilities(scores, self.calibration)

    @property
    def is_pseudo(self) -> bool:
        return self.metadata.get("arch") == "pseudo"

    @property
    def batch_size(self) -> int:
        """Texts per encoding batch that measures fastest for this tower (``BATCH_SIZES``)."""
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding, Transformer

        first = self.encoder[0]
        kind = ("static" if isinstance(first, StaticEmbedding) else "attention" if isinstance(first, Transformer)
                else "other")
        return BATCH_SIZES[kind]

    def encode(self, texts: Sequence[str], *, side: str = "text1", batch_size: int | None = None,
               show_progress_bar: bool = False) -> np.ndarray:
        """Embed texts (float32, one row each); ``side`` picks the tower of a pseudo-siamese model.

        The one encoding path of every command (train's evaluation, evaluate, predict, dedup, match).
        sentence-transformers encodes in batches of texts of similar length; the thread count is
        ``textsiam.runtime``'s (one thread unless configured: see its docstring for the measurements).
        """
        runtime.ensure_configured()
        kwargs: dict[str, Any] = {"task": side} if self.is_pseudo else {}
        if runtime.device() != "cpu":
            kwargs["device"] = runtime.device()
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.encoder.encode(texts, batch_size=batch_size or self.batch_size, convert_to_numpy=True,
                                   show_progress_bar=show_progress_bar, **kwargs)

    @property
    def dimension(self) -> int:
        """Length of one embedding."""
        dim = self.encoder.get_embedding_dimension()
        return int(dim) if dim else int(self.encode(["a"]).shape[1])

    def similarity(self, embeddings1: np.ndarray, embeddings2: np.ndarray) -> np.ndarray:
        """Row-wise similarity of two embedding arrays with the model's own similarity function."""
        scores = self.encoder.similarity_pairwise(torch.as_tensor(embeddings1), torch.as_tensor(embeddings2))
        return scores.cpu().numpy().astype(np.float64)

    def encode_distinct(self, texts: Sequence[str], *, side: str = "text1", batch_size: int | None = None,
                        show_progress_bar: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings of the distinct texts, each encoded once, and for every input text its row among them."""
        codes, distinct = pd.factorize(pd.Series(list(texts), dtype=object))
        embeddings = self.encode(list(distinct), side=side, batch_size=batch_size,
                                 show_progress_bar=show_progress_bar)
        return embeddings, codes

    def score(self, text1: Sequence[str], text2: Sequence[str], *, batch_size: int | None = None,
              show_progress_bar: bool = False) -> np.ndarray:
        """Similarity of each (text1[i], text2[i]); higher means more alike. Each distinct text is encoded once."""
        if len(text1) != len(text2):
            raise ValueError(f"text1 and text2 differ in length ({len(text1)} vs {len(text2)})")
        if len(text1) == 0:
            return np.zeros(0)
        options = {"batch_size": batch_size, "show_progress_bar": show_progress_bar}
        if self.is_pseudo:  # each side through its own tower
            e1, c1 = self.encode_distinct(text1, side="text1", **options)
            e2, c2 = self.encode_distinct(text2, side="text2", **options)
            return self.similarity(e1[c1], e2[c2])
        embeddings, codes = self.encode_distinct([*text1, *text2], **options)
        return self.similarity(embeddings[codes[: len(text1)]], embeddings[codes[len(text1):]])

    def decision_threshold(self, override: float | None = None) -> float:
        """``override`` if given, else the saved threshold; a model without one (not trained by textsiam) is refused."""
        if override is not None:
            return float(override)
        if self.threshold is None:
            raise TextsiamError("this model has no saved threshold (it was not trained by textsiam); "
                                "pass --threshold.")
        return self.threshold

    def predict(self, text1: Sequence[str], text2: Sequence[str], *, threshold: float | None = None,
                **kwargs) -> np.ndarray:
        """1 where the score reaches the threshold (the saved one unless given), else 0."""
        cut = self.decision_threshold(threshold)
        return (self.score(text1, text2, **kwargs) >= cut).astype(np.int64)

    def save(self, path: str | Path) -> None:
        """Write the SentenceTransformer directory and textsiam.json beside it (safetensors weights)."""
        path = Path(path)
        self.encoder.save(str(path), safe_serialization=True)
        (path / METADATA_FILE).write_text(json.dumps(self.metadata, indent=2, default=_to_json))


def _to_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def load(path_or_name: str | Path, *, device: str | None = None, int8: bool = True) -> SiameseModel:
    """Load a textsiam model directory, or any SentenceTransformer directory or Hub name (no threshold).

    Names resolve and weights load by the one rule of ``textsiam.hub``: safetensors only, no code from the
    directory is ever run, and the offline MiniLM package stands in for MiniLM's Hub names. The directory's int8
    export (``textsiam export --int8``) is used when present, unless ``int8=False``.
    """
    from .hub import load_sentence_transformer, read_json, resolve_model

    resolved = resolve_model(path_or_name)
    encoder = load_sentence_transformer(resolved, device=device)
    metadata_file = Path(resolved) / METADATA_FILE
    metadata: dict[str, Any] = read_json(metadata_file) if metadata_file.is_file() else {}
    model = SiameseModel(encoder, metadata)
    runtime.fit_to_tower(metadata.get("tower"))
    from .export import use_int8

    if int8:
        use_int8(model, metadata_file.parent)
    return model
