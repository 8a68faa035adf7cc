"""The HTML evaluation report: what it shows, that it is self-contained, and that texts are escaped."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textsiam import report
from textsiam.calibration import reliability_bins
from textsiam.report import (
    curves_figure,
    duplicate_graph,
    histogram_figure,
    project,
    reliability_figure,
    whole_clusters,
    write_report,
)

THRESHOLD = 0.5
# (text1, text2, label, score): two false positives, two false negatives, the rest right.
ROWS = [
    ("how do i learn python", "how can i learn python", 1, 0.95),
    ("how can i learn python", "best way to learn python", 1, 0.80),
    ("what is tea", "what is green tea", 1, 0.30),  # false negative, the surer one
    ("如何学习中文", "怎样学中文", 1, 0.45),  # false negative (Chinese)
    ("what is tea", "how do i learn python", 0, 0.10),
    ("Как выучить русский язык?", "Как выучить немецкий язык?", 0, 0.90),  # false positive, the surer one (Cyrillic)
    ('<script>alert("x")</script> & more', "best way to learn python", 0, 0.60),  # false positive
    ("what is green tea", "如何学习中文", 0, 0.20),
    ("buy a bike", "sell a bike", 0, 0.40),
    ("paris in spring", "paris in the spring", 1, 0.85),
]


@pytest.fixture
def pairs() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["text1", "text2", "label", "score"])
    return frame.assign(row=range(len(frame)), probability=np.clip(frame["score"] * 0.9 + 0.05, 0, 1))


@pytest.fixture(scope="module")
def tiny_model():
    """An untrained tiny LSTM: enough to encode texts for the map."""
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    texts = [t for row in ROWS for t in row[:2]]
    encoder = build_encoder("lstm", train_texts=(texts, texts), seed=0, embedding_dim=8, hidden_dim=8, max_length=16)
    return SiameseModel(encoder, {"threshold": THRESHOLD})


def metrics_of(pairs: pd.DataFrame) -> dict:
    from textsiam.metrics import binary_metrics

    return binary_metrics(pairs["score"].to_numpy(), pairs["label"].to_numpy(), THRESHOLD)


def test_report_writes_page_pngs_and_metrics(tmp_path: Path, pairs: pd.DataFrame, tiny_model):
    page = write_report(tmp_path / "report", pairs, metrics_of(pairs), threshold=THRESHOLD, model=tiny_model)
    assert page == tmp_path / "report" / "index.html"
    assert sorted(p.name for p in page.parent.iterdir()) == ["curves.png", "index.html", "map.png", "metrics.json",
                                                             "reliability.png", "scores.png"]
    saved = json.loads((page.parent / "metrics.json").read_text())
    assert saved["confusion"] == {"true_positives": 3, "false_positives": 2, "false_negatives": 2,
                                  "true_negatives": 3}
    assert saved["f1"] == pytest.approx(0.6)
    html = page.read_text(encoding="utf-8")
    assert "At threshold <b>0.5000</b>: F1 <b>0.6000</b>" in html
    assert "3 true positives" in html and "2 false negatives" in html


def test_report_is_self_contained(tmp_path: Path, pairs: pd.DataFrame, tiny_model):
    page = write_report(tmp_path, pairs, metrics_of(pairs), threshold=THRESHOLD, model=tiny_model)
    html = page.read_text(encoding="utf-8")
    sources = re.findall(r'src="([^"]*)"', html)
    assert len(sources) == 4 and all(s.startswith("data:image/png;base64,") for s in sources)
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in sources}
    assert embedded == {p.read_bytes() for p in tmp_path.glob("*.png")}
    assert "href=" not in html  # no stylesheet or script fetched from anywhere


def test_texts_are_escaped_and_any_script_shows(tmp_path: Path, pairs: pd.DataFrame):
    html = write_report(tmp_path, pairs, metrics_of(pairs), threshold=THRESHOLD).read_text(encoding="utf-8")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html
    assert "Как выучить русский язык?" in html and "怎样学中文" in html


def test_most_confident_mistakes_in_order(tmp_path: Path, pairs: pd.DataFrame):
    html = write_report(tmp_path, pairs, metrics_of(pairs), threshold=THRESHOLD).read_text(encoding="utf-8")
    positives = html[html.index("false positives (2 in all)"): html.index("false negatives (2 in all)")]
    negatives = html[html.index("false negatives (2 in all)"):]
    assert positives.index("Как выучить русский") < positives.index("&lt;script&gt;")  # 0.90 before 0.60
    assert negatives.index("what is green tea") < negatives.index("怎样学中文")  # 0.30 before 0.45
    assert "paris in spring" not in positives + negatives  # right answers are not listed


def test_long_texts_are_cut_on_the_page(tmp_path: Path, pairs: pd.DataFrame):
    pairs.loc[5, "text1"] = "long " * 1000
    html = write_report(tmp_path, pairs, metrics_of(pairs), threshold=THRESHOLD).read_text(encoding="utf-8")
    assert "long " * 60 + "long  …" not in html and ("long " * 59).strip() in html
    assert "long " * 100 not in html


def test_without_probabilities_or_model(tmp_path: Path, pairs: pd.DataFrame):
    page = write_report(tmp_path, pairs.drop(columns=["probability"]), metrics_of(pairs), threshold=THRESHOLD)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "index.html", "metrics.json", "scores.png"]
    assert "has no calibration" in page.read_text(encoding="utf-8")


def test_one_class_only_still_writes_a_page(tmp_path: Path, pairs: pd.DataFrame):
    ones = pairs[pairs["label"] == 1]
    page = write_report(tmp_path, ones, metrics_of(ones), threshold=THRESHOLD)
    assert not (tmp_path / "curves.png").exists() and (tmp_path / "scores.png").exists()
    assert "ROC-AUC</th><td class=number>–" in page.read_text(encoding="utf-8")


def test_curves_mark_the_operating_point(pairs: pd.DataFrame):
    from textsiam.metrics import confusion_counts

    scores, labels = pairs["score"].to_numpy(), pairs["label"].to_numpy()
    figure = curves_figure(scores, labels, THRESHOLD, confusion_counts(scores, labels, THRESHOLD))
    roc, pr = figure.axes
    # 3 of 5 duplicates found, 2 of 5 non-duplicates called duplicates; precision 3/5.
    assert [list(line.get_xydata()[0]) for line in roc.lines if line.get_marker() == "o"] == [[0.4, 0.6]]
    assert [list(line.get_xydata()[0]) for line in pr.lines if line.get_marker() == "o"] == [[0.6, 0.6]]


def test_histogram_draws_the_threshold(pairs: pd.DataFrame):
    axes = histogram_figure(pairs["score"].to_numpy(), pairs["label"].to_numpy(), 0.37).axes[0]
    assert list(axes.lines[-1].get_xdata()) == [0.37, 0.37]
    counts = [sum(patch.get_height() for patch in container) for container in axes.containers]
    assert counts == [5, 5]  # non-duplicates, duplicates


def test_reliability_plots_the_calibration_bins(pairs: pd.DataFrame):
    probabilities, labels = pairs["probability"].to_numpy(), pairs["label"].to_numpy()
    curve = reliability_figure(probabilities, labels).axes[0]
    filled = [row for row in reliability_bins(probabilities, labels) if row["count"]]
    assert list(curve.lines[1].get_xdata()) == pytest.approx([row["mean_probability"] for row in filled])
    assert list(curve.lines[1].get_ydata()) == pytest.approx([row["positive_rate"] for row in filled])


def test_clusters_are_connected_components_of_duplicate_pairs():
    pairs = pd.DataFrame({"text1": ["a", "b", "d", "x"], "text2": ["b", "c", "e", "a"], "label": [1, 1, 0, 0]})
    texts, clusters, edges = duplicate_graph(pairs)
    cluster_of = dict(zip(texts, clusters, strict=True))
    assert cluster_of["a"] == cluster_of["b"] == cluster_of["c"]
    assert len({cluster_of["a"], cluster_of["d"], cluster_of["e"], cluster_of["x"]}) == 4
    assert [[texts[i] for i in edge] for edge in edges] == [["a", "b"], ["b", "c"]]


def test_map_sample_keeps_whole_clusters():
    clusters = np.array([0, 0, 0, 1, 2, 2, 3, 4, 4, 4, 4, 5])
    kept = whole_clusters(clusters, 6, seed=1)
    assert len(kept) <= 6
    for cluster in np.unique(clusters[kept]):
        assert (clusters[kept] == cluster).sum() == (clusters == cluster).sum()
    assert list(whole_clusters(clusters, 100)) == list(range(12))


def test_projection_tsne_when_small_pca_when_large(monkeypatch):
    embeddings = np.random.default_rng(0).normal(size=(40, 6))
    points, method = project(embeddings)
    assert points.shape == (40, 2) and method == "t-SNE"
    monkeypatch.setattr(report, "TSNE_MAX_TEXTS", 20)
    points, method = project(embeddings)
    assert points.shape == (40, 2) and method == "PCA"


def test_collapsed_embeddings_fall_back_to_pca():
    """An untrained or collapsed model maps every text to one point: t-SNE would divide by zero (and can crash)."""
    same = np.tile([0.3, -0.2, 0.9], (40, 1))
    points, method = project(same)
    assert method == "PCA" and points.shape == (40, 2) and np.isfinite(points).all()
