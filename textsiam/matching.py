"""Question answering with a pair model: rank the candidates of each question (``match_file``) and
retrieve the top-k answers of each question from a whole pool (``retrieve``).

Questions always go through side ``text1`` and answers through side ``text2``, so a pseudo-siamese model
(one tower per side) encodes each with its own tower.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .data import GROUP_COLUMNS, detect_columns, map_labels, read_frame, read_table
from .errors import TextsiamError, check_positive
from .files import atomic_path, check_output
from .metrics import ranking_metrics
from .model import SiameseModel, load
from .text import clean_texts

logger = logging.getLogger("textsiam")

MATCH_COLUMNS = ("score", "rank", "reason")
RETRIEVE_COLUMNS = ("question_row", "question", "rank", "answer_row", "answer", "score", "reason")
QUESTION_NAMES = ("question", "query", "title", "text1", "question1", "sentence1", "text")
ANSWER_NAMES = ("answer", "sentence", "body", "passage", "document", "text2", "question2", "sentence2", "text")


def rank_within(groups: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score inside its group (highest first, ties by row order); 0 where score is NaN."""
    frame = pd.DataFrame({"group": groups, "score": scores, "order": np.arange(len(scores))})
    frame = frame[~np.isnan(scores)].sort_values(["group", "score", "order"], ascending=[True, False, True],
                                                  kind="stable")
    ranks = np.zeros(len(scores), dtype=np.int64)
    ranks[frame["order"].to_numpy()] = frame.groupby("group", sort=False).cumcount().to_numpy() + 1
    return ranks


def match_file(model: str | Path | SiameseModel, data: str | Path, output: str | Path, *,
               metrics_output: str | Path | None = None, question: str | None = None, answer: str | None = None,
               label: str | None = None, group: str | None = None, batch_size: int = 64,
               overwrite: bool = False, encoding: str = "utf-8") -> dict:
    """Score every (question, candidate) row of ``data`` and rank the candidates within each question.

    Writes ``output``: the input's columns plus ``score``, ``rank`` (1 = best within its question) and
    ``reason`` (why a row could not be scored; its score and rank are then empty). Questions are grouped
    by ``group`` (default: a question_id/QuestionID column, else the question text). When the file has
    labels, returns and (with ``metrics_output``) writes MAP, MRR and P@1 over the questions with at least
    one correct candidate. Returns ``{"read", "written", "rejected", "metrics"}``.
    """
    output = check_output(output, overwrite=overwrite)
    if metrics_output is not None:
        metrics_output = check_output(metrics_output, overwrite=overwrite)
    frame = read_frame(data, encoding=encoding, headerless_names=("question", "answer", "label"))
    columns = list(frame.columns)
    c1, c2, c_label = _qa_columns(columns, question, answer, label, str(data))
    taken = set(MATCH_COLUMNS) & set(columns)
    if taken:
        raise TextsiamError(f"{data}: already has column(s) {', '.join(sorted(taken))}; rename them so the "
                            "output does not overwrite them.")
    if group is not None and group not in columns:
        raise TextsiamError(f"{data}: no column {group!r} (--group). Columns are: {', '.join(columns)}.")
    group_col = group or next((c for c in columns if c.lower() in GROUP_COLUMNS), None)
    model = model if isinstance(model, SiameseModel) else load(model)
    questions, answers = clean_texts(frame[c1]), clean_texts(frame[c2])
    reason = np.where(questions == "", f"empty {c1}", np.where(answers == "", f"empty {c2}", ""))
    ok = reason == ""
    scores = np.full(len(frame), np.nan)
    if ok.any():
        scores[ok] = model.score(questions[ok].tolist(), answers[ok].tolist(), batch_size=batch_size)
    groups = (frame[group_col].astype(str) if group_col else questions).to_numpy()
    ranks = rank_within(groups, scores)
    out = frame.copy()
    out["score"] = pd.Series(scores).round(6)
    out["rank"] = pd.array(np.where(ok, ranks, 0), dtype="Int64")
    out.loc[~ok, "rank"] = pd.NA
    out["reason"] = reason
    metrics = None
    if c_label is not None:
        labels = map_labels(frame[c_label], source=str(data), column=c_label)
        metrics = ranking_metrics(groups[ok], scores[ok], labels[ok])
    sep = "\t" if output.name.endswith((".tsv", ".tsv.gz", ".txt", ".txt.gz")) else ","
    with atomic_path(output) as tmp:
        out.to_csv(tmp, index=False, sep=sep)
    if metrics is not None and metrics_output is not None:
        with atomic_path(metrics_output) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
    elif metrics_output is not None:
        logger.warning("%s has no label column, so no ranking metrics were written to %s.", data, metrics_output)
    return {"read": len(frame), "written": len(out), "rejected": int((~ok).sum()), "metrics": metrics}


