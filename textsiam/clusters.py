"""Grouping near-duplicate pairs into clusters (star or connected components) and naming a representative."""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .errors import check_choice
from .neighbours import Pairs

CLUSTERINGS = ("star", "components")


def connected_clusters(n: int, pairs: Pairs) -> np.ndarray:
    """Cluster label of each of ``n`` nodes: the connected components of the pair graph."""
    graph = coo_matrix((np.ones(len(pairs), dtype=np.int8), (pairs.a, pairs.b)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def star_clusters(n: int, pairs: Pairs) -> np.ndarray:
    """Greedy star clustering: no chains, every member is a direct match of its cluster's centre.

    Nodes are visited by degree (most pairs first); an unassigned node becomes a centre and takes every
    unassigned neighbour. So any two members are at most two pairs apart, through the centre. Each label is
    the centre's node number.
    """
    graph = coo_matrix((np.ones(2 * len(pairs), dtype=np.int8),
                        (np.concatenate([pairs.a, pairs.b]), np.concatenate([pairs.b, pairs.a]))),
                       shape=(n, n)).tocsr()
    degree = np.diff(graph.indptr)
    labels = np.full(n, -1, dtype=np.int64)
    linked = np.flatnonzero(degree)
    for node in linked[np.argsort(-degree[linked], kind="stable")]:
        if labels[node] >= 0:
            continue
        neighbours = graph.indices[graph.indptr[node]:graph.indptr[node + 1]]
        labels[neighbours[labels[neighbours] < 0]] = node
        labels[node] = node
    alone = labels < 0
    labels[alone] = np.flatnonzero(alone)
    return labels


def representatives(labels: np.ndarray, pairs: Pairs) -> np.ndarray:
    """For each node, its cluster's most connected member (ties: the earliest)."""
    n = len(labels)
    degree = np.bincount(pairs.a, minlength=n) + np.bincount(pairs.b, minlength=n)
    order = np.lexsort((np.arange(n), -degree, labels))  # by label, then degree desc, then index
    sorted_labels = labels[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_labels[1:] != sorted_labels[:-1]
    best = np.zeros(n, dtype=np.int64)  # labels are node numbers, so below n
    best[sorted_labels[first]] = order[first]
    return best[labels]


def cluster(n: int, pairs: Pairs, how: str = "star") -> tuple[np.ndarray, np.ndarray]:
    """Cluster labels and representative node of each of ``n`` nodes, by ``star`` or ``components``."""
    check_choice("--clustering", how, CLUSTERINGS)
    labels = star_clusters(n, pairs) if how == "star" else connected_clusters(n, pairs)
    return labels, representatives(labels, pairs)
