"""The dedup job end to end, with tiny word-vector models built in code (no downloads)."""

from __future__ import annotations

import importlib
import json
import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textsiam.deduplication import collapse, dedup
from textsiam.errors import TextsiamError
from textsiam.model import SiameseModel, load

DIM = 64
WORDS = [f"w{i}" for i in range(40)]
# One-word texts c0..c4 lie on an arc 25 degrees apart: neighbours score cos 25 = 0.91, and the ends of the
# chain (100 degrees apart) are unrelated. Connected components chain them all; star clustering must not.
CHAIN = [f"c{i}" for i in range(5)]
# Words whose vectors differ by case ("Apple" is not "apple") and non-Latin words, for the case-sensitive model.
CASED = ["Apple", "apple", "Pie", "pie", "tart", "Как", "как", "дела", "如何", "学习"]


def tiny_encoder(*, case_sensitive: bool = False):
    """Mean of fixed random word vectors: a word swap scores 1.0, unrelated texts score about 0.

    Words outside the vocabulary are dropped, so a text of only unknown words gets a zero vector.
    """
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, WordEmbeddings
    from sentence_transformers.sentence_transformer.modules.tokenizer import WhitespaceTokenizer

    vocab = ["[PAD]", *WORDS, *CHAIN, *(CASED if case_sensitive else [])]
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(vocab), DIM)).astype(np.float32)
    vectors[0] = 0.0  # padding
    for i in range(len(CHAIN)):
        angle = np.deg2rad(25 * i)
        vectors[1 + len(WORDS) + i] = 0.0
        vectors[1 + len(WORDS) + i, :2] = np.cos(angle), np.sin(angle)
    tokenizer = WhitespaceTokenizer(vocab=vocab, stop_words=[], do_lower_case=not case_sensitive)
    embedding = WordEmbeddings(tokenizer, vectors, update_embeddings=False)
    return SentenceTransformer(modules=[embedding, Pooling(DIM, pooling_mode="mean")], device="cpu")


def tiny_model(threshold: float | None = 0.9, **kwargs) -> SiameseModel:
    return SiameseModel(tiny_encoder(**kwargs), {"threshold": threshold} if threshold is not None else {})


def tiny_model_dir(path: Path, threshold: float | None = 0.9) -> Path:
    """A saved textsiam model directory (SentenceTransformer + textsiam.json with the threshold)."""
    tiny_model(threshold).save(path)
    return path


@pytest.fixture(scope="module")
def model() -> SiameseModel:
    return tiny_model()


def write_csv(path: Path, texts: list[str], column: str = "question") -> Path:
    pd.DataFrame({"id": [f"q{i}" for i in range(len(texts))], column: texts}).to_csv(path, index=False)
    return path


TEXTS = [
    "w1 w2 w3 w4",  # 0
    "W1  w2 w3   w4",  # 1: exact duplicate of 0 (same duplicate_key: case and spaces)
    "w4 w3 w2 w1",  # 2: same words, other order -> near duplicate of 0 (score 1.0)
    "w7 w8 w9 w10",  # 3: unrelated
    "",  # 4: empty
    "   ",  # 5: empty
    "w1 w2 w3 w4",  # 6: exact duplicate of 0
    "w20 w21 w22",  # 7: unrelated
]


def run(tmp_path: Path, model, texts=TEXTS, name="out", **kwargs) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    data = write_csv(tmp_path / f"{name}.csv", texts)
    kwargs.setdefault("cache_dir", tmp_path / "cache")
    summary = dedup(data, "question", model, output_dir=tmp_path / name, progress=False, **kwargs)
    read = {"keep_default_na": False, "dtype": {"text_a": str, "text_b": str, "text": str,
                                                 "representative_text": str}}
    return (summary, pd.read_csv(tmp_path / name / "pairs.csv", **read),
            pd.read_csv(tmp_path / name / "clusters.csv", **read))


def pair_set(pairs: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(pairs.row_a.tolist(), pairs.row_b.tolist(), strict=True))


