"""Towers: static (from scratch and distilled) and subword lstm on any script; unencodable texts are found."""

from __future__ import annotations

import logging
from unittest.mock import Mock

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer import losses
from sentence_transformers.sentence_transformer.modules import StaticEmbedding

from textsiam.errors import TextsiamError
from textsiam.towers import (
    build_encoder,
    learn_tokenizer,
    static_modules,
    tokenize_once,
    unencodable,
    warn_unencodable,
)

CHINESE = ["如何学习Python？", "怎样学好Python编程", "北京今天的天气怎么样", "今天北京天气如何", "这部电影好看吗"]
CYRILLIC = ["Как выучить Python?", "Как лучше изучать Python", "Какая погода в Москве", "Погода в Москве сегодня"]
OTHERS = ["Café crème naïve résumé", "How do I learn Python?", "I love pizza 🍕🍕", "¿Dónde está la estación?"]
TEXTS = CHINESE + CYRILLIC + OTHERS


def train_one_step(encoder: SentenceTransformer) -> None:
    """One optimiser step of the contrastive loss on a Chinese and a Cyrillic pair (the loss must move weights)."""
    loss = losses.ContrastiveLoss(encoder)
    features = [encoder.preprocess([CHINESE[0], CYRILLIC[0], CHINESE[0]]),
                encoder.preprocess([CHINESE[1], CYRILLIC[2], CHINESE[2]])]
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.5)
    before = [p.detach().clone() for p in encoder.parameters()]
    loss(features, torch.tensor([1, 0, 0])).backward()
    optimizer.step()
    assert any(not torch.equal(b, p) for b, p in zip(before, encoder.parameters(), strict=True))


def test_learnt_tokenizer_splits_chinese_into_known_characters_and_keeps_accents_and_emoji():
    tokenizer = learn_tokenizer(TEXTS * 3, vocab_size=300)
    tokens = tokenizer.encode("如何学习Python？").tokens
    assert tokens[:4] == ["如", "何", "学", "习"] and "[UNK]" not in tokens
    assert "é" in "".join(tokenizer.encode("café").tokens)
    assert tokenizer.encode("🍕").tokens == ["🍕"]
    assert tokenizer.encode("ⴰⵣⵓⵍ").tokens == ["[UNK]"]  # a script never seen in training


@pytest.mark.parametrize("kind", ["wordpiece", "bpe", "unigram"])
def test_every_tokenizer_kind_truncates(kind):
    tokenizer = learn_tokenizer(TEXTS * 3, kind=kind, vocab_size=200, max_length=5)
    assert len(tokenizer.encode(" ".join(CHINESE)).ids) == 5


@pytest.mark.parametrize("tower", ["static", "lstm"])
def test_tower_from_scratch_on_chinese_and_cyrillic_trains_saves_and_reloads_in_plain_sentence_transformers(
        tmp_path, tower):
    encoder = build_encoder(tower, model_name=None, train_texts=(TEXTS[::2], TEXTS[1::2]),
                            vocab_size=300, embedding_dim=16)
    train_one_step(encoder)
    encoder.save(str(tmp_path / "model"), safe_serialization=True)
    reloaded = SentenceTransformer(str(tmp_path / "model"), device="cpu", trust_remote_code=False)
    expected = encoder.encode(TEXTS, convert_to_numpy=True)
    np.testing.assert_allclose(reloaded.encode(TEXTS, convert_to_numpy=True), expected, atol=1e-6)
    assert np.isfinite(expected).all() and (np.linalg.norm(expected, axis=1) > 0).all()
    # different Chinese questions get different vectors: the tower reads characters, not one unknown "word"
    assert np.abs(expected[0] - expected[2]).max() > 1e-4


