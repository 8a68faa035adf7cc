"""dedup and its parts, with a tiny word-vector model built in code (no downloads)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from textsiam.cache import EmbeddingCache, embed_texts, model_fingerprint
from textsiam.errors import TextsiamError
from textsiam.model import SiameseModel, load
from textsiam.search import Pairs, ann_pairs, cluster, dedup, exact_pairs, search_space

DIM = 64
WORDS = [f"w{i}" for i in range(40)]
# One-word texts c0..c4 lie on an arc 25 degrees apart: neighbours score cos 25 = 0.91, and the ends of the
# chain (100 degrees apart) are unrelated. Connected components chain them all; star clustering must not.
CHAIN = [f"c{i}" for i in range(5)]


def tiny_encoder():
    """Mean of fixed random word vectors: a word swap scores 1.0, unrelated texts score about 0."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, WordEmbeddings
    from sentence_transformers.sentence_transformer.modules.tokenizer import WhitespaceTokenizer

    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(1 + len(WORDS) + len(CHAIN), DIM)).astype(np.float32)
    vectors[0] = 0.0  # padding
    for i in range(len(CHAIN)):
        angle = np.deg2rad(25 * i)
        vectors[1 + len(WORDS) + i] = 0.0
        vectors[1 + len(WORDS) + i, :2] = np.cos(angle), np.sin(angle)
    tokenizer = WhitespaceTokenizer(vocab=["[PAD]", *WORDS, *CHAIN], stop_words=[], do_lower_case=True)
    embedding = WordEmbeddings(tokenizer, vectors, update_embeddings=False)
    return SentenceTransformer(modules=[embedding, Pooling(DIM, pooling_mode="mean")], device="cpu")


def tiny_model(threshold: float | None = 0.9) -> SiameseModel:
    return SiameseModel(tiny_encoder(), {"threshold": threshold} if threshold is not None else {})


def tiny_model_dir(path: Path, threshold: float | None = 0.9) -> Path:
    """A saved textsiam model directory (SentenceTransformer + textsiam.json with the threshold)."""
    tiny_model(threshold).save(path)
    return path


@pytest.fixture(scope="module")
def model() -> SiameseModel:
    return tiny_model()


def write_csv(path: Path, texts: list[str], column: str = "question") -> Path:
    pd.DataFrame({"id": range(len(texts)), column: texts}).to_csv(path, index=False)
    return path


