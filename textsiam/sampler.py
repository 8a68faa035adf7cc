"""Batch samplers, one per kind of loss (the way sentence-transformers' ``base/sampler.py`` chooses them).

Every sampler here yields **every training row exactly once per epoch**, single process or under DDP:
- the epoch is cut into ``M`` batches of near-equal size (never above ``batch_size``), where ``M`` is a multiple of
  the number of DDP processes, so accelerate's sharding gives each process the same number of batches;
- the sampler reports ``batch_size = None`` (batches vary by one row), which tells accelerate not to treat a
  smaller batch as "the short last one" (it would drop a whole round of batches, or pad with repeated rows).

Which sampler serves which loss (``sampler_for``):
- pair, triplet, cosine and bce losses score each row on its own: rows of similar length are batched together
  (``LengthGroupedBatchSampler``), which cuts padding.
- in-batch negatives treat every other row of the batch as a negative, so two rows of one duplicate cluster must
  never share a batch (``ClusterSeparatingBatchSampler``).
- batch-hard triplet mines positives inside the batch, so the texts of one duplicate cluster travel together
  (``ClusterGroupingBatchSampler``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd
from sentence_transformers.base.sampler import DefaultBatchSampler, ProportionalBatchSampler
from transformers import TrainerCallback

MEGABATCH = 50  # length grouping sorts rows inside windows of this many batches, so batches stay random
LABEL_COLUMNS = {"label", "score"}


def world_size() -> int:
    """The number of DDP processes: torch.distributed's, or torchrun's WORLD_SIZE before it is set up (else 1)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return int(os.environ.get("WORLD_SIZE", "1"))


def _boundaries(sizes: list[int], batches: int) -> list[int]:
    """Cut points (unit indices) that split units of ``sizes`` into ``batches`` runs of near-equal row count."""
    ends = np.cumsum(sizes)
    targets = np.arange(1, batches) * ends[-1] / batches
    cuts = np.searchsorted(ends, targets, side="left") + 1
    return sorted(set(np.clip(cuts, 1, len(sizes) - 1).tolist())) if len(sizes) > 1 else []


