"""write_report(): the evaluation report people read, as one self-contained HTML page.

The page shows the metrics at the threshold, ROC and precision-recall curves with the operating point, the score
histograms of duplicates and non-duplicates, the reliability of the probabilities, the confusion matrix, the most
confident mistakes with their texts, and a 2-D map of the texts' embeddings. Its PNGs are embedded (base64), and
also written beside it with ``metrics.json`` for tools.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .metrics import confusion_counts

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .model import SiameseModel

logger = logging.getLogger("textsiam")
REPORT_PAGE = "index.html"
MISTAKES_SHOWN = 10  # most confident false positives and false negatives listed
TEXT_CHARS_SHOWN = 300
# Texts drawn on the embedding map (whole duplicate clusters, seeded, above this), and the most laid out with t-SNE
# (about 10 s for 1,000 texts on one core); PCA, quicker but blind to neighbourhoods, above it and for a handful.
MAP_MAX_TEXTS = 1000
TSNE_MAX_TEXTS = 1000
TSNE_MIN_TEXTS = 11
MAP_COLOURED_CLUSTERS = 10  # the largest duplicate clusters get their own colour
DUPLICATE_COLOUR, OTHER_COLOUR, THRESHOLD_COLOUR = "#d95f02", "#1b9e77", "#7570b3"


def write_report(directory: str | Path, pairs: pd.DataFrame, metrics: dict, *, threshold: float,
                 model: SiameseModel | None = None, title: str = "textsiam evaluation") -> Path:
    """Write ``index.html``, its PNGs and ``metrics.json`` into ``directory``; return the page's path.

    ``pairs`` has columns text1, text2, label (0/1) and score, and optionally probability (calibrated
    p(duplicate)) and row (the row number in the source file). ``model`` is needed only for the embedding map.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    scores = pairs["score"].to_numpy(dtype=np.float64)
    labels = pairs["label"].to_numpy(dtype=np.int64)
    confusion = confusion_counts(scores, labels, threshold)
    (directory / "metrics.json").write_text(json.dumps({**metrics, "confusion": confusion}, indent=2))

    figures: dict[str, tuple[Path, str]] = {}  # section -> (PNG, how to read it)
    if len(np.unique(labels)) == 2:
        figures["curves"] = (save(curves_figure(scores, labels, threshold, confusion), directory / "curves.png"),
                             "The dot is the operating point: the rates at the threshold. The dashed lines are "
                             "a random scorer.")
    figures["scores"] = (save(histogram_figure(scores, labels, threshold), directory / "scores.png"),
                         "Pairs right of the line are called duplicates. Overlap between the two colours is "
                         "where the model cannot tell them apart.")
    if "probability" in pairs:
        figures["reliability"] = (
            save(reliability_figure(pairs["probability"].to_numpy(dtype=np.float64), labels),
                 directory / "reliability.png"),
            "Each dot is a bin of pairs with similar predicted p(duplicate): on the diagonal, the predicted "
            "probability matches how often such pairs really are duplicates. Bars: pairs per bin.")
    if model is not None:
        figure = map_figure(model, pairs)
        if figure is not None:
            figures["map"] = (save(figure, directory / "map.png"),
                              "Every dot is a distinct text, placed by its embedding; a line joins the two texts "
                              "of each duplicate pair (label 1), so a pair the model embeds alike is one spot and "
                              "a long line is a pair it pulls apart. Texts linked by duplicate pairs form a "
                              "cluster; the largest clusters have their own colour.")
    page = directory / REPORT_PAGE
    page.write_text(render_page(title, pairs, metrics, threshold, confusion, figures), encoding="utf-8")
    return page


# ---- figures ------------------------------------------------------------------------------------------------

