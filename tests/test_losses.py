"""Loss name -> loss object, and the rows each loss trains on (triplets, clusters, augmentation, mined negatives)."""

from __future__ import annotations

import pandas as pd
import pytest

from textsiam.errors import TextsiamError
from textsiam.losses import (
    LossSpec,
    augment_transitive,
    build_triplets,
    cluster_of_texts,
    duplicate_clusters,
    mine_negatives,
)
from textsiam.text import group_key


def frame(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["text1", "text2", "label"])


CHAIN = frame([("a b", "b c", 1), ("b c", "c d", 1), ("x y", "y z", 1), ("a b", "q r", 0)])


def test_clusters_follow_duplicate_chains_only():
    cluster = cluster_of_texts(CHAIN)
    assert cluster[group_key("a b")] == cluster[group_key("c d")]  # a~b, b~c chain
    assert cluster[group_key("a b")] != cluster[group_key("x y")]
    assert cluster[group_key("a b")] != cluster[group_key("q r")]  # a labelled non-duplicate stays apart


def test_random_triplet_negatives_never_come_from_the_anchors_cluster():
    rows = frame([(f"how to {i}", f"way to {i}", 1) for i in range(30)] + [("how to 0", "way to 1", 1)])
    triplets = build_triplets(rows, seed=0)
    cluster = cluster_of_texts(rows)
    for anchor, negative in zip(triplets["anchor"], triplets["negative"], strict=True):
        assert cluster[group_key(anchor)] != cluster[group_key(negative)]


def test_triplets_end_when_every_text_is_one_cluster():
    """Used to spin forever: a negative outside the cluster was drawn until found."""
    with pytest.raises(TextsiamError, match="no negative"):
        build_triplets(frame([("a", "b", 1), ("b", "c", 1), ("c", "a", 1)]))


def test_labelled_negatives_are_preferred():
    triplets = build_triplets(CHAIN, seed=0)
    assert triplets.loc[triplets["anchor"] == "a b", "negative"].tolist() == ["q r"]


def test_batch_hard_classes_are_duplicate_clusters():
    clusters = duplicate_clusters(CHAIN).set_index("text")["label"]
    assert clusters["a b"] == clusters["b c"] == clusters["c d"] != clusters["x y"]


def test_transitive_augmentation_adds_the_missing_link_once():
    augmented = augment_transitive(CHAIN)
    added = augmented.iloc[len(CHAIN):]
    assert {frozenset(p) for p in zip(added["text1"], added["text2"], strict=True)} == {frozenset(("a b", "c d"))}
    assert (added["label"] == 1).all()
    assert len(augment_transitive(augmented)) == len(augmented)  # nothing more to add


def test_bce_trains_the_distance_it_is_asked_for():
    assert LossSpec("bce", "manhattan").similarity == "manhattan"
    assert LossSpec("bce").row_format == "pairs"


def test_cosent_ranks_duplicates_above_non_duplicates_in_cosine():
    import numpy as np
    from sentence_transformers.sentence_transformer import losses

    from textsiam.losses import build_loss, training_rows
    from textsiam.towers import build_encoder

    spec = LossSpec("cosent")
    assert spec.similarity == "cosine" and spec.row_format == "pairs"
    rows = training_rows(CHAIN, spec)
    assert rows.features["label"].dtype.startswith("float") and rows["label"] == [1.0, 1.0, 1.0, 0.0]
    encoder = build_encoder("static", train_texts=(["a b c d"], ["x y z q r"]))
    loss = build_loss(spec, encoder)
    assert isinstance(loss, losses.CoSENTLoss)
    # CoSENT's loss is log(1 + sum over (duplicate, non-duplicate) pairs of exp(scale·(cos_non - cos_dup))).
    import torch

    def loss_when(cos_first: float, cos_second: float) -> float:
        anchors = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
        others = torch.tensor([[cos_first, np.sqrt(1 - cos_first**2)], [cos_second, np.sqrt(1 - cos_second**2)]])
        return float(loss.compute_loss_from_embeddings([anchors, others.float()], torch.tensor([1.0, 0.0])))

    assert loss_when(0.9, 0.7) == pytest.approx(np.log1p(np.exp(20 * (0.7 - 0.9))), rel=1e-3)
    assert loss_when(0.9, 0.2) < loss_when(0.2, 0.9)


def test_mined_negatives_are_hard_but_never_duplicates(tiny_bert_dir):
    from textsiam.towers import build_encoder

    rows = frame([(f"how do i learn topic{i}", f"what is the best way to learn topic{i}", 1) for i in range(12)]
                 + [("how do i learn topic0", "how can i get good at topic0", 1)])
    mined = mine_negatives(build_encoder("bert", model_name=str(tiny_bert_dir)), rows, 2)
    cluster = cluster_of_texts(rows)
    assert len(mined) > 0 and mined.groupby("anchor").size().max() <= 2
    for anchor, negative in zip(mined["anchor"], mined["negative"], strict=True):
        assert cluster[group_key(anchor)] != cluster[group_key(negative)]