def test_while_training_the_static_tower_tokenizes_each_text_once_and_saves_its_real_tokenizer(tmp_path):
    encoder = build_encoder("static", train_texts=(TEXTS[::2], TEXTS[1::2]), vocab_size=300, embedding_dim=16)
    static = encoder[0]
    tokenizer = static.tokenizer
    expected = encoder.encode(TEXTS, convert_to_numpy=True)
    with tokenize_once(encoder):
        counting = static.tokenizer.tokenizer = Mock(wraps=tokenizer)  # the real tokenizer, its calls recorded
        first = encoder.encode(TEXTS + TEXTS[:3], convert_to_numpy=True)
        second = encoder.encode(TEXTS[::-1], convert_to_numpy=True)
        static.tokenizer.tokenizer = tokenizer
        encoder.save(str(tmp_path / "model"))
    assert static.tokenizer is tokenizer  # the real tokenizer is back after training
    calls = [list(call.args[0]) for call in counting.encode_batch.call_args_list]
    assert len(calls) == 1 and sorted(calls[0]) == sorted(TEXTS)  # each distinct text once, never again
    np.testing.assert_allclose(first[: len(TEXTS)], expected, atol=1e-6)
    np.testing.assert_allclose(second, expected[::-1], atol=1e-6)
    reloaded = SentenceTransformer(str(tmp_path / "model"), device="cpu")
    np.testing.assert_allclose(reloaded.encode(TEXTS, convert_to_numpy=True), expected, atol=1e-6)


def test_a_loaded_subword_lstm_tokenizes_with_rust_and_encodes_as_plain_sentence_transformers(tmp_path):
    import textsiam

    encoder = build_encoder("lstm", train_texts=(TEXTS[::2], TEXTS[1::2]), vocab_size=300, embedding_dim=8)
    encoder.save(str(tmp_path / "model"))
    plain = SentenceTransformer(str(tmp_path / "model"), device="cpu")
    loaded = textsiam.load(tmp_path / "model").encoder
    wrapper = loaded[0].tokenizer
    assert "tokenize" in vars(wrapper)  # the instance's Rust call, not the class's transformers call
    for text in [*TEXTS, "", "ⴰⵣⵓⵍ"]:
        assert wrapper.tokenize(text) == plain[0].tokenizer.tokenize(text)
    np.testing.assert_allclose(loaded.encode(TEXTS), plain.encode(TEXTS), atol=1e-6)


def test_lstm_gives_identical_unknown_or_empty_texts_a_real_vector_and_similarity_one():
    encoder = build_encoder("lstm", train_texts=(CYRILLIC, CYRILLIC[::-1]), vocab_size=200, embedding_dim=8)
    embeddings = encoder.encode(["如何学习？", "如何学习？", "", ""], convert_to_tensor=True)
    assert torch.isfinite(embeddings).all()
    assert encoder.similarity_pairwise(embeddings[[0, 2]], embeddings[[1, 3]]).min() > 0.999


def test_the_whitespace_word_lstm_pools_by_the_mean_so_a_text_with_no_known_word_stays_finite():
    encoder = build_encoder("lstm", arch="pseudo", train_texts=(OTHERS, OTHERS[::-1]), embedding_dim=8)
    embeddings = encoder.encode(["", "如何学习", "How do I learn Python?"], task="text1", convert_to_tensor=True)
    assert torch.isfinite(embeddings).all()
    with pytest.raises(TextsiamError, match="max pooling needs the subword lstm"):
        build_encoder("lstm", arch="pseudo", train_texts=(OTHERS, OTHERS), embedding_dim=8, pooling="max")


def test_all_unknown_text_gives_a_finite_vector_and_a_warning_naming_its_row(caplog):
    encoder = build_encoder("static", train_texts=(CYRILLIC, CYRILLIC[::-1]), vocab_size=200, embedding_dim=8)
    texts = ["Как выучить Python?", "如何学习", "", "Погода в Москве"]
    embeddings = encoder.encode(texts, convert_to_numpy=True)
    assert np.isfinite(embeddings).all()
    assert np.linalg.norm(embeddings[1]) > 0  # unknown characters share the [UNK] vector, never NaN
    with caplog.at_level(logging.WARNING, logger="textsiam"):
        assert warn_unencodable(encoder, texts, rows=[10, 11, 12, 13], source="pairs.csv") == [1, 2]
    assert "pairs.csv" in caplog.text and "rows 11, 12" in caplog.text