def test_dedup_collapses_exact_duplicates_and_keeps_every_row(tmp_path, model):
    summary, pairs, clusters = run(tmp_path, model)
    assert summary["unique_texts"] == 4  # rows 0/1/6, 2, 3, 7
    assert summary["texts_encoded"] == 4
    assert summary["exact_duplicate_rows"] == 2
    assert pair_set(pairs) == {(0, 1), (0, 6), (0, 2)}
    assert pairs.set_index("row_b").exact.to_dict() == {1: True, 2: False, 6: True}
    assert np.allclose(pairs.score, 1.0, atol=1e-5)
    # every input row, in order; 0, 1, 2, 6 together; empty rows each alone
    assert clusters.row.tolist() == list(range(8))
    c = clusters.set_index("row")
    assert len({c.cluster_id[r] for r in (0, 1, 2, 6)}) == 1
    assert c.cluster_size[0] == 4 and c.representative_row[2] == 0
    for row in (3, 4, 5, 7):
        assert c.cluster_size[row] == 1 and c.representative_row[row] == row
    assert clusters.cluster_id.tolist() == [0, 0, 0, 1, 2, 3, 0, 4]  # numbered by first appearance
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["clusters"] == 5 and written["largest_cluster"] == 4
    assert set(written["seconds"]) >= {"read", "encode", "search", "cluster", "write"}
    assert written["rows_per_second"] > 0


def test_outputs_carry_texts_representative_texts_and_ids(tmp_path, model):
    _, pairs, clusters = run(tmp_path, model)
    assert list(pairs.columns) == ["row_a", "row_b", "id_a", "id_b", "score", "exact", "text_a", "text_b"]
    first = pairs.set_index("row_b").loc[1]
    assert (first.id_a, first.id_b, first.text_a, first.text_b) == ("q0", "q1", "w1 w2 w3 w4", "W1  w2 w3   w4")
    assert list(clusters.columns) == ["row", "id", "cluster_id", "cluster_size", "representative_row", "text",
                                      "representative_text"]
    assert clusters.text.tolist() == TEXTS  # as in the file
    assert clusters.representative_text[2] == "w1 w2 w3 w4" and clusters.representative_text[3] == TEXTS[3]
    assert clusters.id.tolist() == [f"q{i}" for i in range(8)]


def test_id_columns_chosen_by_name_or_none(tmp_path, model):
    path = tmp_path / "ids.csv"
    pd.DataFrame({"qid": ["a", "b"], "source": ["x", "y"], "text": ["w1 w2", "w2 w1"]}).to_csv(path, index=False)
    dedup(path, None, model, output_dir=tmp_path / "auto", progress=False, use_cache=False)
    assert list(pd.read_csv(tmp_path / "auto" / "pairs.csv").columns[:4]) == ["row_a", "row_b", "qid_a", "qid_b"]
    dedup(path, "text", model, output_dir=tmp_path / "two", id_columns=["SOURCE", "qid"], progress=False,
          use_cache=False)
    assert list(pd.read_csv(tmp_path / "two" / "clusters.csv").columns[:3]) == ["row", "source", "qid"]
    dedup(path, "text", model, output_dir=tmp_path / "none", id_columns=[], progress=False, use_cache=False)
    assert pd.read_csv(tmp_path / "none" / "clusters.csv").columns[1] == "cluster_id"
    with pytest.raises(TextsiamError, match=r"no column 'sorce' \(--id-column\).*Did you mean 'source'"):
        dedup(path, "text", model, output_dir=tmp_path / "bad", id_columns=["sorce"], progress=False)


def test_scores_are_the_models_scores_of_the_raw_texts(tmp_path):
    """Issue 9 #4: dedup encodes each text as the user wrote it (a case-sensitive model sees the case)."""
    cased = tiny_model(threshold=-1.0, case_sensitive=True)
    texts = ["Apple Pie", "apple pie", "Apple tart", "Как дела", "как дела", "如何 学习", "学习 如何"]
    summary, pairs, _ = run(tmp_path, cased, texts=texts)
    assert summary["unique_texts"] == 5  # rows 0/1 and 3/4 are exact duplicates; 5 and 6 are not
    near = pairs[~pairs.exact]
    expected = cased.score(near.text_a.tolist(), near.text_b.tolist())
    np.testing.assert_allclose(near.score, expected, atol=1e-5)
    by_pair = near.set_index(["row_a", "row_b"]).score
    assert by_pair[(0, 2)] == pytest.approx(cased.score(["Apple Pie"], ["Apple tart"])[0], abs=1e-5)
    assert by_pair[(5, 6)] == pytest.approx(1.0, abs=1e-5)  # Chinese words swapped: same mean vector
    assert set(pairs[pairs.exact].row_b) == {1, 4}