def new_figure(width: float, height: float) -> Figure:
    """A matplotlib figure that needs no pyplot (no global state, no display)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, dpi=100)
    return path


def curves_figure(scores: np.ndarray, labels: np.ndarray, threshold: float, confusion: dict[str, int]) -> Figure:
    """ROC and precision-recall curves side by side, each with the operating point at ``threshold`` marked."""
    from sklearn import metrics as skm

    fpr, tpr, _ = skm.roc_curve(labels, scores)
    precision, recall, _ = skm.precision_recall_curve(labels, scores)
    tp, fp, fn, tn = (confusion[k] for k in ("true_positives", "false_positives", "false_negatives",
                                             "true_negatives"))
    figure = new_figure(10, 4.2)
    roc, pr = figure.subplots(1, 2)
    roc.plot(fpr, tpr, label=f"ROC-AUC {skm.auc(fpr, tpr):.3f}")
    roc.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8)
    roc.plot([fp / max(fp + tn, 1)], [tp / max(tp + fn, 1)], "o", c=THRESHOLD_COLOUR, ms=9,
             label=f"threshold {threshold:.3f}")
    roc.set(xlabel="false positive rate", ylabel="true positive rate (recall)", title="ROC", xlim=(0, 1),
            ylim=(0, 1.02))
    roc.legend(loc="lower right")
    pr.plot(recall, precision, label=f"average precision {skm.average_precision_score(labels, scores):.3f}")
    pr.axhline(labels.mean(), ls="--", c="grey", lw=0.8)
    pr.plot([tp / max(tp + fn, 1)], [tp / max(tp + fp, 1)], "o", c=THRESHOLD_COLOUR, ms=9,
            label=f"threshold {threshold:.3f}")
    pr.set(xlabel="recall", ylabel="precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    pr.legend(loc="lower left")
    return figure


def histogram_figure(scores: np.ndarray, labels: np.ndarray, threshold: float) -> Figure:
    """Score histograms of duplicates and non-duplicates, with the threshold as a vertical line."""
    figure = new_figure(10, 3.8)
    axes = figure.subplots()
    low, high = float(min(scores.min(), threshold)), float(max(scores.max(), threshold))
    bins = np.linspace(low, high if high > low else low + 1, 41)
    for value, name, colour in ((0, "non-duplicates (label 0)", OTHER_COLOUR),
                                (1, "duplicates (label 1)", DUPLICATE_COLOUR)):
        axes.hist(scores[labels == value], bins=bins, alpha=0.55, color=colour,
                  label=f"{name}: {int((labels == value).sum()):,}")
    axes.axvline(threshold, c=THRESHOLD_COLOUR, lw=2, ls="--", label=f"threshold {threshold:.3f}")
    axes.set(xlabel="similarity score", ylabel="pairs", title="Scores of duplicates and non-duplicates")
    axes.legend(loc="upper left")
    return figure


def reliability_figure(probabilities: np.ndarray, labels: np.ndarray) -> Figure:
    """Reliability plot of calibrated probabilities (10 equal-width bins), with the pairs per bin below."""
    from .calibration import reliability_bins

    rows = pd.DataFrame(reliability_bins(probabilities, labels))
    filled = rows[rows["count"] > 0]
    figure = new_figure(5.5, 5.5)
    curve, counts = figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    curve.plot([0, 1], [0, 1], ls="--", c="grey", lw=0.8, label="perfect calibration")
    curve.plot(filled["mean_probability"], filled["positive_rate"], "o-", c=DUPLICATE_COLOUR, label="this model")
    curve.set(ylabel="share that are duplicates", title="Reliability of p(duplicate)", xlim=(0, 1), ylim=(0, 1))
    curve.legend(loc="upper left")
    counts.bar((rows["low"] + rows["high"]) / 2, rows["count"], width=0.9 / len(rows), color="grey")
    counts.set(xlabel="predicted p(duplicate)", ylabel="pairs")
    return figure


def duplicate_graph(pairs: pd.DataFrame) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The distinct texts of ``pairs``, each one's cluster (connected components of the duplicate pairs), and
    the duplicate pairs as rows of two text numbers."""
    from .clusters import connected_clusters
    from .neighbours import Pairs

    codes, texts = pd.factorize(pd.concat([pairs["text1"], pairs["text2"]], ignore_index=True))
    duplicate = pairs["label"].to_numpy() == 1
    edges = np.column_stack([codes[: len(pairs)][duplicate], codes[len(pairs):][duplicate]])
    clusters = connected_clusters(len(texts), Pairs(edges[:, 0], edges[:, 1], np.ones(len(edges))))
    return texts, clusters, edges


def whole_clusters(clusters: np.ndarray, limit: int, *, seed: int = 0) -> np.ndarray:
    """Indices of at most ``limit`` texts, taking whole clusters in a seeded random order (pairs stay intact)."""
    if len(clusters) <= limit:
        return np.arange(len(clusters))
    order = np.random.default_rng(seed).permutation(clusters.max() + 1)
    sizes = np.bincount(clusters)[order]
    kept = order[np.cumsum(sizes) <= limit]
    return np.flatnonzero(np.isin(clusters, kept))


