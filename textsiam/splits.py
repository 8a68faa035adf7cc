"""Grouped train/dev/test splits (no text in two splits) and sampled negatives for positive-only data."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .text import group_key

logger = logging.getLogger("textsiam")


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

    Whole connected components (see ``pair_groups``) are dealt out in a random order fixed by ``seed``: a
    component joins test (else dev) only if it fits that split's share of the pairs *and* its share of each
    label class (duplicates, non-duplicates, unlabelled; a graded label counts as a duplicate from 0.5).
    So dev and test keep the data's duplicate rate even where duplicates crowd into big components (popular
    questions). Components that fit nowhere go to train.
    """
    groups = pair_groups(pairs)
    labels = pairs["label"].to_numpy(dtype=float) if "label" in pairs else np.full(len(pairs), -1.0)
    classes = np.where(labels < 0, 2, labels >= 0.5).astype(np.int64)
    counts = np.zeros((int(groups.max()) + 1, 3), dtype=np.int64)
    np.add.at(counts, (groups, classes), 1)
    totals = counts.sum(axis=0)
    room = {name: (fraction * len(pairs) + 0.5, [int(np.ceil(fraction * t)) for t in totals])
            for name, fraction in (("test", test_fraction), ("dev", dev_fraction))}
    filled = {name: [0, 0, 0] for name in room}
    per_group = counts.tolist()
    split_of_group = np.full(len(per_group), "train", dtype=object)
    for group in np.random.default_rng(seed).permutation(len(per_group)).tolist():
        count = per_group[group]
        for name, (pair_room, class_room) in room.items():
            now = [f + c for f, c in zip(filled[name], count, strict=True)]
            if sum(now) <= pair_room and all(n <= r for n, r in zip(now, class_room, strict=True)):
                split_of_group[group] = name
                filled[name] = now
                break
    return split_of_group[groups].astype(str)


def with_sampled_negatives(pairs: pd.DataFrame, *, seed: int = 42) -> pd.DataFrame:
    """Positive pairs (label 1) plus, for each, a negative: its text1 with the text2 of another pair.

    Used to evaluate models trained on positive-only data (title/body, question/answer). Negatives are
    drawn within the same split, so no text crosses splits. A negative is never a pair of the data (either
    way round, compared by ``group_key``) nor a text with itself; a text1 whose only candidates are its own
    positives gets no negative, with a warning.
    """
    rng = np.random.default_rng(seed)
    positives = pairs.assign(label=1).reset_index(drop=True)
    n = len(positives)
    if n < 2:
        return positives
    codes, keys = pd.factorize(pd.concat([positives["text1"].map(group_key), positives["text2"].map(group_key)],
                                         ignore_index=True))
    first, second, n_keys = codes[:n], codes[n:], len(keys)
    known = np.union1d(first * n_keys + second, second * n_keys + first)

    def unusable(rows: np.ndarray, others: np.ndarray) -> np.ndarray:
        a, b = first[rows], second[others]
        return (a == b) | np.isin(a * n_keys + b, known)

    rows = np.arange(n)
    other = (rows + rng.integers(1, n, size=n)) % n
    todo = rows[unusable(rows, other)]
    for _ in range(20):  # redraw the few that hit a positive; most data needs no redraw at all
        if not len(todo):
            break
        other[todo] = (todo + rng.integers(1, n, size=len(todo))) % n
        todo = todo[unusable(todo, other[todo])]
    missing = []
    for row in todo.tolist():  # rare: look through every text2 once
        candidates = rng.permutation(n)
        usable = candidates[~unusable(np.full(n, row), candidates)]
        if len(usable):
            other[row] = usable[0]
        else:
            missing.append(row)
    if missing:
        logger.warning("no negative could be sampled for %d of %d positive pair(s): every other text2 is one of "
                       "their positives (first: %r).", len(missing), n, positives["text1"].iloc[missing[0]])
    negatives = positives.assign(text2=positives["text2"].to_numpy()[other], label=0).drop(index=missing)
    return pd.concat([positives, negatives], ignore_index=True)
