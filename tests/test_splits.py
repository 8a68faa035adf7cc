from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textsiam.data import read_pairs
from textsiam.splits import grouped_split, with_sampled_negatives
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


def assert_no_text_crosses_splits(pairs: pd.DataFrame, split: np.ndarray) -> None:
    split_of_key: dict[str, set[str]] = {}
    for (a, b), s in zip(pairs[["text1", "text2"]].itertuples(index=False), split, strict=True):
        split_of_key.setdefault(group_key(a), set()).add(s)
        split_of_key.setdefault(group_key(b), set()).add(s)
    crossing = {key: s for key, s in split_of_key.items() if len(s) > 1}
    assert not crossing, list(crossing.items())[:3]


def chinese_pairs(n: int = 60) -> pd.DataFrame:
    """``n`` distinct, unrelated Chinese question pairs (each text occurs once)."""
    subjects = ["我", "你", "老师", "学生", "医生", "妈妈", "朋友", "孩子"]
    verbs = ["学习", "喜欢", "需要", "研究", "购买", "推荐"]
    objects = ["编程", "汉语", "音乐", "篮球", "手机", "电脑", "咖啡", "历史"]
    texts = [f"{s}为什么{v}{o}？" for s in subjects for v in verbs for o in objects]
    rng = np.random.default_rng(0)
    texts = [texts[i] for i in rng.permutation(len(texts))[: 2 * n]]
    return pd.DataFrame({"row": np.arange(n), "text1": texts[:n], "text2": texts[n:], "label": np.arange(n) % 2})


def test_chinese_pairs_split_into_three_parts_without_sharing_a_text():
    # Issue 9 #3: keys kept only [0-9a-z], so every Chinese text had the key "" and all pairs were one group.
    pairs = chinese_pairs()
    split = grouped_split(pairs, seed=0)
    assert {s: int((split == s).sum()) for s in ("train", "dev", "test")} == {"train": 48, "dev": 6, "test": 6}
    assert_no_text_crosses_splits(pairs, split)


def test_chinese_file_reads_and_splits(tmp_path: Path):
    path = tmp_path / "lcqmc.csv"
    chinese_pairs().drop(columns="row").rename(columns={"text1": "sentence1", "text2": "sentence2"}).to_csv(
        path, index=False)
    pairs = read_pairs(path)
    split = grouped_split(pairs, seed=3, dev_fraction=0.2, test_fraction=0.2)
    assert set(split) == {"train", "dev", "test"}
    assert_no_text_crosses_splits(pairs, split)


def popular_questions(seed: int = 0) -> pd.DataFrame:
    """A QQP-like file: a few popular questions with many paraphrases (big components, nearly all duplicates)
    and many one-off questions (single pairs, mostly non-duplicates)."""
    rng = np.random.default_rng(seed)
    rows = []
    for topic in range(12):  # 12 components of 40 pairs, 90% duplicates
        for k in range(40):
            rows.append((f"popular {topic}", f"popular {topic} asked another way {k}", int(k % 10 != 0)))
    for k in range(1500):  # single pairs, 30% duplicates
        rows.append((f"rare question {k}", f"rare answer {k}", int(rng.random() < 0.3)))
    for k in range(200):  # duplicate triangles: small components of duplicates
        rows += [(f"small {k} a", f"small {k} b", 1), (f"small {k} b", f"small {k} c", 1)]
    frame = pd.DataFrame(rows, columns=["text1", "text2", "label"])
    return frame.sample(frac=1, random_state=seed).reset_index(drop=True).assign(row=lambda f: np.arange(len(f)))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dev_and_test_keep_the_duplicate_rate(seed: int):
    # Issue 9 #11: components too big for the remaining room went to train, so dev/test were mostly one-off
    # questions, with a lower duplicate rate than the data.
    pairs = popular_questions(seed)
    split = grouped_split(pairs, seed=seed)
    overall = pairs["label"].mean()
    for name in ("dev", "test"):
        part = pairs.loc[split == name, "label"]
        assert abs(len(part) / len(pairs) - 0.1) < 0.01, name
        assert abs(part.mean() - overall) < 0.05, (name, part.mean(), overall)
    assert_no_text_crosses_splits(pairs, split)


def test_real_qqp_test_split_keeps_the_duplicate_rate():
    pairs = read_pairs(shared_file("qqp/qqp_merged.csv.gz"))
    split = grouped_split(pairs, seed=7)
    assert abs(pairs.loc[split == "test", "label"].mean() - pairs["label"].mean()) < 0.03
    assert_no_text_crosses_splits(pairs, split)


def test_sampled_negatives_are_never_positive_pairs():
    # Issue 9 #8: with a repeated text2, "another pair's text2" could be the text's own positive.
    pairs = pd.DataFrame({"text1": ["how to cook rice", "best way to cook rice?", "cooking rice", "Как варить рис?",
                                    "learn guitar"],
                          "text2": ["Rice cooking", "rice cooking", "rice  cooking", "rice cooking", "guitar lessons"],
                          "label": 1})
    positive_keys = {(group_key(a), group_key(b)) for a, b in pairs[["text1", "text2"]].itertuples(index=False)}
    for seed in range(20):
        out = with_sampled_negatives(pairs, seed=seed)
        negatives = out[out["label"] == 0]
        assert len(negatives) == len(pairs)
        assert not {(group_key(a), group_key(b)) for a, b in negatives[["text1", "text2"]].itertuples(index=False)
                    } & positive_keys, seed
        assert set(negatives["text1"]) == set(pairs["text1"])


def test_sampled_negatives_skip_a_text_that_pairs_with_every_text2(caplog):
    pairs = pd.DataFrame({"text1": ["a", "b"], "text2": ["same answer", "Same answer"], "label": 1})
    out = with_sampled_negatives(pairs, seed=0)
    assert (out["label"] == 1).sum() == 2 and (out["label"] == 0).sum() == 0
    assert "no negative" in caplog.text


def test_a_zero_fraction_leaves_that_split_empty(pairs_csv: Path):
    # training passes dev_fraction=0 when the user gives a --dev file
    pairs = read_pairs(pairs_csv)
    split = grouped_split(pairs, seed=0, dev_fraction=0.0, test_fraction=0.2)
    assert "dev" not in set(split) and (split == "test").sum() > 0


def test_graded_labels_are_stratified_at_one_half():
    pairs = pd.DataFrame({"text1": [f"q{i}" for i in range(200)], "text2": [f"a{i}" for i in range(200)],
                          "label": np.where(np.arange(200) < 50, 0.9, 0.1)})
    split = grouped_split(pairs, seed=0)
    assert ((split == "test") & (pairs["label"] > 0.5)).sum() == 5 and (split == "test").sum() == 20
