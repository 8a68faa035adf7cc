"""predict_file(): score every row of a pair file, streamed in chunks, keeping every row in order."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .data import detect_columns, read_table
from .errors import TextsiamError, check_positive
from .files import atomic_path, check_output
from .model import SiameseModel, load
from .text import MAX_TEXT_CHARS, clean_texts

logger = logging.getLogger("textsiam")


def predict_file(model: str | Path | SiameseModel, input_path: str | Path, output: str | Path, *,
                 threshold: float | None = None, text1: str | None = None, text2: str | None = None,
                 chunksize: int = 20_000, batch_size: int = 64, overwrite: bool = False,
                 encoding: str = "utf-8") -> dict[str, int]:
    """Write ``output``: the input's columns plus ``score``, ``is_duplicate`` and ``reason``.

    A row that cannot be scored (an empty text) keeps its place with an empty score and a reason.
    Texts longer than MAX_TEXT_CHARS are cut, with a warning. Returns the counts of rows read, written
    and rejected.
    """
    check_positive("--chunksize", chunksize)
    check_positive("--batch-size", batch_size)
    output = check_output(output, overwrite=overwrite)
    if Path(input_path).resolve() == output.resolve():
        raise TextsiamError(f"{output}: the output would replace the input file; choose another --output.")
    model = model if isinstance(model, SiameseModel) else load(model)
    threshold = model.threshold if threshold is None else threshold
    if threshold is None:
        raise TextsiamError("this model has no saved threshold (it was not trained by textsiam); pass --threshold.")
    sep = "\t" if output.name.endswith((".tsv", ".tsv.gz")) else ","
    counts = {"read": 0, "written": 0, "rejected": 0}
    with atomic_path(output) as tmp, tqdm(desc="scoring", unit=" rows", disable=None) as progress:
        for number, chunk in enumerate(read_table(input_path, chunksize=chunksize, encoding=encoding)):
            if number == 0:
                c1, c2, _ = detect_columns(list(chunk.columns), text1, text2, source=str(input_path))
                taken = {"score", "is_duplicate", "reason"} & set(chunk.columns)
                if taken:
                    raise TextsiamError(f"{input_path}: already has column(s) {', '.join(sorted(taken))}; "
                                        "rename them so the output does not overwrite them.")
            _warn_long_texts(chunk, (c1, c2), input_path, first_row=counts["read"])
            scored = score_chunk(model, chunk, c1, c2, threshold, batch_size=batch_size)
            scored.to_csv(tmp, mode="a", header=number == 0, index=False, sep=sep)
            counts["read"] += len(chunk)
            counts["written"] += len(scored)
            counts["rejected"] += int((scored["reason"] != "").sum())
            progress.update(len(chunk))
    return counts


def _warn_long_texts(chunk: pd.DataFrame, columns: tuple[str, str], source: str | Path, *, first_row: int) -> None:
    """One warning per chunk that holds texts longer than MAX_TEXT_CHARS (they are cut, not dropped)."""
    too_long = np.zeros(len(chunk), dtype=bool)
    for column in columns:
        too_long |= (chunk[column].fillna("").astype(str).str.len() > MAX_TEXT_CHARS).to_numpy()
    if too_long.any():
        rows = (np.flatnonzero(too_long) + first_row).tolist()
        logger.warning("%s: %d text(s) longer than %d characters were truncated: rows %s%s.", source, len(rows),
                       MAX_TEXT_CHARS, ", ".join(map(str, rows[:10])), " …" if len(rows) > 10 else "")


def score_chunk(model: SiameseModel, chunk: pd.DataFrame, c1: str, c2: str, threshold: float, *,
                batch_size: int = 64) -> pd.DataFrame:
    """The chunk with ``score``, ``is_duplicate`` and ``reason`` columns; rows keep their order."""
    first, second = clean_texts(chunk[c1]), clean_texts(chunk[c2])
    reason = np.where(first == "", f"empty {c1}", np.where(second == "", f"empty {c2}", ""))
    ok = reason == ""
    scores = np.full(len(chunk), np.nan)
    if ok.any():
        scores[ok] = model.score(first[ok].tolist(), second[ok].tolist(), batch_size=batch_size)
    out = chunk.copy()
    out["score"] = pd.Series(scores, index=chunk.index).round(6)
    out["is_duplicate"] = pd.Series(np.where(ok, (scores >= threshold).astype(int), -1),
                                    index=chunk.index).astype("Int64").mask(~ok)
    out["reason"] = reason
    return out
