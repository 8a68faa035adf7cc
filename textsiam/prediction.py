"""predict_file(): score every row of a pair file, streamed in chunks, keeping every row in order.

Output columns. textsiam adds ``score``, ``probability`` (only for a model with a calibration),
``is_duplicate`` and ``reason`` after the input's own columns. When the input already has a column of one
of these names (a labelled file has ``is_duplicate``), the user's columns stay as they are and all of
textsiam's columns are written with the prefix ``textsiam_`` (``textsiam_score``, ``textsiam_is_duplicate``,
...). ``result_columns`` is that one rule; ``textsiam match`` uses it too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .data import detect_columns, read_table
from .errors import TextsiamError, check_positive
from .files import atomic_path, check_output, output_separator
from .model import SiameseModel, load
from .text import MAX_TEXT_CHARS, clean_text

logger = logging.getLogger("textsiam")

PREDICT_COLUMNS = ("score", "probability", "is_duplicate", "reason")
CLASH_PREFIX = "textsiam_"


def result_columns(existing: Sequence[str], names: Sequence[str], *, source: str = "the file") -> dict[str, str]:
    """The name under which each of textsiam's ``names`` is written next to the ``existing`` columns.

    ``names`` as they are, or, when the input already has any of them, every one prefixed with
    ``textsiam_``, so the user's columns are kept and textsiam's stay together under one rule.
    """
    if not set(names) & set(existing):
        return {name: name for name in names}
    prefixed = {name: CLASH_PREFIX + name for name in names}
    clash = sorted(set(prefixed.values()) & set(existing))
    if clash:
        raise TextsiamError(f"{source}: already has column(s) {', '.join(clash)} as well as "
                            f"{', '.join(sorted(set(names) & set(existing)))}; rename one of them so the output "
                            "does not overwrite it.")
    logger.info("%s already has column(s) %s: textsiam's columns are written as %s.", source,
                ", ".join(sorted(set(names) & set(existing))), ", ".join(prefixed.values()))
    return prefixed


def predict_columns(model: SiameseModel) -> tuple[str, ...]:
    """textsiam's output columns for ``model``: ``probability`` only when the model has a calibration."""
    return tuple(name for name in PREDICT_COLUMNS if name != "probability" or model.calibration is not None)


def predict_file(model: str | Path | SiameseModel, input_path: str | Path, output: str | Path, *,
                 threshold: float | None = None, text1: str | None = None, text2: str | None = None,
                 chunksize: int = 20_000, batch_size: int | None = None, overwrite: bool = False,
                 encoding: str = "utf-8") -> dict[str, float]:
    """Write ``output``: the input's columns plus ``score``, ``probability``, ``is_duplicate`` and ``reason``.

    The file is read, scored and written ``chunksize`` rows at a time (bounded memory); in each chunk every
    distinct text is encoded once. A row that cannot be scored (an empty text) keeps its place with an
    empty score and a reason. Texts longer than MAX_TEXT_CHARS are cut, with a warning. ``probability``
    is written only for a model with a calibration (``SiameseModel.probabilities``). See the module
    docstring for the column names when the input already has such columns. Returns the rows read,
    written and rejected, the seconds spent scoring and ``rows_per_second``.
    """
    check_positive("--chunksize", chunksize)
    check_positive("--batch-size", batch_size, optional=True)
    output = check_output(output, overwrite=overwrite)
    if Path(input_path).resolve() == output.resolve():
        raise TextsiamError(f"{output}: the output would replace the input file; choose another --output.")
    model = model if isinstance(model, SiameseModel) else load(model)
    threshold = model.decision_threshold(threshold)
    wanted = predict_columns(model)
    if model.calibration is None:
        logger.info("this model has no calibration (trained by an older textsiam, or not by textsiam): "
                    "no probability column.")
    sep = output_separator(output)
    counts = {"read": 0, "written": 0, "rejected": 0}
    started = time.perf_counter()
    with atomic_path(output) as tmp, tqdm(desc="scoring", unit=" rows", disable=None) as progress:
        for number, chunk in enumerate(read_table(input_path, chunksize=chunksize, encoding=encoding)):
            if number == 0:
                c1, c2, _ = detect_columns(list(chunk.columns), text1, text2, source=str(input_path))
                columns = result_columns(list(chunk.columns), wanted, source=str(input_path))
            _warn_long_texts(chunk, (c1, c2), input_path, first_row=counts["read"])
            scored = score_chunk(model, chunk, c1, c2, threshold, batch_size=batch_size, columns=columns)
            scored.to_csv(tmp, mode="a", header=number == 0, index=False, sep=sep)
            counts["read"] += len(chunk)
            counts["written"] += len(scored)
            counts["rejected"] += int((scored[columns["reason"]] != "").sum())
            progress.update(len(chunk))
    seconds = time.perf_counter() - started
    return {**counts, "seconds": round(seconds, 3), "rows_per_second": round(counts["read"] / max(seconds, 1e-9), 1)}


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
                batch_size: int | None = None, columns: dict[str, str] | None = None) -> pd.DataFrame:
    """The chunk with textsiam's columns added (names from ``columns``, see ``result_columns``); rows keep order."""
    columns = columns or {name: name for name in predict_columns(model)}
    first, second = chunk[c1].map(clean_text), chunk[c2].map(clean_text)  # _warn_long_texts has warned
    reason = np.where(first == "", f"empty {c1}", np.where(second == "", f"empty {c2}", ""))
    ok = reason == ""
    scores = np.full(len(chunk), np.nan)
    if ok.any():
        scores[ok] = model.score(first[ok].tolist(), second[ok].tolist(), batch_size=batch_size)
    out = chunk.copy()
    out[columns["score"]] = pd.Series(scores, index=chunk.index).round(6)
    if "probability" in columns:
        probabilities = np.full(len(chunk), np.nan)
        if ok.any():
            probabilities[ok] = model.probabilities(scores[ok])
        out[columns["probability"]] = pd.Series(probabilities, index=chunk.index).round(6)
    out[columns["is_duplicate"]] = pd.Series(np.where(ok, (scores >= threshold).astype(int), -1),
                                             index=chunk.index).astype("Int64").mask(~ok)
    out[columns["reason"]] = reason
    return out
