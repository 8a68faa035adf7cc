"""The dev evaluator the trainer runs: ROC-AUC (primary, picks the best checkpoint) and average precision."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sentence_transformers.base.evaluation.evaluator import BaseEvaluator
from sklearn.metrics import average_precision_score, roc_auc_score


class DevPairEvaluator(BaseEvaluator):
    """Scores the labelled dev pairs with the model's own similarity; one clear metric, ``dev_roc_auc``."""

    def __init__(self, pairs: pd.DataFrame, *, pseudo: bool = False, batch_size: int = 128, name: str = "dev"):
        super().__init__()
        self.text1, self.text2 = pairs["text1"].tolist(), pairs["text2"].tolist()
        self.labels = pairs["label"].to_numpy()
        self.pseudo = pseudo
        self.batch_size = batch_size
        self.name = name
        self.primary_metric = "roc_auc"

    def __call__(self, model, output_path: str | None = None, epoch: int = -1, steps: int = -1) -> dict[str, float]:
        from .model import SiameseModel

        scorer = SiameseModel(model, {"arch": "pseudo" if self.pseudo else "siamese"})
        scores = np.nan_to_num(scorer.score(self.text1, self.text2, batch_size=self.batch_size), nan=-1e9)
        metrics = {"roc_auc": float(roc_auc_score(self.labels, scores)),
                   "average_precision": float(average_precision_score(self.labels, scores))}
        metrics = self.prefix_name_to_metrics(metrics, self.name)
        self.store_metrics_in_model_card_data(model, metrics, epoch, steps)
        return metrics