def map_figure(model: SiameseModel, pairs: pd.DataFrame, *, seed: int = 0) -> Figure | None:
    """2-D map (t-SNE, PCA for very few texts) of the texts' embeddings; lines join duplicate pairs, and the largest
    duplicate clusters have their own colour.

    None when there are too few texts to draw. A pseudo-siamese model's texts all go through its text1 tower.
    """
    from matplotlib.collections import LineCollection

    texts, clusters, edges = duplicate_graph(pairs)
    if len(texts) < 4:
        return None
    shown = whole_clusters(clusters, MAP_MAX_TEXTS, seed=seed)
    logger.info("report: encoding and laying out %d texts for the map", len(shown))
    embeddings = np.asarray(model.encode([texts[i] for i in shown]), dtype=np.float64)
    points, method = project(embeddings, seed=seed)
    position = np.full(len(texts), -1)
    position[shown] = np.arange(len(shown))
    edges = position[edges]
    edges = edges[(edges >= 0).all(axis=1)]
    clusters = clusters[shown]
    sizes = pd.Series(clusters).value_counts()
    largest = sizes[sizes >= 2].head(MAP_COLOURED_CLUSTERS)
    figure = new_figure(9, 6.5)
    axes = figure.subplots()
    alone = ~np.isin(clusters, sizes[sizes >= 2].index)
    axes.scatter(*points[alone].T, s=7, c="#c8c8c8", label=f"text without a duplicate ({int(alone.sum())})")
    axes.add_collection(LineCollection(points[edges], colors="#4a7fb5", linewidths=0.8, alpha=0.7,
                                       label=f"duplicate pair ({len(edges)}): the shorter, the better"))
    axes.scatter(*points[~alone].T, s=9, c="#4a7fb5")
    for k, cluster in enumerate(largest.index):
        members = clusters == cluster
        axes.scatter(*points[members].T, s=36, c=f"C{k}", edgecolors="black", linewidths=0.5, zorder=3,
                     label="the largest duplicate clusters" if k == 0 else None)
    axes.set(title=f"{len(shown):,} texts, {method} of the embeddings", xticks=[], yticks=[])
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.02), ncol=3, fontsize="small", frameon=False)
    return figure


def project(embeddings: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, str]:
    """2-D coordinates of (L2-normalised) embeddings: t-SNE for TSNE_MIN_TEXTS to TSNE_MAX_TEXTS rows, else PCA."""
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    unit = embeddings / np.where(norms > 0, norms, 1)
    distinct = len(np.unique(np.round(unit, 5), axis=0)) if np.isfinite(unit).all() else 0
    # t-SNE on (near-)identical points divides by zero and can crash the process: a collapsed model gets PCA.
    if TSNE_MIN_TEXTS <= len(unit) <= TSNE_MAX_TEXTS and distinct >= TSNE_MIN_TEXTS:
        tsne = TSNE(n_components=2, perplexity=min(30.0, (len(unit) - 1) / 3), init="pca", max_iter=500,
                    random_state=seed)
        return tsne.fit_transform(unit), "t-SNE"
    return PCA(n_components=2, random_state=seed).fit_transform(np.nan_to_num(unit)), "PCA"


# ---- the page -----------------------------------------------------------------------------------------------

