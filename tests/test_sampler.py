"""Batch samplers: every row once per epoch, DDP-divisible batch counts, and the batches each loss needs."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from datasets import Dataset

from textsiam.losses import duplicate_clusters
from textsiam.sampler import (
    ClusterGroupingBatchSampler,
    ClusterSeparatingBatchSampler,
    LengthGroupedBatchSampler,
    ResumedEpochCallback,
    sampler_for,
)


def pairs_dataset(n: int = 301) -> Dataset:
    return Dataset.from_dict({"text1": [f"question {i} " + "x" * (i % 13) for i in range(n)],
                              "text2": [f"other {i}" for i in range(n)], "label": [i % 2 for i in range(n)]})


@pytest.mark.parametrize("processes", [1, 2, 3])
@pytest.mark.parametrize("batch_size", [16, 64, 500])
def test_every_row_exactly_once_and_batch_count_divides_by_processes(processes, batch_size):
    sampler = LengthGroupedBatchSampler(pairs_dataset(), batch_size=batch_size, seed=1)
    sampler.processes = processes
    for epoch in range(3):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert len(batches) == len(sampler) and len(batches) % processes == 0
        assert Counter(i for b in batches for i in b) == Counter(range(301))
        assert max(len(b) for b in batches) <= batch_size
        assert max(len(b) for b in batches) - min(len(b) for b in batches) <= 1  # no short batch anywhere


def test_length_grouping_reduces_length_spread_and_reshuffles_each_epoch():
    dataset = pairs_dataset(3000)
    sampler = LengthGroupedBatchSampler(dataset, batch_size=32, seed=0)
    lengths = np.array([len(t) for t in dataset["text1"]])
    spread = np.mean([np.ptp(lengths[b]) for b in sampler])
    assert spread < np.ptp(lengths) / 3
    sampler.set_epoch(1)
    first_epoch1 = next(iter(sampler))
    sampler.set_epoch(0)
    assert next(iter(sampler)) != first_epoch1


def test_in_batch_negatives_never_share_a_batch_with_a_duplicate_of_the_anchor():
    # clusters: a~b~c (chained), d~e; every other row is its own cluster
    anchors = ["a", "b", "d", *[f"q{i}" for i in range(40)]]
    positives = ["b", "c", "e", *[f"p{i}" for i in range(40)]]
    dataset = Dataset.from_dict({"anchor": anchors, "positive": positives})
    sampler = ClusterSeparatingBatchSampler(dataset, batch_size=8, seed=3)
    for epoch in range(5):
        sampler.set_epoch(epoch)
        batches = list(sampler)
        assert Counter(i for b in batches for i in b) == Counter(range(len(anchors)))
        for batch in batches:
            assert not {0, 1} <= set(batch), "rows 0 (a,b) and 1 (b,c) are one cluster"


def test_batch_hard_batches_hold_whole_clusters_with_in_batch_positives():
    import pandas as pd

    rows = []
    for c in range(30):
        rows += [(f"how to do thing {c}", f"way to do thing {c}", 1), (f"way to do thing {c}", f"doing thing {c}", 1)]
        rows += [(f"how to do thing {c}", f"unrelated {c}", 0)]
    clusters = duplicate_clusters(pd.DataFrame(rows, columns=["text1", "text2", "label"]))
    dataset = Dataset.from_pandas(clusters, preserve_index=False)
    sampler = ClusterGroupingBatchSampler(dataset, batch_size=12, seed=0)
    labels = np.asarray(dataset["label"])
    batches = list(sampler)
    assert Counter(i for b in batches for i in b) == Counter(range(len(dataset)))
    for batch in batches:
        members = Counter(labels[batch])
        assert sum(count >= 2 for count in members.values()) >= 2  # several clusters with a positive each
    # each 3-text duplicate cluster is in one batch
    for label, count in Counter(labels).items():
        if count == 3:
            assert sum(label in set(labels[b]) for b in batches) == 1


def test_sampler_is_chosen_per_loss():
    assert sampler_for("in-batch-negatives") is ClusterSeparatingBatchSampler
    assert sampler_for("batch-hard-triplet") is ClusterGroupingBatchSampler
    assert sampler_for("contrastive") is LengthGroupedBatchSampler


@pytest.mark.parametrize("processes", [1, 2])
def test_a_resumed_epoch_gets_its_own_batch_order_through_accelerates_wrappers(processes):
    """On --resume the trainer iterates a SkipBatchSampler that drops set_epoch; the callback sets the epoch on
    our sampler (under DDP behind accelerate's BatchSamplerShard) from the trainer's step count."""
    from types import SimpleNamespace

    from accelerate.data_loader import BatchSamplerShard, SkipBatchSampler
    from torch.utils.data import DataLoader

    sampler = LengthGroupedBatchSampler(pairs_dataset(), batch_size=16, seed=1)
    sampler.processes = processes
    sampler.set_epoch(1)
    epoch_1 = list(sampler)
    sampler.set_epoch(0)  # a fresh process: the sampler starts at epoch 0
    outer = BatchSamplerShard(sampler, num_processes=2, process_index=0) if processes == 2 else sampler
    loader = DataLoader(range(301), batch_sampler=outer)
    steps_per_epoch = len(loader)
    state = SimpleNamespace(global_step=steps_per_epoch + 3)  # killed 3 steps into the second epoch
    ResumedEpochCallback().on_epoch_begin(SimpleNamespace(gradient_accumulation_steps=1), state, None,
                                          train_dataloader=loader)
    assert sampler.epoch == 1
    resumed = list(SkipBatchSampler(outer, skip_batches=3))
    expected = epoch_1 if processes == 1 else list(BatchSamplerShard(sampler, num_processes=2, process_index=0))
    assert resumed == expected[3:]
