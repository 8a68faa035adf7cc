"""The bundled sample (data/sample_pairs.csv, behind --data sample and `make demo`) and its generator."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pandas as pd
import pytest

from textsiam.data import read_pairs
from textsiam.splits import grouped_split
from textsiam.text import duplicate_key

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample_pairs.csv"
DEMO_PAIRS = ROOT / "data" / "demo_pairs.csv"


def load_make_sample():
    """scripts/make_sample.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_sample", ROOT / "scripts" / "make_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return read_pairs("sample")


def unordered_keys(pairs: pd.DataFrame) -> pd.Series:
    """One key per pair that ignores case, spacing and which text comes first."""
    return pd.Series([tuple(sorted((duplicate_key(a), duplicate_key(b)))) for a, b in zip(pairs["text1"],
                                                                                         pairs["text2"], strict=True)])


def test_sample_is_large_and_has_both_labels(sample: pd.DataFrame):
    assert len(sample) >= 1200
    assert len(sample) == len(pd.read_csv(SAMPLE))  # no row was dropped while reading
    counts = sample["label"].value_counts()
    assert set(counts.index) == {0, 1}
    assert counts.min() >= 0.35 * len(sample)  # neither label is a small minority


def test_no_pair_repeats_or_has_two_labels(sample: pd.DataFrame):
    keys = unordered_keys(sample)
    assert not keys.duplicated().any()
    assert keys.groupby(sample["label"].to_numpy()).nunique().sum() == keys.nunique()
    assert not (sample["text1"].map(duplicate_key) == sample["text2"].map(duplicate_key)).any()


def test_sample_has_non_english_pairs(sample: pd.DataFrame):
    texts = pd.concat([sample["text1"], sample["text2"]])
    for script in (r"[\u4e00-\u9fff]", r"[\u0400-\u04ff]", r"[éèêñäöüß]"):  # Chinese, Cyrillic, accented Latin
        assert texts.str.contains(script).any(), script


def test_grouped_split_holds_out_at_least_100_test_pairs(sample: pd.DataFrame):
    split = pd.Series(grouped_split(sample, seed=42))  # the demo's default seed
    assert (split == "test").sum() >= 100
    assert (split == "dev").sum() >= 100
    test_labels = sample["label"].to_numpy()[split == "test"]
    assert 0 < test_labels.mean() < 1


def test_make_sample_regenerates_the_committed_file(tmp_path: Path):
    output = tmp_path / "sample_pairs.csv"
    load_make_sample().main(output)
    assert output.read_bytes() == SAMPLE.read_bytes()


def test_families_have_two_groups_of_paraphrases():
    families = load_make_sample().read_families()
    assert len(families) % 2 == 0
    assert all(len(family) >= 2 and all(len(group) >= 3 for group in family) for family in families)
    texts = [duplicate_key(text) for family in families for group in family for text in group]
    assert len(texts) == len(set(texts))  # a question in two groups would be labelled both ways


def test_demo_examples_are_unseen(sample: pd.DataFrame):
    seen = set(pd.concat([sample["text1"], sample["text2"]]).map(duplicate_key))
    examples = pd.read_csv(DEMO_PAIRS)
    assert len(examples) >= 4
    assert not seen & set(examples.iloc[:, :2].stack().map(duplicate_key))
    assert examples.iloc[:, :2].stack().map(lambda text: bool(re.search(r"[\u4e00-\u9fff]", text))).any()


def test_demo_formatter_prints_one_aligned_line_per_pair(tmp_path: Path):
    spec = importlib.util.spec_from_file_location("show_scored", ROOT / "scripts" / "show_scored.py")
    show_scored = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(show_scored)
    scored = tmp_path / "scored.csv"
    pd.DataFrame({"question1": ["如何学习Python？", "How do I learn Python?", ""],
                  "question2": ["怎样学好Python？", "How do I uninstall Python?", "Why?"],
                  "score": [0.9, 0.4, None], "probability": [0.97, 0.12, None], "is_duplicate": [1, 0, None],
                  "reason": ["", "", "empty question1"]}).to_csv(scored, index=False)
    lines = show_scored.scored_table(str(scored)).splitlines()
    assert lines[0].split() == ["text", "1", "text", "2", "probability", "duplicate"]
    assert [line.split()[-2:] for line in lines[1:3]] == [["0.970", "yes"], ["0.120", "no"]]
    assert lines[3].endswith("-")
    # Chinese characters take two terminal columns: the probability column lines up in every row.
    assert len({show_scored.display_width(line.rsplit(maxsplit=1)[0]) for line in lines}) == 1