class BalancedBatchSampler(DefaultBatchSampler):
    """Base class: a seeded, per-epoch reshuffled list of ``M`` near-equal batches covering every row once.

    Subclasses order the rows (``order_units``) as a list of units, each a list of row indices that must stay in
    one batch; the base cuts the units into ``M`` batches.
    """

    def __init__(self, dataset, batch_size: int, drop_last: bool = False, valid_label_columns=None,
                 generator=None, seed: int = 0) -> None:
        super().__init__(dataset, batch_size=batch_size, drop_last=drop_last,
                         valid_label_columns=valid_label_columns, generator=generator, seed=seed)
        self.max_batch_size = batch_size
        self.batch_size = None  # batch sizes vary by a row: see the module docstring
        self.rows = len(dataset)
        self.processes = world_size()
        self.text_columns = [c for c in dataset.column_names if c not in LABEL_COLUMNS | set(valid_label_columns or [])]

    @property
    def num_batches(self) -> int:
        per_process = math.ceil(self.rows / (self.max_batch_size * self.processes))
        return max(1, per_process) * self.processes

    def order_units(self, rng: np.random.Generator) -> list[np.ndarray]:
        raise NotImplementedError

    def epoch_batches(self) -> list[list[int]]:
        """This epoch's batches (the same in every process: the seed is shared)."""
        rng = np.random.default_rng(self.seed + self.epoch)
        units = self.order_units(rng)
        cuts = [0, *_boundaries([len(u) for u in units], self.num_batches), len(units)]
        batches = [np.concatenate(units[a:b]).tolist() for a, b in zip(cuts[:-1], cuts[1:], strict=True)]
        while len(batches) < self.num_batches:  # fewer units than batches: split the largest batch
            largest = max(range(len(batches)), key=lambda i: len(batches[i]))
            batch = batches.pop(largest)
            if len(batch) < 2:
                batches.append(batch)
                break
            batches += [batch[: len(batch) // 2], batch[len(batch) // 2:]]
        return [batches[i] for i in rng.permutation(len(batches))]

    def __iter__(self) -> Iterator[list[int]]:
        yield from self.epoch_batches()

    def __len__(self) -> int:
        return self.num_batches


class LengthGroupedBatchSampler(BalancedBatchSampler):
    """Random batches of rows with similar text lengths: rows are shuffled, sorted by length inside windows of
    MEGABATCH batches, and cut into batches; the batch order is shuffled."""

    def __init__(self, dataset, *args, **kwargs) -> None:
        super().__init__(dataset, *args, **kwargs)
        lengths = np.zeros(len(dataset), dtype=np.int64)
        for column in self.text_columns:
            lengths = np.maximum(lengths, [len(str(text)) for text in dataset[column]])
        self.lengths = lengths

    def order_units(self, rng: np.random.Generator) -> list[np.ndarray]:
        order = rng.permutation(self.rows)
        window = self.max_batch_size * MEGABATCH
        chunks = [order[start:start + window] for start in range(0, self.rows, window)]
        order = np.concatenate([chunk[np.argsort(self.lengths[chunk], kind="stable")] for chunk in chunks])
        return [order[i:i + 1] for i in range(self.rows)]


def duplicate_clusters_of_rows(dataset, columns: list[str]) -> np.ndarray:
    """Cluster id of each row: rows whose texts in ``columns`` are duplicates of each other share a cluster."""
    from .splits import pair_groups

    second = columns[1] if len(columns) > 1 else columns[0]  # a single text column pairs each text with itself
    return np.asarray(pair_groups(pd.DataFrame({"text1": dataset[columns[0]], "text2": dataset[second]})))


class ClusterSeparatingBatchSampler(BalancedBatchSampler):
    """For in-batch negatives: no two rows of one duplicate cluster (anchor ~ positive, chained) in a batch.

    Rows are sorted by cluster (clusters in random order) and dealt out round-robin over the batches, so the rows
    of a cluster land in consecutive, distinct batches whenever the cluster has at most ``M`` rows.
    """

    def __init__(self, dataset, *args, **kwargs) -> None:
        super().__init__(dataset, *args, **kwargs)
        self.clusters = duplicate_clusters_of_rows(dataset, self.text_columns[:2])

    def epoch_batches(self) -> list[list[int]]:
        rng = np.random.default_rng(self.seed + self.epoch)
        cluster_rank = rng.permutation(int(self.clusters.max()) + 1)[self.clusters]
        order = np.lexsort((rng.random(self.rows), cluster_rank))
        batches = [order[i::self.num_batches].tolist() for i in range(self.num_batches)]
        return [batches[i] for i in rng.permutation(len(batches)) if batches[i]] or [[]]


class ClusterGroupingBatchSampler(BalancedBatchSampler):
    """For batch-hard triplet loss: the texts of one duplicate cluster (the ``label``) stay in one batch.

    Clusters larger than half a batch are cut into pieces of at least two texts, so every batch holds several
    clusters and each anchor has an in-batch positive and negatives.
    """

    def __init__(self, dataset, *args, **kwargs) -> None:
        super().__init__(dataset, *args, **kwargs)
        self.labels = np.asarray(dataset["label"])

    def order_units(self, rng: np.random.Generator) -> list[np.ndarray]:
        piece = max(2, self.max_batch_size // 2)
        units = []
        for members in pd.Series(np.arange(self.rows)).groupby(self.labels).indices.values():
            members = rng.permutation(members)
            units += [members[i:i + piece] for i in range(0, len(members), piece)]
        # Spread the clusters evenly among the singletons, so that every batch gets its share of positives.
        groups = [u for u in units if len(u) > 1], [u for u in units if len(u) == 1]
        keyed = [((i + rng.random()) / len(group), unit) for group in groups
                 for i, unit in enumerate(group[k] for k in rng.permutation(len(group)))]
        return [unit for _, unit in sorted(keyed, key=lambda item: item[0])]


class ProportionalBalancedBatchSampler(ProportionalBatchSampler):
    """sentence-transformers' proportional multi-dataset sampler (e.g. pairs + distillation) over the samplers above.

    Its parent takes ``batch_size`` from the first child, which is None here (batch sizes vary by a row); every
    child's batch count is a multiple of the DDP world size, so their sum is too.
    """

    def __init__(self, dataset, batch_samplers, generator=None, seed: int = 0) -> None:
        self.dataset, self.batch_samplers, self.generator, self.seed = dataset, batch_samplers, generator, seed
        self.batch_size, self.drop_last, self.epoch = None, False, 0


SAMPLERS: dict[str, type[BalancedBatchSampler]] = {
    "in-batch-negatives": ClusterSeparatingBatchSampler,
    "batch-hard-triplet": ClusterGroupingBatchSampler,
}


def sampler_for(loss_name: str) -> Callable[..., BalancedBatchSampler]:
    """The batch sampler class that gives ``loss_name`` the batches it needs (length grouping by default)."""
    return SAMPLERS.get(loss_name, LengthGroupedBatchSampler)


class ResumedEpochCallback(TrainerCallback):
    """Tells the batch sampler which epoch it is at the start of every epoch, resumed ones included.

    Resuming mid-epoch, the trainer skips the batches already trained with accelerate's ``skip_first_batches``,
    which wraps the batch sampler in a ``SkipBatchSampler`` that does not pass ``set_epoch`` on (accelerate 1.15):
    the resumed epoch would replay epoch 0's batch order. The epoch is the trainer's own count of finished ones.
    """

    def on_epoch_begin(self, args, state, control, train_dataloader=None, **kwargs) -> None:
        if train_dataloader is None:
            return
        steps_per_epoch = max(1, len(train_dataloader) // args.gradient_accumulation_steps)
        sampler = train_dataloader.batch_sampler  # accelerate's BatchSamplerShard under DDP wraps ours
        while sampler is not None and not hasattr(sampler, "set_epoch"):
            sampler = getattr(sampler, "batch_sampler", None)
        if sampler is not None:
            sampler.set_epoch(state.global_step // steps_per_epoch)
