from pathlib import Path

import numpy as np

from textsiam.data import read_pairs
from textsiam.splits import grouped_split
from textsiam.text import group_key

from .conftest import shared_file


def test_grouped_split_never_shares_a_text_between_splits(pairs_csv: Path):
    pairs = read_pairs(pairs_csv)
    split = grouped_split(pairs, seed=1, dev_fraction=0.2, test_fraction=0.2)
    text_split: dict[str, set[str]] = {}
    for (a, b), s in zip(pairs[["text1", "text2"]].itertuples(index=False), split, strict=True):
        text_split.setdefault(group_key(a), set()).add(s)
        text_split.setdefault(group_key(b), set()).add(s)
    assert all(len(s) == 1 for s in text_split.values())
    assert set(split) == {"train", "dev", "test"}
    assert np.array_equal(split, grouped_split(pairs, seed=1, dev_fraction=0.2, test_fraction=0.2))


def test_real_qqp_grouped_split_has_no_leak():
    pairs = read_pairs(shared_file("qqp/qqp_merged.csv.gz"))
    split = grouped_split(pairs, seed=42)
    keys = {s: set(pairs.loc[split == s, "text1"].map(group_key)) | set(pairs.loc[split == s, "text2"].map(group_key))
            for s in ("train", "dev", "test")}
    assert not keys["train"] & keys["test"] and not keys["train"] & keys["dev"] and not keys["dev"] & keys["test"]
    assert abs((split == "test").mean() - 0.1) < 0.01
