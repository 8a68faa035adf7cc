"""The model card: textsiam's decision added to the README.md sentence-transformers writes, and snippets that run."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from textsiam.model_card import BEGIN, END, EXAMPLE, calibration_rows, write_model_card


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory) -> tuple[Path, dict, float]:
    """A tiny LSTM saved as a textsiam model whose threshold sits just below the example pair's score."""
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    directory = tmp_path_factory.mktemp("card") / "模型-model"  # a non-ASCII path must survive the snippets
    texts = ([EXAMPLE[0], "Как выучить русский язык?"], [EXAMPLE[1], "如何学习中文"])
    encoder = build_encoder("lstm", train_texts=texts, seed=0, embedding_dim=8, hidden_dim=8, max_length=16)
    score = float(SiameseModel(encoder).score([EXAMPLE[0]], [EXAMPLE[1]])[0])
    metadata = {
        "threshold": score - 0.01, "similarity": "cosine", "tower": "lstm", "arch": "siamese",
        "loss": "online-contrastive", "distance": "cosine", "margin": 0.5,
        "calibration": {"w": 7.25, "b": 1.5, "similarity": "cosine"},
        "metrics": {"dev": {"f1": 0.5, "n": 10},
                    "test": {"roc_auc": 0.9123, "f1": 0.8111, "precision": 0.75, "recall": 0.88, "accuracy": 0.8,
                             "average_precision": 0.85, "brier": 0.12, "ece": 0.034, "threshold": score - 0.01,
                             "n": 1234}},
        "data": {"train": "qqp.csv", "dev": "grouped split of qqp.csv", "test": "grouped split of qqp.csv"},
        "config": {"data": "qqp.csv", "output": str(directory), "epochs": 8, "batch_size": 128,
                   "learning_rate": 0.002, "seed": 42},
        "training": {"pairs": 27006},
        "textsiam_version": "0.1.0",
    }
    SiameseModel(encoder, metadata).save(directory)
    return directory, metadata, score


def python_blocks(card: str) -> list[str]:
    """The Python snippets of textsiam's section of the card."""
    return re.findall(r"```python\n(.*?)```", card[card.index(BEGIN): card.index(END)], flags=re.S)


def test_card_adds_the_decision_and_keeps_sentence_transformers_card(saved_model):
    directory, metadata, _ = saved_model
    original = (directory / "README.md").read_text(encoding="utf-8")
    assert original.startswith("---\n") and BEGIN not in original
    write_model_card(directory, metadata)
    card = (directory / "README.md").read_text(encoding="utf-8")
    section = card[card.index(BEGIN): card.index(END)]
    assert card.replace(section + END + "\n\n", "") == original  # nothing of the original card is lost or moved
    assert card.index("library_name: sentence-transformers") < card.index(BEGIN)  # YAML header stays first
    threshold = repr(metadata["threshold"])  # in full: a rounded threshold could flip a decision
    assert f"duplicates when their cosine similarity is ≥ {threshold}" in section
    assert "| similarity function | cosine" in section
    assert "| w, b | 7.25, 1.5 |" in section and "d = 1 − cosine similarity" in section
    assert "## Held-out metrics (test split: grouped split of qqp.csv, 1,234 pairs, at the threshold)" in section
    assert "| 0.9123 | 0.8111 | 0.7500 | 0.8800 | 0.8000 | 0.8500 | 0.1200 | 0.0340 |" in section
    assert "| data | qqp.csv |" in section and "| tower | lstm |" in section
    assert "| loss | online-contrastive (distance cosine, margin 0.5) |" in section
    assert "| pairs trained on | 27,006 |" in section


def test_writing_twice_keeps_one_section(saved_model):
    directory, metadata, _ = saved_model
    write_model_card(directory, metadata)
    once = (directory / "README.md").read_text(encoding="utf-8")
    write_model_card(directory, {**metadata, "threshold": 0.25})
    twice = (directory / "README.md").read_text(encoding="utf-8")
    assert twice.count(BEGIN) == 1 and "≥ 0.25**" in twice and "| threshold | 0.25 |" in twice
    assert len(twice.splitlines()) == len(once.splitlines())
    write_model_card(directory, metadata)  # back as the other tests expect


def test_snippets_run_and_apply_the_threshold(saved_model):
    directory, metadata, score = saved_model
    write_model_card(directory, metadata)
    plain, textsiam_way = python_blocks((directory / "README.md").read_text(encoding="utf-8"))
    assert len([line for line in plain.splitlines() if line.strip()]) == 5
    for block, expected in ((plain, f"{score:.4f} True"), (textsiam_way, "[1]")):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(block, {})  # noqa: S102 - the card's own snippet, run as a reader would
        output = printed.getvalue().strip()
        if block is plain:
            value, decision = output.split()
            output = f"{float(value):.4f} {decision}"
        assert output == expected


def test_card_without_readme_threshold_or_calibration(tmp_path: Path):
    write_model_card(tmp_path, {"similarity": "euclidean", "arch": "pseudo"})
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert card.startswith(BEGIN) and "no saved decision threshold" in card
    assert "calibration | none" in card and "task='text1'" in card and "task='text2'" in card
    assert "## Held-out metrics" not in card


def test_card_names_the_calibration_distance_the_dev_fit_chose():
    rows = calibration_rows({"w": 9.0, "b": 6.0, "similarity": "cosine", "distance": "unit-euclidean"})
    assert "d = √(2 − 2·cosine similarity), the euclidean distance of the unit-length embeddings" in rows[0]
    assert "d = −(euclidean similarity)" in calibration_rows({"w": 1.0, "b": 0.0, "similarity": "euclidean",
                                                              "distance": "negated-score"})[0]