def test_counts_say_what_happened_to_every_row(tmp_path, model, caplog):
    """Issue 9 #7: rows read, written and rejected are counted, not constants."""
    texts = [*TEXTS, "zz unknown words", "w5 w6"]  # row 8: no known word -> zero vector -> cannot be scored
    textsiam_logger = logging.getLogger("textsiam")
    textsiam_logger.addHandler(caplog.handler)  # the CLI tests stop it propagating to the root logger
    try:
        summary, pairs, clusters = run(tmp_path, model, texts=texts)
    finally:
        textsiam_logger.removeHandler(caplog.handler)
    assert "1 distinct text(s) got no usable vector from the model (first at row 8)" in caplog.text
    assert summary["rows_read"] == 10 and summary["rows_written"] == len(clusters) == 10
    assert summary["rows_rejected"] == 3  # two empty texts and one the model cannot embed
    assert (summary["empty_rows"], summary["unscorable_rows"], summary["unscorable_texts"]) == (2, 1, 1)
    assert 8 not in set(pairs.row_a) | set(pairs.row_b)
    assert clusters.cluster_size[8] == 1


def test_threshold_comes_from_the_model_dir_or_the_option(tmp_path):
    saved = tiny_model_dir(tmp_path / "m", threshold=0.9)
    summary, _, _ = run(tmp_path, str(saved))
    assert summary["threshold"] == pytest.approx(0.9)
    plain = tiny_model_dir(tmp_path / "plain", threshold=None)
    with pytest.raises(TextsiamError, match="--threshold"):
        run(tmp_path, str(plain), name="o2")
    summary, _, _ = run(tmp_path, str(plain), name="o3", threshold=-1.0)
    assert summary["near_pairs"] == 3 * 2  # every pair of the 4 distinct texts
    assert not (tmp_path / "o2").exists()


def test_cache_second_run_encodes_nothing_and_grown_file_only_new_texts(tmp_path, model):
    first, _, _ = run(tmp_path, model, name="a")
    assert first["texts_encoded"] == 4
    again, _, _ = run(tmp_path, model, name="b")
    assert again["texts_encoded"] == 0 and again["texts_from_cache"] == 4
    grown, pairs, _ = run(tmp_path, model, texts=[*TEXTS, "w30 w31", "w31 w30", "w1 w2 w3 w4"], name="c")
    assert grown["texts_encoded"] == 2
    assert (8, 9) in pair_set(pairs)
    nocache, _, _ = run(tmp_path, model, name="d", use_cache=False, cache_dir=tmp_path / "unused")
    assert nocache["texts_encoded"] == 4 and not (tmp_path / "unused").exists()


def test_a_text_with_150_near_duplicates_keeps_every_pair(tmp_path, model):
    rng = np.random.default_rng(0)
    words = WORDS[:6]
    texts = list(dict.fromkeys(" ".join(rng.permutation(words)) for _ in range(3000)))[:151]
    assert len(texts) == 151  # distinct orders of the same words: every pair scores 1.0
    for method in ("exact", "ann"):
        summary, pairs, clusters = run(tmp_path, model, texts=texts, name=method, method=method)
        assert summary["search"] == method
        assert summary["near_pairs"] == 151 * 150 // 2
        assert clusters.cluster_size.tolist() == [151] * 151


def test_dedup_star_versus_components_on_a_chain(tmp_path, model):
    texts = [*CHAIN, "w1 w2"]
    _, _, star = run(tmp_path, model, texts=texts, name="star", threshold=0.85)
    _, _, comp = run(tmp_path, model, texts=texts, name="comp", threshold=0.85, clustering="components")
    assert comp.cluster_size.tolist() == [5, 5, 5, 5, 5, 1]
    assert star.cluster_size.max() == 3


def test_dedup_ann_method_matches_exact(tmp_path, model):
    rng = np.random.default_rng(1)
    texts = [" ".join(rng.choice(WORDS, size=4, replace=False)) for _ in range(300)]
    _, exact, _ = run(tmp_path, model, texts=texts, name="exact", method="exact", threshold=0.8)
    summary, ann, _ = run(tmp_path, model, texts=texts, name="ann", method="ann", threshold=0.8)
    assert summary["search"] == "ann" and len(exact) > 0
    found, truth = pair_set(ann), pair_set(exact)
    assert len(found & truth) / len(truth) >= 0.98 and found <= truth


