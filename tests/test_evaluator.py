"""The dev evaluator the trainer runs during training: ROC-AUC (best checkpoint) and AP of the model's scores."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from textsiam.evaluator import DevPairEvaluator
from textsiam.model import SiameseModel
from textsiam.towers import build_encoder


def test_dev_metrics_are_those_of_the_models_own_scores(tiny_bert_dir):
    encoder = build_encoder("bert", model_name=str(tiny_bert_dir))
    dev = pd.DataFrame({"text1": ["how do i learn python", "how do i learn python", "what is tea", "what is tea"],
                        "text2": ["how can i learn python", "best bread recipe", "what is green tea", "python jobs"],
                        "label": [1, 0, 1, 0]})
    evaluator = DevPairEvaluator(dev)
    metrics = evaluator(encoder)
    scores = SiameseModel(encoder, {"arch": "siamese"}).score(dev["text1"].tolist(), dev["text2"].tolist())
    assert metrics["dev_roc_auc"] == pytest.approx(roc_auc_score(dev["label"], scores))
    assert metrics["dev_average_precision"] == pytest.approx(average_precision_score(dev["label"], scores))
    assert evaluator.primary_metric == "dev_roc_auc" and evaluator.greater_is_better
