"""Shared fixtures: small pair data and tiny models built in code (no hub access, no shipped weights)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample_pairs.csv"


@pytest.fixture(autouse=True, scope="session")
def lstm_starts_at_random():
    """Tests build tiny models: the default lstm starts from random vectors, not from the installed MiniLM.

    Session-wide, so module-scoped fixtures that train get it too. test_training_args.py and test_training.py
    set ``hub.LSTM_START_MODEL`` back where they test the real default.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("textsiam.hub.LSTM_START_MODEL", None)
        yield


def shared_file(relative: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason when it is absent (fresh clones)."""
    path = SHARED_DATA / relative
    if not path.exists():
        pytest.skip(f"needs ../shared/data/{relative}, which is absent in this checkout")
    return path


def write_pairs(path: Path, n_groups: int = 12, seed: int = 0) -> Path:
    """A small labelled pair file: paraphrase-like pairs inside a topic are 1, across topics 0."""
    rng = random.Random(seed)
    topics = ["python", "java", "weight", "sleep", "visa", "rice", "guitar", "swim", "stocks", "dogs",
              "tea", "bread", "cars", "paris", "music", "chess"]
    templates = ["how do i learn {t}", "what is the best way to learn {t}", "how can i get good at {t}"]
    rows = []
    for g in range(n_groups):
        t = topics[g % len(topics)]
        a, b, c = (s.format(t=t) for s in templates)
        rows += [(a, b, 1), (b, c, 1), (a, c, 1)]
        other = topics[(g ^ 1) % len(topics)]  # negatives stay inside pairs of topics: small components
        rows += [(a, templates[0].format(t=other), 0), (c, templates[1].format(t=other), 0)]
    rng.shuffle(rows)
    pd.DataFrame(rows, columns=["question1", "question2", "is_duplicate"]).to_csv(path, index=False)
    return path


@pytest.fixture
def pairs_csv(tmp_path: Path) -> Path:
    return write_pairs(tmp_path / "pairs.csv")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    """A random 2-layer BERT (hidden size 32) with a word-level vocabulary, saved as safetensors."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    directory = tmp_path_factory.mktemp("tiny_bert")
    words = sorted({w.strip("?,.!'\"").lower() for text in pd.read_csv(SAMPLE).iloc[:, :2].to_numpy().ravel()
                    for w in str(text).split()} - {""})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"abcdefghijklmnopqrstuvwxyz?", *words]
    vocab = list(dict.fromkeys(vocab))
    # transformers 5 ignores vocab_file=...: pass the vocabulary itself, or every word becomes [UNK].
    BertTokenizerFast(vocab={word: i for i, word in enumerate(vocab)}).save_pretrained(directory)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(directory, safe_serialization=True)
    return directory
