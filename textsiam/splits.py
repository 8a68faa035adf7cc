"""Grouped train/dev/test splits (no text in two splits) and sampled negatives for positive-only data."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .text import group_key


def pair_groups(pairs: pd.DataFrame) -> np.ndarray:
    """Connected components of the graph whose nodes are normalised texts and whose edges are pairs.

    If the file names a question id (``group`` column), pairs sharing it are joined as well.
    """
    keys = pd.concat([pairs["text1"].map(group_key), pairs["text2"].map(group_key)], ignore_index=True)
    codes, _ = pd.factorize(keys)
    n_pairs = len(pairs)
    src, dst = codes[:n_pairs], codes[n_pairs:]
    n_nodes = int(codes.max()) + 1
    if "group" in pairs:
        group_codes, _ = pd.factorize(pairs["group"])
        extra = group_codes + n_nodes
        src = np.concatenate([src, src])
        dst = np.concatenate([dst, extra])
        n_nodes += int(group_codes.max()) + 1
    graph = coo_matrix((np.ones(len(src)), (src, dst)), shape=(n_nodes, n_nodes))
    _, component = connected_components(graph, directed=False)
    return component[codes[:n_pairs]]


def grouped_split(pairs: pd.DataFrame, *, seed: int = 42, dev_fraction: float = 0.1,
                  test_fraction: float = 0.1) -> np.ndarray:
    """Assign each pair to ``train``, ``dev`` or ``test`` so that no text is in two splits.

    Whole connected components (see ``pair_groups``) are shuffled with ``seed`` and dealt out until each
    split holds its share of pairs. Components larger than the dev share go to train.
    """
    groups = pair_groups(pairs)
    sizes = np.bincount(groups)
    order = np.random.default_rng(seed).permutation(len(sizes))
    targets = {"test": test_fraction * len(pairs), "dev": dev_fraction * len(pairs)}
    filled = {"test": 0, "dev": 0}
    split_of_group = np.full(len(sizes), "train", dtype=object)
    for group in order:
        for name in ("test", "dev"):
            if filled[name] + sizes[group] <= targets[name] + 0.5:
                split_of_group[group] = name
                filled[name] += sizes[group]
                break
    return split_of_group[groups].astype(str)


def with_sampled_negatives(pairs: pd.DataFrame, *, seed: int = 42) -> pd.DataFrame:
    """Positive pairs (label 1) plus, for each, a negative: its text1 with the text2 of another pair.

    Used to evaluate models trained on positive-only data (title/body, question/answer). Negatives are
    drawn within the same split, so no text crosses splits.
    """
    rng = np.random.default_rng(seed)
    positives = pairs.assign(label=1)
    if len(positives) < 2:
        return positives
    shift = rng.integers(1, len(positives), size=len(positives))
    other = (np.arange(len(positives)) + shift) % len(positives)
    negatives = positives.assign(text2=positives["text2"].to_numpy()[other], label=0)
    return pd.concat([positives, negatives], ignore_index=True)