def _qa_columns(columns: list[str], question: str | None, answer: str | None, label: str | None,
                source: str) -> tuple[str, str, str | None]:
    """The question, answer and label columns: those named, the rest detected (see ``detect_columns``)."""
    try:
        if bool(question) != bool(answer):
            detected = detect_columns(columns, source=source)
            question, answer = question or detected[0], answer or detected[1]
        return detect_columns(columns, question, answer, label, source=source)
    except TextsiamError as exc:  # speak of this command's options
        message = str(exc).replace("--text1", "--question").replace("--text2", "--answer")
        raise TextsiamError(message) from None


def _text_column(frame: pd.DataFrame, name: str | None, known: Sequence[str], option: str, source: str) -> str:
    columns = list(frame.columns)
    by_lower = {c.lower(): c for c in columns}
    if name is not None:
        if name in columns or name.lower() in by_lower:
            return name if name in columns else by_lower[name.lower()]
        raise TextsiamError(f"{source}: no column {name!r} ({option}). Columns are: {', '.join(columns)}.")
    found = next((by_lower[n] for n in known if n in by_lower), None)
    if found is None and len(columns) == 1:
        found = columns[0]
    if found is None:
        raise TextsiamError(f"{source}: cannot tell which column holds the texts (columns: {', '.join(columns)}); "
                            f"pass {option}.")
    return found


def retrieve(model: str | Path | SiameseModel, questions: str | Path, answers: str | Path, output: str | Path, *,
             top_k: int = 10, question_column: str | None = None, answer_column: str | None = None,
             batch_size: int = 64, overwrite: bool = False, encoding: str = "utf-8") -> dict:
    """For each question, the ``top_k`` most similar answers from the whole answer pool.

    Questions are encoded through side ``text1`` and answers through ``text2`` (each distinct text once),
    and sentence-transformers' ``util.semantic_search`` finds the neighbours with the model's own
    similarity. ``output`` has ``top_k`` rows per question (question_row, question, rank, answer_row,
    answer, score, reason), in question order; a question that cannot be searched (empty text) keeps one
    row with a reason. Returns counts of questions/answers read and rows written.
    """
    from sentence_transformers import util

    check_positive("--top-k", top_k)
    output = check_output(output, overwrite=overwrite)
    q_frame, a_frame = read_table(questions, encoding=encoding), read_table(answers, encoding=encoding)
    q_col = _text_column(q_frame, question_column, QUESTION_NAMES, "--question-column", str(questions))
    a_col = _text_column(a_frame, answer_column, ANSWER_NAMES, "--answer-column", str(answers))
    model = model if isinstance(model, SiameseModel) else load(model)
    q_texts, a_texts = clean_texts(q_frame[q_col]), clean_texts(a_frame[a_col])
    a_ok = np.flatnonzero((a_texts != "").to_numpy())
    if len(a_ok) == 0:
        raise TextsiamError(f"{answers}: every row of column {a_col!r} is empty; there is nothing to retrieve.")
    if len(a_ok) < len(a_texts):
        logger.warning("%s: %d answer row(s) with an empty %r left out of the pool.", answers,
                       len(a_texts) - len(a_ok), a_col)
    q_ok = np.flatnonzero((q_texts != "").to_numpy())
    pool = a_texts.iloc[a_ok].tolist()
    a_emb, a_idx = model.encode_distinct(pool, side="text2", batch_size=batch_size)
    corpus = torch.as_tensor(a_emb[a_idx])
    hits: list[list[dict]] = []
    if len(q_ok):
        q_emb, q_idx = model.encode_distinct(q_texts.iloc[q_ok].tolist(), side="text1", batch_size=batch_size)
        hits = util.semantic_search(torch.as_tensor(q_emb[q_idx]), corpus, top_k=min(int(top_k), len(pool)),
                                    score_function=model.encoder.similarity)
    hits_of = dict(zip(q_ok.tolist(), hits, strict=True))
    rows = []
    for i, text in enumerate(q_texts.tolist()):
        if i not in hits_of:
            rows.append((i, text, pd.NA, pd.NA, "", np.nan, f"empty {q_col}"))
            continue
        for rank, hit in enumerate(hits_of[i], start=1):
            j = int(a_ok[hit["corpus_id"]])
            rows.append((i, text, rank, j, a_texts.iloc[j], round(float(hit["score"]), 6), ""))
    out = pd.DataFrame(rows, columns=list(RETRIEVE_COLUMNS))
    out["rank"] = out["rank"].astype("Int64")
    out["answer_row"] = out["answer_row"].astype("Int64")
    sep = "\t" if output.name.endswith((".tsv", ".tsv.gz")) else ","
    with atomic_path(output) as tmp:
        out.to_csv(tmp, index=False, sep=sep)
    return {"questions": len(q_frame), "answers": len(a_frame), "rejected": len(q_frame) - len(q_ok),
            "answers_rejected": len(a_frame) - len(a_ok), "written": len(out)}