METRIC_NAMES = {
    "threshold": "threshold (score ≥ it: duplicate)", "n": "pairs", "f1": "F1", "precision": "precision",
    "recall": "recall", "accuracy": "accuracy", "roc_auc": "ROC-AUC", "average_precision": "average precision",
    "brier": "Brier score (lower is better)", "ece": "expected calibration error (lower is better)",
}
SECTION_TITLES = {"curves": "ROC and precision-recall", "scores": "Score histograms",
                  "reliability": "Reliability of the probabilities", "map": "Map of the texts"}
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC",
       "Microsoft YaHei", sans-serif; margin: 2em auto; max-width: 1050px; padding: 0 1em; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 0.6em 0; } td, th { border: 1px solid #ccc; padding: 0.3em 0.7em; }
th { background: #f3f3f3; text-align: left; } td.number { text-align: right; font-variant-numeric: tabular-nums; }
table.texts { width: 100%; table-layout: fixed; } table.texts td { vertical-align: top; overflow-wrap: anywhere; }
table.texts col.number { width: 6.5em; }
img { max-width: 100%; height: auto; } p.how { color: #555; font-size: 0.92em; max-width: 60em; }
.headline { font-size: 1.15em; }
"""


def format_value(name: str, value: object) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "–"
    if name == "n" or isinstance(value, int):
        return f"{int(value):,}"
    return f"{float(value):.4f}"


def metrics_table(metrics: dict, threshold: float) -> str:
    rows = {"threshold": threshold, **{k: v for k, v in metrics.items() if k != "threshold"}}
    cells = "".join(f"<tr><th>{html.escape(METRIC_NAMES.get(name, name))}</th>"
                    f"<td class=number>{format_value(name, value)}</td></tr>"
                    for name, value in rows.items() if isinstance(value, (int, float)))
    return f"<table>{cells}</table>"


def confusion_table(confusion: dict[str, int]) -> str:
    return (
        "<table><tr><th></th><th>called duplicate</th><th>called not duplicate</th></tr>"
        f"<tr><th>duplicate (label 1)</th><td class=number>{confusion['true_positives']:,} true positives</td>"
        f"<td class=number>{confusion['false_negatives']:,} false negatives</td></tr>"
        f"<tr><th>not duplicate (label 0)</th><td class=number>{confusion['false_positives']:,} false positives</td>"
        f"<td class=number>{confusion['true_negatives']:,} true negatives</td></tr></table>"
    )


def shown_text(text: str) -> str:
    """A text, cut for the page and HTML-escaped."""
    text = str(text)
    return html.escape(text if len(text) <= TEXT_CHARS_SHOWN else text[:TEXT_CHARS_SHOWN] + " …")


def mistakes_table(pairs: pd.DataFrame) -> str:
    """The given pairs (already sorted) as a table: row, score, probability, the two texts."""
    if pairs.empty:
        return "<p>None.</p>"
    numbers = [c for c in ("row", "score", "probability") if c in pairs]
    header = "".join("<col class=number>" for _ in numbers) + "<col><col>"
    head = "".join(f"<th>{c}</th>" for c in numbers) + "<th>text 1</th><th>text 2</th>"
    body = ""
    for _, pair in pairs.iterrows():
        cells = "".join(f"<td class=number>{int(pair[c]) if c == 'row' else f'{pair[c]:.3f}'}</td>" for c in numbers)
        body += f"<tr>{cells}<td>{shown_text(pair['text1'])}</td><td>{shown_text(pair['text2'])}</td></tr>"
    return f"<table class=texts><colgroup>{header}</colgroup><tr>{head}</tr>{body}</table>"


def embedded_png(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(path.stem)}">'


def render_page(title: str, pairs: pd.DataFrame, metrics: dict, threshold: float, confusion: dict[str, int],
                figures: dict[str, tuple[Path, str]]) -> str:
    """The HTML of the report page."""
    called = pairs["score"] >= threshold
    false_positives = pairs[called & (pairs["label"] == 0)].sort_values("score", ascending=False, kind="stable")
    false_negatives = pairs[~called & (pairs["label"] == 1)].sort_values("score", kind="stable")
    headline = (f"At threshold <b>{threshold:.4f}</b>: F1 <b>{format_value('f1', metrics.get('f1', math.nan))}"
                f"</b>, precision {format_value('precision', metrics.get('precision', math.nan))}, recall "
                f"{format_value('recall', metrics.get('recall', math.nan))} on {len(pairs):,} pairs.")
    sections = [f"<h1>{html.escape(title)}</h1><p class=headline>{headline}</p>",
                "<h2>Metrics at the threshold</h2>", metrics_table(metrics, threshold),
                "<h2>Confusion matrix</h2>", confusion_table(confusion)]
    for name in ("curves", "scores", "reliability", "map"):
        if name in figures:
            path, how = figures[name]
            sections += [f"<h2>{SECTION_TITLES[name]}</h2>", embedded_png(path), f"<p class=how>{html.escape(how)}</p>"]
        elif name == "reliability":
            sections += [f"<h2>{SECTION_TITLES[name]}</h2>",
                         "<p>This model has no calibration, so it gives scores but no probabilities.</p>"]
    sections += [
        f"<h2>Most confident false positives ({len(false_positives):,} in all)</h2>",
        "<p class=how>Not duplicates (label 0), yet scored highest above the threshold.</p>",
        mistakes_table(false_positives.head(MISTAKES_SHOWN)),
        f"<h2>Most confident false negatives ({len(false_negatives):,} in all)</h2>",
        "<p class=how>Duplicates (label 1), yet scored lowest below the threshold.</p>",
        mistakes_table(false_negatives.head(MISTAKES_SHOWN)),
    ]
    return (f"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><style>{STYLE}</style></head>"
            f"<body>\n" + "\n".join(sections) + "\n</body></html>\n")
