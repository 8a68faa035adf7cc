"""An on-disk embedding cache, one folder per model, so a text is never encoded twice.

Layout: ``CACHE_DIR/<model fingerprint>/shard-*.npz``. Each shard holds ``keys`` (a 64-bit hash of the
exact text encoded) and ``embeddings`` (float32). Shards are written atomically as soon as they are encoded, so
an interrupted run keeps every finished shard and the next run resumes from there.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import uuid
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from .errors import TextsiamError

SHARD_SIZE = 8192  # texts per cache shard: the most an interrupted run can lose
ENCODE_CALL = 1024  # texts per encode() call: one progress-bar step


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/textsiam/embeddings``, or ``~/.cache/textsiam/embeddings``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "textsiam" / "embeddings"


def model_fingerprint(encoder: torch.nn.Module, *, side: str = "text1") -> str:
    """A hash of the encoder's architecture, settings and every weight: equal only for the same model."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(repr(encoder).encode())
    digest.update(side.encode())
    for name, tensor in encoder.state_dict().items():
        digest.update(name.encode())
        data = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(str(data.dtype).encode())
        digest.update(data.view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    return digest.hexdigest()


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """A 64-bit hash of each text (collisions are negligible below billions of texts)."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little") for t in texts),
        dtype=np.uint64, count=len(texts),
    )


class EmbeddingCache:
    """The shards of one model's cache folder: look up embeddings by text key, append new ones."""

    def __init__(self, root: str | Path, fingerprint: str) -> None:
        self.folder = Path(root) / fingerprint
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise TextsiamError(f"{self.folder}: cannot create the embedding cache ({exc.strerror}); "
                                "pass --cache-dir to a writable folder, or --no-cache.") from None

    def shards(self) -> list[Path]:
        return sorted(self.folder.glob("shard-*.npz"))

    def lookup(self, keys: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Fill ``out[i]`` for every ``keys[i]`` in the cache; return the boolean mask of those found."""
        found = np.zeros(len(keys), dtype=bool)
        wanted = pd.Index(keys)
        for shard in self.shards():
            try:
                with open(shard, "rb") as fh, np.load(fh) as data:
                    shard_keys = data["keys"]
                    position = wanted.get_indexer(shard_keys)  # -1 where the cached text is not wanted
                    hit = position >= 0
                    if hit.any() and data["embeddings"].shape[1] == out.shape[1]:
                        out[position[hit]] = data["embeddings"][hit]
                        found[position[hit]] = True
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
                shard.unlink(missing_ok=True)  # a damaged shard is only a cache miss; encode those again
        return found

    def add(self, keys: np.ndarray, embeddings: np.ndarray) -> None:
        """Write one shard atomically (temporary file, then rename)."""
        target = self.folder / f"shard-{uuid.uuid4().hex}.npz"
        handle, tmp = tempfile.mkstemp(prefix=".shard-", suffix=".npz.tmp", dir=self.folder)
        try:
            with os.fdopen(handle, "wb") as fh:
                np.savez(fh, keys=keys.astype(np.uint64), embeddings=embeddings.astype(np.float32))
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)


def embed_texts(model, texts: Sequence[str], *, cache: EmbeddingCache | None = None,
                batch_size: int | None = None, shard_size: int = SHARD_SIZE,
                progress: bool | None = None) -> tuple[np.ndarray, int]:
    """Embeddings of ``texts`` (float32, one row each), encoding only those not in ``cache``.

    ``texts`` are encoded exactly as given, and cached under a hash of exactly that text. Returns the
    embeddings and the number of texts encoded in this call. New embeddings are written to the cache one
    shard of ``shard_size`` texts at a time, so an interrupted run resumes where it stopped.
    """
    dim = _dimension(model)
    embeddings = np.zeros((len(texts), dim), dtype=np.float32)
    keys = text_keys(texts) if cache is not None else None
    found = cache.lookup(keys, embeddings) if cache is not None else np.zeros(len(texts), dtype=bool)
    missing = np.flatnonzero(~found)
    # Encode longest-first within each shard, so batches hold texts of similar length (less padding).
    with tqdm(total=len(missing), desc="encode", unit="text", disable=_disable(progress)) as bar:
        for start in range(0, len(missing), shard_size):
            shard = missing[start:start + shard_size]
            shard = shard[np.argsort([-len(texts[i]) for i in shard], kind="stable")]
            for call in range(0, len(shard), ENCODE_CALL):
                rows = shard[call:call + ENCODE_CALL]
                embeddings[rows] = model.encode([texts[i] for i in rows], batch_size=batch_size)
                bar.update(len(rows))
            if cache is not None:
                cache.add(keys[shard], embeddings[shard])
    return embeddings, len(missing)


def _dimension(model) -> int:
    dim = model.encoder.get_embedding_dimension()
    return int(dim) if dim else int(np.asarray(model.encode(["a"])).shape[1])


def _disable(progress: bool | None) -> bool | None:
    """tqdm's ``disable``: None lets tqdm hide the bar when stderr is not a terminal."""
    return None if progress is None else not progress
