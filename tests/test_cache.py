"""The embedding cache: cached vectors equal fresh ones, interrupted runs resume, models never share."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from textsiam.cache import EmbeddingCache, embed_texts, model_fingerprint

from .test_deduplication import tiny_encoder, tiny_model


@pytest.fixture(scope="module")
def model():
    return tiny_model()


def test_cached_embeddings_equal_fresh_ones(tmp_path, model):
    texts = ["w1 w2", "w3 w4 w5", "w6", "Как дела", "如何"]
    cache = EmbeddingCache(tmp_path, model_fingerprint(model.encoder))
    fresh, n = embed_texts(model, texts, cache=cache, progress=False)
    cached, n_again = embed_texts(model, texts[::-1], cache=cache, progress=False)
    assert (n, n_again) == (5, 0)
    np.testing.assert_array_equal(cached, fresh[::-1])
    np.testing.assert_allclose(fresh, model.encode(texts), rtol=1e-5, atol=1e-6)


def test_texts_are_keyed_exactly_as_given(tmp_path):
    cased = tiny_model(case_sensitive=True)
    cache = EmbeddingCache(tmp_path, model_fingerprint(cased.encoder))
    first, _ = embed_texts(cased, ["Apple pie"], cache=cache, progress=False)
    second, encoded = embed_texts(cased, ["apple pie"], cache=cache, progress=False)
    assert encoded == 1 and not np.allclose(first, second)


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


def test_encoding_raises_no_warnings(tmp_path, model):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # sentence-transformers' FutureWarning on a renamed method, say
        embed_texts(model, ["w1 w2"], cache=EmbeddingCache(tmp_path, "fp"), progress=False)


def test_each_tower_gets_its_fastest_batch_size(model, tiny_bert_dir):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    from textsiam.model import BATCH_SIZES, SiameseModel
    from textsiam.towers import build_encoder

    tokenizer = Tokenizer(WordLevel({"[UNK]": 0, "a": 1}, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = Whitespace()
    static = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=8)], device="cpu")
    bert = build_encoder("bert", model_name=str(tiny_bert_dir))
    assert SiameseModel(static).batch_size == BATCH_SIZES["static"] == 1024
    assert SiameseModel(bert).batch_size == BATCH_SIZES["attention"] == 32
    assert model.batch_size == BATCH_SIZES["other"] == 64
