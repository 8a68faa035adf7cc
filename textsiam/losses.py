"""Loss name → a sentence-transformers loss, and the training rows that loss expects.

Every loss here is sentence-transformers' own; textsiam only turns labelled pairs into the rows each
loss needs (pairs, triplets, labelled single texts or positive pairs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from datasets import Dataset
from sentence_transformers.sentence_transformer import losses
from sentence_transformers.sentence_transformer.losses.contrastive import SiameseDistanceMetric
from sentence_transformers.sentence_transformer.losses.triplet import TripletDistanceMetric

from .bce_loss import pair_distance
from .choices import DEFAULT_MARGINS, DISTANCES, GRADED_LOSSES, LOSSES
from .errors import TextsiamError, check_choice, check_positive
from .text import group_key

MAX_NEGATIVE_DRAWS = 20  # random draws for a negative outside the anchor's duplicate cluster before giving up


def euclidean_distance(x, y):
    """Row-wise L2 distance, exactly symmetric (``bce_loss.pair_distance``)."""
    return pair_distance(x, y, "euclidean")


def manhattan_distance(x, y):
    """Row-wise L1 distance, exactly symmetric (``bce_loss.pair_distance``)."""
    return pair_distance(x, y, "manhattan")


# sentence-transformers' EUCLIDEAN / MANHATTAN add eps=1e-6 to every difference (F.pairwise_distance), so d(a, b)
# and d(b, a) differ by up to 1e-6 per dimension; the bce head's pair_distance has no eps, is symmetric, and its
# gradient at d = 0 (identical texts) is 0, not NaN.
_SIAMESE_DISTANCE = {"cosine": SiameseDistanceMetric.COSINE_DISTANCE,
                     "euclidean": euclidean_distance,
                     "manhattan": manhattan_distance}
_TRIPLET_DISTANCE = {"cosine": TripletDistanceMetric.COSINE,
                     "euclidean": TripletDistanceMetric.EUCLIDEAN,
                     "manhattan": TripletDistanceMetric.MANHATTAN}
# The tower (route) each training column goes through in a pseudo-siamese model.
ROUTES = {"text1": "text1", "text2": "text2", "anchor": "text1", "positive": "text2", "negative": "text2",
          "text": "text1"}


@dataclass(frozen=True)
class LossSpec:
    """What the user chose: a loss name, a distance and a margin (None = the distance's default)."""

    name: str = "online-contrastive"
    distance: str = "cosine"
    margin: float | None = None

    def __post_init__(self) -> None:
        check_choice("--loss", self.name, LOSSES)
        check_choice("--distance", self.distance, DISTANCES)
        if self.margin is not None:
            check_positive("--margin", self.margin)

    @property
    def effective_margin(self) -> float:
        return self.margin if self.margin is not None else DEFAULT_MARGINS[self.distance]

    @property
    def row_format(self) -> str:
        return {"triplet": "triplets", "batch-hard-triplet": "labelled_texts",
                "in-batch-negatives": "positives"}.get(self.name, "pairs")

    @property
    def similarity(self) -> str:
        """The similarity the trained embeddings are meant to be compared with (saved in the model)."""
        if self.name in (*GRADED_LOSSES, "in-batch-negatives"):
            return "cosine"
        return self.distance  # contrastive, triplet and bce losses train the distance the model then compares


def build_loss(spec: LossSpec, model):
    """The sentence-transformers loss object for ``spec``."""
    margin = spec.effective_margin
    if spec.name == "contrastive":
        return losses.ContrastiveLoss(model, distance_metric=_SIAMESE_DISTANCE[spec.distance], margin=margin)
    if spec.name == "online-contrastive":
        return losses.OnlineContrastiveLoss(model, distance_metric=_SIAMESE_DISTANCE[spec.distance],
                                            margin=margin)
    if spec.name == "triplet":
        return losses.TripletLoss(model, distance_metric=_TRIPLET_DISTANCE[spec.distance], triplet_margin=margin)
    if spec.name == "batch-hard-triplet":
        distance = {"cosine": losses.BatchHardTripletLossDistanceFunction.cosine_distance,
                    "euclidean": losses.BatchHardTripletLossDistanceFunction.eucledian_distance,
                    "manhattan": _manhattan_matrix}[spec.distance]
        return losses.BatchHardTripletLoss(model, distance_metric=distance, margin=margin)
    if spec.name == "cosine":
        return losses.CosineSimilarityLoss(model)
    if spec.name == "cosent":
        return losses.CoSENTLoss(model)
    if spec.name == "bce":
        from .bce_loss import SiameseBCELoss

        return SiameseBCELoss(model, distance=spec.distance)
    return losses.MultipleNegativesRankingLoss(model)


def _manhattan_matrix(embeddings):
    import torch

    return torch.cdist(embeddings, embeddings, p=1)


def training_rows(pairs: pd.DataFrame, spec: LossSpec, *, seed: int = 42, symmetric: bool = True) -> Dataset:
    """Turn labelled pairs (``text1, text2, label``) into the rows ``spec``'s loss trains on.

    ``symmetric=False`` (pseudo-siamese) keeps text1 as the anchor of every triplet, so each text goes
    through the tower of its own side.
    """
    fmt = spec.row_format
    if fmt == "pairs":
        label = pairs["label"].astype(np.float32 if spec.name in GRADED_LOSSES else np.int64)
        return Dataset.from_dict({"text1": pairs["text1"].tolist(), "text2": pairs["text2"].tolist(),
                                  "label": label.tolist()})
    if fmt == "triplets":
        return Dataset.from_pandas(build_triplets(pairs, seed=seed, symmetric=symmetric), preserve_index=False)
    if fmt == "positives":
        if (pairs["label"] == 0).any():  # labelled non-duplicates serve as hard negatives
            return Dataset.from_pandas(build_triplets(pairs, seed=seed, symmetric=symmetric), preserve_index=False)
        positives = pairs[pairs["label"] == 1] if (pairs["label"] >= 0).any() else pairs
        if positives.empty:
            raise TextsiamError("--loss in-batch-negatives needs pairs labelled 1 (duplicates); there are none.")
        return Dataset.from_dict({"anchor": positives["text1"].tolist(), "positive": positives["text2"].tolist()})
    return Dataset.from_pandas(duplicate_clusters(pairs), preserve_index=False)


def cluster_of_texts(pairs: pd.DataFrame) -> dict[str, int]:
    """Duplicate cluster of every text (by ``group_key``): texts chained by pairs labelled 1 share a cluster."""
    from .splits import pair_groups

    keys = pd.unique(pd.concat([pairs["text1"], pairs["text2"]]).map(group_key))
    cluster = {key: i for i, key in enumerate(keys)}
    positives = pairs[pairs["label"] == 1]
    if not positives.empty:
        offset = len(cluster)
        for a, b, group in zip(positives["text1"], positives["text2"], pair_groups(positives), strict=True):
            cluster[group_key(a)] = cluster[group_key(b)] = offset + int(group)
    return cluster


def build_triplets(pairs: pd.DataFrame, *, seed: int = 42, symmetric: bool = True) -> pd.DataFrame:
    """(anchor, positive, negative) from labelled pairs: a duplicate and a non-duplicate of each anchor.

    Both sides of a duplicate pair serve as anchor (only text1 unless ``symmetric``). The negative is a text
    labelled non-duplicate of the anchor where the file has one, otherwise a random text from outside the
    anchor's duplicate cluster; an anchor for which ``MAX_NEGATIVE_DRAWS`` draws find none is left out.
    """
    rng = np.random.default_rng(seed)
    negatives: dict[str, list[str]] = {}
    for a, b in pairs.loc[pairs["label"] == 0, ["text1", "text2"]].itertuples(index=False):
        negatives.setdefault(a, []).append(b)
        negatives.setdefault(b, []).append(a)
    positives = pairs[pairs["label"] == 1]
    if positives.empty:
        raise TextsiamError("this loss needs pairs labelled 1 (duplicates); there are none.")
    cluster = cluster_of_texts(pairs)
    pool = pd.concat([pairs["text1"], pairs["text2"]]).unique()
    pool_cluster = np.array([cluster[group_key(text)] for text in pool])
    rows = []
    for a, b in positives[["text1", "text2"]].itertuples(index=False):
        for anchor, positive in ((a, b), (b, a)) if symmetric else ((a, b),):
            options = negatives.get(anchor)
            if options:
                rows.append((anchor, positive, options[rng.integers(len(options))]))
                continue
            draws = rng.integers(len(pool), size=MAX_NEGATIVE_DRAWS)
            outside = draws[pool_cluster[draws] != cluster[group_key(anchor)]]
            if len(outside):
                rows.append((anchor, positive, pool[outside[0]]))
    if not rows:
        raise TextsiamError("every text is a duplicate of every other, so no negative can be drawn for a triplet.")
    return pd.DataFrame(rows, columns=["anchor", "positive", "negative"])


def duplicate_clusters(pairs: pd.DataFrame) -> pd.DataFrame:
    """One row per distinct text with a class id: texts joined by duplicate pairs share a class."""
    cluster = cluster_of_texts(pairs)
    texts = pd.concat([pairs["text1"], pairs["text2"]]).drop_duplicates()
    return pd.DataFrame({"text": texts.tolist(), "label": [cluster[group_key(t)] for t in texts]})


def augment_transitive(pairs: pd.DataFrame, *, max_cluster: int = 20) -> pd.DataFrame:
    """``pairs`` plus a~c for every chain a~b, b~c of duplicates (clusters of at most ``max_cluster`` texts).

    Only the given pairs are used (call it on the train split), so nothing crosses splits.
    """
    cluster = cluster_of_texts(pairs)
    positives = pairs[pairs["label"] == 1]
    texts = pd.concat([positives["text1"], positives["text2"]]).drop_duplicates()
    members = pd.DataFrame({"text": texts, "key": texts.map(group_key)}).drop_duplicates("key")
    members["cluster"] = members["key"].map(cluster)
    seen = {frozenset((group_key(a), group_key(b))) for a, b in zip(pairs["text1"], pairs["text2"], strict=True)}
    added = []
    for _, group in members.groupby("cluster"):
        if not 2 < len(group) <= max_cluster:
            continue
        rows = list(group.itertuples(index=False))
        for i, first in enumerate(rows):
            for second in rows[i + 1:]:
                if frozenset((first.key, second.key)) not in seen:
                    added.append((first.text, second.text))
    extra = pd.DataFrame(added, columns=["text1", "text2"]).assign(label=1)
    return pd.concat([pairs, extra], ignore_index=True) if added else pairs


def mine_negatives(model, pairs: pd.DataFrame, count: int, *, batch_size: int = 128) -> pd.DataFrame:
    """Hard negatives for each duplicate pair, mined with ``model`` itself among the texts of ``pairs``.

    sentence-transformers' ``mine_hard_negatives`` finds the most similar texts to each anchor; those in the
    anchor's duplicate cluster are dropped (they are not negatives). Returns (anchor, positive, negative) rows.
    """
    from sentence_transformers.util import mine_hard_negatives

    positives = pairs[pairs["label"] == 1]
    if positives.empty or count <= 0:
        return pd.DataFrame(columns=["anchor", "positive", "negative"])
    corpus = pd.concat([pairs["text1"], pairs["text2"]]).drop_duplicates().tolist()
    dataset = Dataset.from_dict({"anchor": positives["text1"].tolist(), "positive": positives["text2"].tolist()})
    mined = mine_hard_negatives(dataset, model, corpus=corpus, num_negatives=count + 2, range_max=count + 10,
                                sampling_strategy="top", output_format="triplet", batch_size=batch_size,
                                verbose=False).to_pandas()
    cluster = cluster_of_texts(pairs)
    same = mined["anchor"].map(group_key).map(cluster) == mined["negative"].map(group_key).map(cluster)
    return mined[~same.to_numpy()].groupby("anchor", sort=False).head(count).reset_index(drop=True)


def teacher_rows(texts: list[str], teacher: str, *, batch_size: int = 128) -> tuple[Dataset, int]:
    """Distillation rows: each distinct text with a teacher model's embedding as its label, and that dimension.

    Training a small tower to reproduce a strong model's embeddings of the training texts (alongside the pair
    loss) carries the teacher's knowledge into a tower that is far cheaper to run.
    """
    from .hub import load_sentence_transformer

    model = load_sentence_transformer(teacher)
    distinct = list(dict.fromkeys(texts))
    embeddings = model.encode(distinct, batch_size=batch_size, convert_to_numpy=True, show_progress_bar=True,
                              normalize_embeddings=True)
    return Dataset.from_dict({"text": distinct, "label": embeddings.tolist()}), embeddings.shape[1]


def teacher_loss(model, teacher_dim: int):
    """Cosine distance between the tower's (projected) embedding and the teacher's."""
    return losses.EmbedDistillLoss(model, distance_metric="cosine", projection_dim=teacher_dim)
