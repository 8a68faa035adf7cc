"""Clustering pairs: star clustering caps a cluster's diameter, components follow every chain."""

from __future__ import annotations

import numpy as np
import pytest

from textsiam.clusters import cluster, representatives
from textsiam.errors import TextsiamError
from textsiam.neighbours import Pairs


def pairs_of(edges: list[tuple[int, int]]) -> Pairs:
    a, b = np.array(edges, dtype=np.int64).T
    return Pairs(a, b, np.full(len(edges), 0.95, dtype=np.float32))


CHAIN = pairs_of([(0, 1), (1, 2), (2, 3), (3, 4)])


def test_star_clustering_breaks_a_chain_that_components_merge():
    labels, _ = cluster(6, CHAIN, "components")
    assert len(set(labels[:5])) == 1 and labels[5] != labels[0]
    labels, rep = cluster(6, CHAIN, "star")
    assert len(set(labels[:5])) == 2
    edges = {(int(a), int(b)) for a, b in zip(CHAIN.a, CHAIN.b, strict=True)}
    edges |= {(b, a) for a, b in edges}
    for node in range(5):  # every member is its representative or a direct match of it
        assert rep[node] == node or (node, rep[node]) in edges


def test_star_centre_is_the_most_connected_text():
    hub = pairs_of([(0, 3), (1, 3), (2, 3), (3, 4), (4, 5)])
    labels, rep = cluster(6, hub, "star")
    assert labels[:5].tolist() == [3] * 5 and labels[5] == 5  # 5 only matches 4, already claimed by 3
    assert rep[:5].tolist() == [3] * 5 and rep[5] == 5


def test_representative_ties_go_to_the_earliest():
    labels = np.array([0, 0, 2, 2])
    rep = representatives(labels, pairs_of([(0, 1), (2, 3)]))
    assert rep.tolist() == [0, 0, 2, 2]


def test_nodes_without_pairs_are_alone():
    labels, rep = cluster(3, Pairs.empty(), "star")
    assert labels.tolist() == [0, 1, 2] and rep.tolist() == [0, 1, 2]


def test_unknown_clustering_is_refused():
    with pytest.raises(TextsiamError, match="Did you mean 'components'"):
        cluster(3, Pairs.empty(), "component")
