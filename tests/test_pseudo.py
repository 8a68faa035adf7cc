"""Pseudo-siamese (one tower per side, a sentence-transformers Router) end to end, and QA file formats."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer

import textsiam
from textsiam.data import read_pairs
from textsiam.losses import LossSpec, training_rows
from textsiam.splits import grouped_split
from textsiam.training import TrainConfig, train

from .conftest import shared_file

TINY_LSTM = {"embedding_dim": 16, "hidden_dim": 16}


def tiny_pseudo(data: Path, output: Path, **overrides) -> TrainConfig:
    options = dict(data=str(data), output=str(output), tower="lstm", arch="pseudo", epochs=1, batch_size=16,
                   seed=3, dev_fraction=0.2, test_fraction=0.2, extra=TINY_LSTM)
    options.update(overrides)
    return TrainConfig(**options)


def test_pseudo_model_loads_in_plain_sentence_transformers_with_one_route_per_side(pairs_csv: Path,
                                                                                     tmp_path: Path):
    output = tmp_path / "pseudo"
    model = train(tiny_pseudo(pairs_csv, output, epochs=2))
    meta = json.loads((output / "textsiam.json").read_text())
    assert meta["arch"] == "pseudo"
    plain = SentenceTransformer(str(output), trust_remote_code=False)
    text = ["how do i learn python"]
    e1, e2 = plain.encode(text, task="text1"), plain.encode(text, task="text2")
    assert e1.shape == e2.shape == (1, 32)
    assert not np.allclose(e1, e2, atol=1e-4)  # two towers: the same text embeds differently per side
    assert np.allclose(plain.encode(text), e1, atol=1e-6)  # default route is text1
    loaded = textsiam.load(output)
    assert loaded.is_pseudo
    assert np.allclose(loaded.encode(text, side="text2"), e2, atol=1e-5)
    # score() sends text1 through route text1 and text2 through route text2.
    expected = plain.similarity_pairwise(plain.encode(text, task="text1", convert_to_tensor=True),
                                         plain.encode(["how can i get good at python"], task="text2",
                                                      convert_to_tensor=True)).numpy()
    assert np.allclose(loaded.score(text, ["how can i get good at python"]), expected, atol=1e-5)
    assert np.allclose(model.score(text, ["how can i get good at python"]), expected, atol=1e-5)


@pytest.mark.parametrize("loss, distance", [("contrastive", "cosine"), ("online-contrastive", "euclidean"),
                                            ("triplet", "cosine"), ("batch-hard-triplet", "euclidean"),
                                            ("cosine", "cosine"), ("in-batch-negatives", "cosine"),
                                            ("cosent", "cosine"), ("bce", "manhattan")])
def test_every_loss_trains_with_pseudo(pairs_csv: Path, tmp_path: Path, loss: str, distance: str):
    model = train(tiny_pseudo(pairs_csv, tmp_path / "m", loss=loss, distance=distance))
    assert model.metadata["arch"] == "pseudo" and model.metadata["loss"] == loss
    test = model.metadata["metrics"]["test"]
    assert test["n"] == len(model.metadata["split"]["test"]) and np.isfinite(test["roc_auc"])
    assert model.encoder.similarity_fn_name == model.metadata["similarity"]


def test_pseudo_bert_towers_are_separate_copies(tiny_bert_dir: Path, pairs_csv: Path, tmp_path: Path):
    model = train(TrainConfig(data=str(pairs_csv), output=str(tmp_path / "b"), tower="bert", arch="pseudo",
                              model=str(tiny_bert_dir), epochs=1, batch_size=16, learning_rate=1e-3, seed=0,
                              dev_fraction=0.2, test_fraction=0.2, loss="in-batch-negatives"))
    router = model.encoder[0]
    first, second = (dict(router.sub_modules[side].named_parameters()) for side in ("text1", "text2"))
    assert first.keys() == second.keys()
    assert not all(p1.data_ptr() == second[name].data_ptr() for name, p1 in first.items())
    # Trained from the same start, the two towers have moved apart.
    assert any(not np.allclose(p1.detach().numpy(), second[name].detach().numpy()) for name, p1 in first.items())


def test_asymmetric_triplets_keep_the_question_as_anchor():
    pairs = pd.DataFrame({"text1": ["q1", "q1", "q2", "q2"], "text2": ["a1", "b1", "a2", "b2"],
                          "label": [1, 0, 1, 0]})
    rows = training_rows(pairs, LossSpec("in-batch-negatives"), symmetric=False).to_pandas()
    assert rows.to_dict("records") == [{"anchor": "q1", "positive": "a1", "negative": "b1"},
                                       {"anchor": "q2", "positive": "a2", "negative": "b2"}]
    assert len(training_rows(pairs, LossSpec("in-batch-negatives"))) == 4  # siamese: both sides anchor


def _gz(path: Path, text: str) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    return path


def test_wikiqa_release_tsv_reads_with_question_id_as_group(tmp_path: Path):
    header = "QuestionID\tQuestion\tDocumentID\tDocumentTitle\tSentenceID\tSentence\tLabel\n"
    body = ("Q1\thow are caves formed?\tD1\tCave\tD1-0\tA cave forms by erosion .\t1\n"
            "Q1\thow are caves formed?\tD1\tCave\tD1-1\tCaves are dark .\t0\n"
            "Q2\twho wrote hamlet?\tD2\tHamlet\tD2-0\tHamlet is a tragedy .\t0\n")
    pairs = read_pairs(_gz(tmp_path / "WikiQA-dev.tsv.gz", header + body))
    assert pairs["text1"].tolist() == ["how are caves formed?"] * 2 + ["who wrote hamlet?"]
    assert pairs["text2"].tolist()[0] == "A cave forms by erosion ."
    assert pairs["label"].tolist() == [1, 0, 0]
    assert pairs["group"].tolist() == ["Q1", "Q1", "Q2"]


def test_wikiqa_sent_headerless_reads_and_splits_grouped_by_question(tmp_path: Path):
    lines = [f"question {q} ?\tsentence {q} {s} .\t{int(s == 0)}\n" for q in range(30) for s in range(4)]
    pairs = read_pairs(_gz(tmp_path / "WikiQASent-train.txt.gz", "".join(lines)))
    assert len(pairs) == 120 and pairs["label"].sum() == 30
    assert pairs.loc[0, ["text1", "text2"]].tolist() == ["question 0 ?", "sentence 0 0 ."]
    split = grouped_split(pairs, seed=1, dev_fraction=0.2, test_fraction=0.2)
    assert pairs.assign(split=split).groupby("text1")["split"].nunique().max() == 1
    assert {"train", "dev", "test"} == set(split)


def test_shared_wikiqa_files_read():
    tsv = read_pairs(shared_file("wikiqa/WikiQA-test.tsv.gz"))
    assert len(tsv) == 6165 and tsv["group"].nunique() == 633 and int(tsv["label"].sum()) == 293
    sent = read_pairs(shared_file("wikiqa/WikiQASent-train.txt.gz"))
    assert len(sent) == 20360 and int(sent["label"].sum()) == 1040