TEXTS = [
    "w1 w2 w3 w4",  # 0
    "W1  w2 w3   w4",  # 1: exact duplicate of 0 after normalising case and spaces
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
    return summary, pd.read_csv(tmp_path / name / "pairs.csv"), pd.read_csv(tmp_path / name / "clusters.csv")


def test_dedup_collapses_exact_duplicates_and_keeps_every_row(tmp_path, model):
    summary, pairs, clusters = run(tmp_path, model)
    assert summary["rows"] == 8 and summary["rows_written"] == 8 and summary["rows_rejected"] == 0
    assert summary["unique_texts"] == 4  # rows 0/1/6, 2, 3, 7
    assert summary["texts_encoded"] == 4
    assert summary["empty_rows"] == 2
    assert summary["exact_duplicate_rows"] == 2
    assert list(pairs.columns) == ["row_a", "row_b", "score"]
    assert set(zip(pairs.row_a, pairs.row_b, strict=True)) == {(0, 1), (0, 6), (0, 2)}
    assert np.allclose(pairs.score, 1.0, atol=1e-5)
    # every input row, in order; 0, 1, 2, 6 together; empty rows each alone
    assert clusters.row.tolist() == list(range(8))
    c = clusters.set_index("row")
    assert len({c.cluster_id[r] for r in (0, 1, 2, 6)}) == 1
    assert c.cluster_size[0] == 4 and c.representative_row[2] == 0
    for row in (3, 4, 5, 7):
        assert c.cluster_size[row] == 1 and c.representative_row[row] == row
    assert c.cluster_id[4] != c.cluster_id[5]
    assert clusters.cluster_id.tolist() == [0, 0, 0, 1, 2, 3, 0, 4]  # numbered by first appearance
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["clusters"] == 5 and written["largest_cluster"] == 4
    assert set(written["seconds"]) >= {"read", "encode", "search", "cluster", "write"}
    assert written["peak_memory_mb"] > 0


def test_threshold_comes_from_the_model_dir_or_the_option(tmp_path):
    saved = tiny_model_dir(tmp_path / "m", threshold=0.9)
    summary, _, _ = run(tmp_path, str(saved))
    assert summary["threshold"] == pytest.approx(0.9)
    plain = tiny_model_dir(tmp_path / "plain", threshold=None)
    with pytest.raises(TextsiamError, match="--threshold"):
        run(tmp_path, str(plain), name="o2")
    summary, pairs, _ = run(tmp_path, str(plain), name="o3", threshold=-1.0)
    assert summary["near_pairs"] == 3 * 2  # every pair of the 4 unique texts
    assert not (tmp_path / "o2").exists()


def test_cache_second_run_encodes_nothing_and_grown_file_only_new_texts(tmp_path, model):
    first, _, _ = run(tmp_path, model, name="a")
    assert first["texts_encoded"] == 4
    again, _, _ = run(tmp_path, model, name="b")
    assert again["texts_encoded"] == 0 and again["texts_from_cache"] == 4
    grown, pairs, _ = run(tmp_path, model, texts=[*TEXTS, "w30 w31", "w31 w30", "w1 w2 w3 w4"], name="c")
    assert grown["texts_encoded"] == 2
    assert (8, 9) in set(zip(pairs.row_a, pairs.row_b, strict=True))
    nocache, _, _ = run(tmp_path, model, name="d", use_cache=False, cache_dir=tmp_path / "unused")
    assert nocache["texts_encoded"] == 4 and not (tmp_path / "unused").exists()


def test_cached_embeddings_equal_fresh_ones(tmp_path, model):
    texts = ["w1 w2", "w3 w4 w5", "w6"]
    cache = EmbeddingCache(tmp_path, model_fingerprint(model.encoder))
    fresh, n = embed_texts(model, texts, cache=cache, progress=False)
    cached, n_again = embed_texts(model, texts[::-1], cache=cache, progress=False)
    assert (n, n_again) == (3, 0)
    np.testing.assert_allclose(cached, fresh[::-1], rtol=1e-6)
    np.testing.assert_allclose(fresh, model.encode(texts), rtol=1e-5, atol=1e-6)


def test_interrupted_encoding_resumes_from_finished_shards(tmp_path, model):
    class Failing:
        """Encodes two shards, then fails like a killed process."""

        def __init__(self, inner):
            self.encoder, self.inner, self.calls = inner.encoder, inner, 0

        def encode(self, texts, **kwargs):
            self.calls += 1
            if self.calls > 2:
                raise KeyboardInterrupt
            return self.inner.encode(texts, **kwargs)

    texts = [f"w{i} w{i + 1}" for i in range(10)]
    cache = EmbeddingCache(tmp_path, model_fingerprint(model.encoder))
    with pytest.raises(KeyboardInterrupt):
        embed_texts(Failing(model), texts, cache=cache, shard_size=3, progress=False)
    assert len(cache.shards()) == 2
    (cache.folder / "shard-damaged.npz").write_bytes(b"PK\x03\x04 cut short")  # e.g. a full disk
    _, encoded = embed_texts(model, texts, cache=cache, shard_size=3, progress=False)
    assert encoded == 10 - 6
    assert not (cache.folder / "shard-damaged.npz").exists()


def test_fingerprint_changes_with_the_weights(model):
    other = tiny_encoder()
    assert model_fingerprint(other) == model_fingerprint(model.encoder)
    other[0].emb_layer.weight.data[1, 0] += 1.0
    assert model_fingerprint(other) != model_fingerprint(model.encoder)


def brute_force(x: np.ndarray, threshold: float, metric: str = "cosine") -> set[tuple[int, int]]:
    """Every pair at or above the threshold, from the full matrix (fine for a test's few hundred rows)."""
    if metric == "euclidean":
        scores = -np.linalg.norm(x[:, None] - x[None], axis=2)
    else:
        scores = x @ x.T
    a, b = np.nonzero(np.triu(scores >= threshold, k=1))
    return set(zip(a.tolist(), b.tolist(), strict=True))


def planted(n: int = 1500, copies: int = 300, dim: int = 32, seed: int = 0) -> np.ndarray:
    """Random unit vectors plus noisy copies of some of them: known near-duplicate pairs."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(n, dim))
    noisy = base[rng.choice(n, copies, replace=False)] + rng.normal(scale=0.15, size=(copies, dim))
    return search_space(np.vstack([base, noisy]).astype(np.float32), "cosine")


def pair_set(pairs: Pairs) -> set[tuple[int, int]]:
    return set(zip(pairs.a.tolist(), pairs.b.tolist(), strict=True))


def test_exact_search_equals_brute_force_without_a_full_matrix():
    x = planted()
    truth = brute_force(x, 0.9)
    assert len(truth) >= 250
    found = exact_pairs(x, "cosine", 0.9, top_k=10, progress=False)
    assert pair_set(found) == truth
    assert np.all(found.a < found.b) and np.all(found.score >= 0.9)
    np.testing.assert_allclose(found.score, np.einsum("ij,ij->i", x[found.a], x[found.b]), atol=1e-5)


def test_exact_search_with_a_distance_model():
    x = planted(n=300, copies=100) * 3  # not unit length: euclidean scores are negative distances
    truth = brute_force(x, -1.5, metric="euclidean")
    found = exact_pairs(x, "euclidean", -1.5, top_k=20, progress=False)
    assert pair_set(found) == truth and len(truth) > 0
    assert np.all(found.score <= 0)


def test_ann_search_agrees_with_exact():
    x = planted()
    exact = pair_set(exact_pairs(x, "cosine", 0.9, top_k=10, progress=False))
    approx = ann_pairs(x, "cosine", 0.9, top_k=10, progress=False)
    assert len(pair_set(approx) & exact) / len(exact) >= 0.98
    assert pair_set(approx) <= exact  # re-scored exactly: nothing below the threshold
    assert np.all(approx.score >= 0.9)


def test_star_clustering_breaks_a_chain_that_components_merge():
    chain = Pairs(np.array([0, 1, 2, 3]), np.array([1, 2, 3, 4]), np.full(4, 0.91, dtype=np.float32))
    labels, rep = cluster(6, chain, "components")
    assert len(set(labels[:5])) == 1 and labels[5] != labels[0]
    labels, rep = cluster(6, chain, "star")
    assert len(set(labels[:5])) == 2
    edges = pair_set(chain) | {(b, a) for a, b in pair_set(chain)}
    for node in range(5):  # every member is its representative or a direct match of it
        assert rep[node] == node or (node, rep[node]) in edges


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
    found = set(zip(ann.row_a, ann.row_b, strict=True))
    truth = set(zip(exact.row_a, exact.row_b, strict=True))
    assert len(found & truth) / len(truth) >= 0.98 and found <= truth


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
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "header.csv", "in.csv", "ragged.csv"]
    (tmp_path / "o").mkdir()
    with pytest.raises(TextsiamError, match="--overwrite"):
        dedup(data, "question", model, output_dir=tmp_path / "o", progress=False)
    dedup(data, "question", model, output_dir=tmp_path / "o", overwrite=True, progress=False,
          cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["clusters.csv", "pairs.csv", "summary.json"]


def test_all_rows_empty_still_writes_every_row(tmp_path, model):
    summary, pairs, clusters = run(tmp_path, model, texts=["", " ", ""])
    assert summary["unique_texts"] == 0 and summary["empty_rows"] == 3
    assert len(pairs) == 0 and clusters.cluster_id.tolist() == [0, 1, 2]


def test_loaded_model_dir_gives_the_same_embeddings(tmp_path, model):
    loaded = load(tiny_model_dir(tmp_path / "m"))
    np.testing.assert_allclose(loaded.encode(["w1 w2"]), model.encode(["w1 w2"]), rtol=1e-6)
    assert model_fingerprint(loaded.encoder) == model_fingerprint(model.encoder)
