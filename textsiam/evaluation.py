"""evaluate(): score labelled pairs with a saved model at its frozen threshold; write JSON and curves."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .data import read_pairs
from .errors import TextsiamError
from .files import atomic_path, check_output
from .metrics import binary_metrics, plot_curves
from .model import SiameseModel, load

logger = logging.getLogger("textsiam")


def evaluate_pairs(model: SiameseModel, pairs: pd.DataFrame, *, threshold: float | None = None,
                   batch_size: int = 64) -> tuple[dict[str, float], np.ndarray]:
    """Metrics of ``model`` on labelled pairs at ``threshold`` (default: the model's saved one), and the scores."""
    threshold = model.threshold if threshold is None else threshold
    if threshold is None:
        raise TextsiamError("this model has no saved threshold (it was not trained by textsiam); "
                            "pass --threshold.")
    scores = model.score(pairs["text1"].tolist(), pairs["text2"].tolist(), batch_size=batch_size,
                         show_progress_bar=len(pairs) > 5000)
    return binary_metrics(scores, pairs["label"].to_numpy(), threshold), scores


def write_report(metrics: dict, scores: np.ndarray, labels: np.ndarray, directory: str | Path) -> Path:
    """``metrics.json`` and ``curves.png`` (ROC and precision-recall) in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "metrics.json").write_text(json.dumps(metrics, indent=2))
    if len(np.unique(labels)) == 2:
        plot_curves(scores, labels, directory / "curves.png",
                    title=f"ROC-AUC {metrics['roc_auc']:.3f}, F1 {metrics['f1']:.3f} (n={metrics['n']})")
    return directory


def evaluate(model: str | Path | SiameseModel, data: str | Path, *, output: str | Path | None = None,
             threshold: float | None = None, text1: str | None = None, text2: str | None = None,
             label: str | None = None, overwrite: bool = False, encoding: str = "utf-8") -> dict[str, float]:
    """Evaluate a model on every row of a labelled pair file, at its frozen threshold.

    With ``output`` (a .json path), writes the metrics there and the curves beside it (``*.png``).
    """
    if output is not None:
        check_output(output, overwrite=overwrite)
    model = model if isinstance(model, SiameseModel) else load(model)
    pairs = read_pairs(data, text1=text1, text2=text2, label=label, encoding=encoding)
    metrics, scores = evaluate_pairs(model, pairs, threshold=threshold)
    if output is not None:
        output = Path(output)
        with atomic_path(output) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
        if len(np.unique(pairs["label"])) == 2:
            plot_curves(scores, pairs["label"].to_numpy(), output.with_suffix(".png"),
                        title=f"{Path(str(data)).name}: ROC-AUC {metrics['roc_auc']:.3f}, F1 {metrics['f1']:.3f}")
    return metrics