def test_collapse_groups_on_the_duplicate_key_and_keeps_the_first_text():
    groups = collapse(pd.Series(["  Как Дела ", "как  дела", "", "ＡＢＣ", "abc", "x"], name="t"))
    assert groups.texts == ["Как Дела", "ＡＢＣ", "x"]  # cleaned first rows, case and width kept
    assert groups.uid.tolist() == [0, 0, -1, 1, 1, 2]
    assert groups.first_row.tolist() == [0, 3, 5]


def test_errors_are_one_clear_message_and_leave_nothing(tmp_path, model):
    data = write_csv(tmp_path / "in.csv", TEXTS)
    with pytest.raises(TextsiamError, match=r"no column 'questoin'.*Did you mean 'question'"):
        dedup(data, "questoin", model, output_dir=tmp_path / "o", progress=False)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(TextsiamError, match="empty"):
        dedup(tmp_path / "empty.csv", "question", model, output_dir=tmp_path / "o", progress=False)
    (tmp_path / "header.csv").write_text("question\n")
    with pytest.raises(TextsiamError, match="no data rows"):
        dedup(tmp_path / "header.csv", "question", model, output_dir=tmp_path / "o", progress=False)
    (tmp_path / "ragged.csv").write_text('id,question\n1,"a b"\n2,c,d,e\n')
    with pytest.raises(TextsiamError, match="ragged.csv.*line 3"):
        dedup(tmp_path / "ragged.csv", "question", model, output_dir=tmp_path / "o", progress=False)
    with pytest.raises(TextsiamError, match="--clustering"):
        dedup(data, "question", model, output_dir=tmp_path / "o", clustering="louvain", progress=False)
    with pytest.raises(TextsiamError, match="both the text column and an --id-column"):
        dedup(data, "question", model, output_dir=tmp_path / "o", id_columns=["question"], progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "header.csv", "in.csv", "ragged.csv"]
    (tmp_path / "o").mkdir()
    with pytest.raises(TextsiamError, match="--overwrite"):
        dedup(data, "question", model, output_dir=tmp_path / "o", progress=False)
    dedup(data, "question", model, output_dir=tmp_path / "o", overwrite=True, progress=False,
          cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["clusters.csv", "pairs.csv", "summary.json"]


def test_all_rows_empty_still_writes_every_row(tmp_path, model):
    summary, pairs, clusters = run(tmp_path, model, texts=["", " ", ""])
    assert summary["unique_texts"] == 0 and summary["rows_rejected"] == 3
    assert len(pairs) == 0 and clusters.cluster_id.tolist() == [0, 1, 2]


def test_loaded_model_dir_gives_the_same_pairs(tmp_path, model):
    _, direct, _ = run(tmp_path, model, name="direct")
    _, loaded, _ = run(tmp_path, load(tiny_model_dir(tmp_path / "m")), name="loaded")
    pd.testing.assert_frame_equal(direct, loaded)


def test_texts_with_quotes_commas_and_line_breaks_survive_the_csv(tmp_path, model):
    texts = ['say "w1", w2', "w2\nw1 say", "Как, w1 дела?"]  # unknown words are dropped
    _, pairs, clusters = run(tmp_path, model, texts=texts, threshold=-1.0)
    assert clusters.text.tolist() == texts
    assert set(zip(pairs.text_a, pairs.text_b, strict=True)) == {(texts[0], texts[1]), (texts[0], texts[2]),
                                                                 (texts[1], texts[2])}


def test_outputs_written_in_chunks_equal_one_piece(tmp_path, model, monkeypatch):
    _, pairs, clusters = run(tmp_path, model, name="whole")
    monkeypatch.setattr(importlib.import_module("textsiam.deduplication"), "WRITE_CHUNK", 2)
    _, pairs_chunked, clusters_chunked = run(tmp_path, model, name="chunked")
    pd.testing.assert_frame_equal(pairs, pairs_chunked)
    pd.testing.assert_frame_equal(clusters, clusters_chunked)


def test_top_level_dedup_stays_the_function():
    """The public textsiam.dedup is the function, whatever was imported before (no module of that name)."""
    code = ("import textsiam.cli.dedup, textsiam; from textsiam.deduplication import dedup; "
            "assert textsiam.dedup is dedup")
    subprocess.run([sys.executable, "-c", code], check=True)
