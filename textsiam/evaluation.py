"""evaluate(): score labelled pairs with a saved model at its frozen threshold; write metrics JSON and the report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .data import read_pairs
from .errors import check_positive
from .files import atomic_path, check_output
from .metrics import binary_metrics
from .model import SiameseModel, load
from .report import write_report

logger = logging.getLogger("textsiam")
PROGRESS_MIN_PAIRS = 5000  # a progress bar for encoding only when it takes more than a few seconds


def evaluate_pairs(model: SiameseModel, pairs: pd.DataFrame, *, threshold: float | None = None,
                   batch_size: int | None = None) -> tuple[dict[str, float], np.ndarray]:
    """Metrics of ``model`` on labelled pairs at ``threshold`` (default: the model's saved one), and the scores.

    A model with a calibration also gets the Brier score and ECE of its probabilities.
    """
    threshold = model.decision_threshold(threshold)
    scores = model.score(pairs["text1"].tolist(), pairs["text2"].tolist(), batch_size=batch_size,
                         show_progress_bar=len(pairs) > PROGRESS_MIN_PAIRS)
    labels = pairs["label"].to_numpy()
    metrics = binary_metrics(scores, labels, threshold)
    probabilities = model.probabilities(scores)
    if probabilities is not None:
        from .calibration import calibration_metrics

        metrics.update(calibration_metrics(probabilities, labels))
    return metrics, scores


def report_folder(output: str | Path) -> Path:
    """Where ``evaluate --output metrics.json`` puts its HTML report: the folder ``metrics-report`` beside it."""
    output = Path(output)
    return output.with_name(f"{output.stem}-report")


def evaluate(model: str | Path | SiameseModel, data: str | Path, *, output: str | Path | None = None,
             report: str | Path | None = None, threshold: float | None = None, text1: str | None = None,
             text2: str | None = None, label: str | None = None, overwrite: bool = False, encoding: str = "utf-8",
             batch_size: int | None = None) -> dict[str, float]:
    """Evaluate a model on every row of a labelled pair file, at its frozen threshold.

    With ``output`` (a .json path), writes the metrics there and the HTML report into the folder
    ``report_folder(output)``; ``report`` names the report folder explicitly (with or without ``output``).
    """
    check_positive("--batch-size", batch_size, optional=True)
    report = report_folder(output) if report is None and output is not None else report
    for path in (output, report):
        if path is not None:
            check_output(path, overwrite=overwrite)
    pairs = read_pairs(data, text1=text1, text2=text2, label=label, encoding=encoding)  # data errors come first
    title = f"{'model' if isinstance(model, SiameseModel) else Path(str(model)).name} on {Path(str(data)).name}"
    model = model if isinstance(model, SiameseModel) else load(model)
    metrics, scores = evaluate_pairs(model, pairs, threshold=threshold, batch_size=batch_size)
    if output is not None:
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
    if report is not None:
        scored = pairs.assign(score=scores)
        probabilities = model.probabilities(scores)
        if probabilities is not None:
            scored["probability"] = probabilities
        with atomic_path(report, directory=True) as tmp:
            write_report(tmp, scored, metrics, threshold=metrics["threshold"], model=model,
                         title=title)
    return metrics