def test_unencodable_for_the_subword_lstm_ignores_its_begin_token():
    encoder = build_encoder("lstm", train_texts=(CYRILLIC, CYRILLIC), vocab_size=200, embedding_dim=8)
    assert unencodable(encoder, ["Москва", "🙂🙂", "", "Москва 🙂"]) == [1, 2]


def test_static_distilled_from_a_sentence_transformer_fine_tunes_and_reloads(tmp_path, tiny_bert_dir):
    pytest.importorskip("model2vec")
    [static] = static_modules([], model_name=str(tiny_bert_dir), embedding_dim=8)
    encoder = SentenceTransformer(modules=[static], device="cpu")
    texts = ["how do i learn python", "what is the best way to learn java"]
    assert encoder.encode(texts, convert_to_numpy=True).shape == (2, static.embedding_dim)
    loss = losses.OnlineContrastiveLoss(encoder)
    loss([encoder.preprocess(texts[:1]), encoder.preprocess(texts[1:])], torch.tensor([0])).backward()
    encoder.save(str(tmp_path / "distilled"))
    reloaded = SentenceTransformer(str(tmp_path / "distilled"), device="cpu")
    np.testing.assert_allclose(reloaded.encode(texts), encoder.encode(texts), atol=1e-6)
    # the teacher's vocabulary has no Chinese: such text is all [UNK], flagged, and still finite
    assert 0 in unencodable(encoder, ["如何学习", "learn python"])
    assert np.isfinite(encoder.encode(["如何学习"])).all()


def test_train_with_only_tower_static_learns_the_sample_pairs(tmp_path, pairs_csv):
    from textsiam.training import train

    model = train(data=str(pairs_csv), tower="static", output=str(tmp_path / "model"), epochs=3, seed=3,
                  dev_fraction=0.2, test_fraction=0.2)
    assert model.metadata["config"]["learning_rate"] == 2e-2  # the static tower's own default
    reloaded = SentenceTransformer(str(tmp_path / "model"), device="cpu")
    assert isinstance(reloaded[0], StaticEmbedding)
    assert model.metadata["metrics"]["test"]["roc_auc"] > 0.7


def test_a_run_learns_its_tokenizer_once_and_every_process_and_resume_share_it(tmp_path):
    """tokenizers breaks ties at random: DDP peers and --resume must read the first process's vocabulary."""
    import threading
    import time as clock

    from textsiam.towers import shared_tokenizer

    texts = [f"how do i learn topic{i} quickly" for i in range(300)] + ["如何学习Python？", "Как выучить Python?"]
    first = shared_tokenizer(texts, tmp_path, vocab_size=200)
    again = shared_tokenizer(texts, tmp_path, vocab_size=200)  # a resume, or a second DDP process
    assert again.get_vocab() == first.get_vocab()
    other = tmp_path / "other"
    other.mkdir()
    saved = next(tmp_path.glob("tokenizer-*.json"))
    (other / (saved.name + ".lock")).touch()  # another process claimed it and is still learning

    def finish_learning() -> None:
        clock.sleep(1.0)
        # as the learning process does: write aside, then rename (a plain write_text could be read half-written)
        (other / (saved.name + ".tmp")).write_text(saved.read_text())
        (other / (saved.name + ".tmp")).replace(other / saved.name)

    threading.Thread(target=finish_learning).start()
    waited = shared_tokenizer(texts, other, vocab_size=200)
    assert waited.get_vocab() == first.get_vocab()


def test_lstm_token_vectors_from_a_teacher_have_the_lstm_embedding_size(tiny_bert_dir):
    pytest.importorskip("model2vec")
    encoder = build_encoder("lstm", model_name=str(tiny_bert_dir), train_texts=(TEXTS[::2], TEXTS[1::2]),
                            vocab_size=300, embedding_dim=8)
    assert encoder[0].emb_layer.weight.shape[1] == 8
    assert np.isfinite(encoder.encode(["how do i learn python", "如何学习"])).all()
