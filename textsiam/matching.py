"""Question answering with a pair model: rank the candidates of each question (``match_file``) and
retrieve the top-k answers of each question from a whole pool (``retrieve``); ``match`` picks one of the two
from its arguments and checks that they go together.

Questions always go through side ``text1`` and answers through side ``text2``, so a pseudo-siamese model
(one tower per side) encodes each with its own tower.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .data import GROUP_COLUMNS, detect_columns, find_column, map_labels, read_frame, read_table
from .errors import TextsiamError, check_positive
from .files import atomic_path, check_output, output_separator
from .metrics import ranking_metrics
from .model import SiameseModel, load
from .prediction import result_columns
from .text import clean_texts

logger = logging.getLogger("textsiam")

MATCH_COLUMNS = ("score", "rank", "reason")
RETRIEVE_COLUMNS = ("question_row", "question", "rank", "answer_row", "answer", "score", "reason")
QUESTION_NAMES = ("question", "query", "title", "text1", "question1", "sentence1", "text")
ANSWER_NAMES = ("answer", "sentence", "body", "passage", "document", "text2", "question2", "sentence2", "text")
QA_OPTIONS = ("--question", "--answer", "--label")
DEFAULT_TOP_K = 10


def match(model: str | Path | SiameseModel, output: str | Path, *, data: str | Path | None = None,
          questions: str | Path | None = None, answers: str | Path | None = None,
          metrics_output: str | Path | None = None, top_k: int | None = None, question: str | None = None,
          answer: str | None = None, label: str | None = None, group: str | None = None, batch_size: int | None = None,
          overwrite: bool = False, encoding: str = "utf-8") -> dict:
    """Rank the candidates of each question of ``data`` (``match_file``), or retrieve the ``top_k`` answers of
    each of ``questions`` from the pool ``answers`` (``retrieve``); options of the other mode are refused.

    ``question`` and ``answer`` name the text columns in either mode. Returns the summary of the mode run,
    with ``mode`` ("rank" or "retrieve") added.
    """
    if data is not None and (questions is not None or answers is not None):
        raise TextsiamError("give either --data (ranking) or --questions with --answers (retrieval), not both.")
    if data is not None:
        if top_k is not None:
            raise TextsiamError("--top-k is for retrieval (--questions with --answers); ranking (--data) ranks "
                                "every candidate.")
        summary = match_file(model, data, output, metrics_output=metrics_output, question=question, answer=answer,
                             label=label, group=group, batch_size=batch_size, overwrite=overwrite,
                             encoding=encoding)
        return {"mode": "rank", **summary}
    if questions is None or answers is None:
        raise TextsiamError("give --data FILE to rank candidates, or both --questions and --answers to retrieve.")
    ranking_only = [option for option, value in (("--metrics", metrics_output), ("--label", label),
                                                 ("--group", group)) if value is not None]
    if ranking_only:
        verb = "needs" if len(ranking_only) == 1 else "need"
        raise TextsiamError(f"{' and '.join(ranking_only)} {verb} ranking (--data); retrieval (--questions, "
                            "--answers) has no labels, groups or metrics.")
    summary = retrieve(model, questions, answers, output, top_k=DEFAULT_TOP_K if top_k is None else top_k,
                       question_column=question, answer_column=answer, batch_size=batch_size,
                       overwrite=overwrite, encoding=encoding)
    return {"mode": "retrieve", **summary}


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
               label: str | None = None, group: str | None = None, batch_size: int | None = None,
               overwrite: bool = False, encoding: str = "utf-8") -> dict:
    """Score every (question, candidate) row of ``data`` and rank the candidates within each question.

    Writes ``output``: the input's columns plus ``score``, ``rank`` (1 = best within its question) and
    ``reason`` (why a row could not be scored; its score and rank are then empty); if the input already
    has such columns, textsiam's are written as ``textsiam_score`` etc. (``prediction.result_columns``).
    Questions are grouped by ``group`` (default: a question_id/QuestionID column, else the question text).
    When the file has labels, returns and (with ``metrics_output``) writes MAP, MRR and P@1 over the
    questions with at least one correct candidate; a question whose every correct candidate has an empty
    text counts as a miss (0), with a warning naming it. Returns ``{"read", "written", "rejected",
    "metrics", "seconds", "rows_per_second"}``.
    """
    check_positive("--batch-size", batch_size, optional=True)
    output = check_output(output, overwrite=overwrite)
    if metrics_output is not None:
        metrics_output = check_output(metrics_output, overwrite=overwrite)
    frame = read_frame(data, encoding=encoding, headerless_names=("question", "answer", "label"))
    columns = list(frame.columns)
    c1, c2, c_label = _qa_columns(columns, question, answer, label, str(data))
    names = result_columns(columns, MATCH_COLUMNS, source=str(data))
    group_col = (find_column(columns, group, (), option="--group", source=str(data)) if group is not None
                 else next((c for c in columns if c.lower() in GROUP_COLUMNS), None))
    labels = map_labels(frame[c_label], source=str(data), column=c_label) if c_label is not None else None
    model = model if isinstance(model, SiameseModel) else load(model)
    started = time.perf_counter()
    questions, answers = clean_texts(frame[c1], source=str(data)), clean_texts(frame[c2], source=str(data))
    reason = np.where(questions == "", f"empty {c1}", np.where(answers == "", f"empty {c2}", ""))
    ok = reason == ""
    scores = np.full(len(frame), np.nan)
    if ok.any():
        scores[ok] = model.score(questions[ok].tolist(), answers[ok].tolist(), batch_size=batch_size)
    groups = (frame[group_col].astype(str) if group_col else questions).to_numpy()
    ranks = rank_within(groups, scores)
    out = frame.copy()
    out[names["score"]] = pd.Series(scores).round(6)
    out[names["rank"]] = pd.array(np.where(ok, ranks, 0), dtype="Int64")
    out.loc[~ok, names["rank"]] = pd.NA
    out[names["reason"]] = reason
    metrics = None if labels is None else ranking_metrics_with_misses(groups, scores, labels, ok, source=str(data))
    with atomic_path(output) as tmp:
        out.to_csv(tmp, index=False, sep=output_separator(output))
    if metrics is not None and metrics_output is not None:
        with atomic_path(metrics_output) as tmp:
            tmp.write_text(json.dumps(metrics, indent=2))
    elif metrics_output is not None:
        logger.warning("%s has no label column, so no ranking metrics were written to %s.", data, metrics_output)
    seconds = time.perf_counter() - started
    return {"read": len(frame), "written": len(out), "rejected": int((~ok).sum()), "metrics": metrics,
            "seconds": round(seconds, 3), "rows_per_second": round(len(frame) / max(seconds, 1e-9), 1)}


def ranking_metrics_with_misses(groups: np.ndarray, scores: np.ndarray, labels: np.ndarray, ok: np.ndarray, *,
                                source: str = "the file") -> dict[str, float]:
    """``ranking_metrics`` over the scorable rows (``ok``), where a question with a correct candidate but none
    that could be scored stays in the denominator as a miss (AP, RR and P@1 of 0) and is named in a warning.

    Adds ``n_questions_unscorable``: how many questions counted as misses that way.
    """
    answered = pd.unique(groups[labels > 0])
    scorable = set(groups[ok & (labels > 0)])
    missed = [g for g in answered if g not in scorable]
    if missed:
        named = ", ".join(repr(str(g)) for g in missed[:5]) + (f" and {len(missed) - 5} more" if len(missed) > 5
                                                               else "")
        logger.warning("%s: %d question(s) lost every correct candidate to an empty text and count as misses "
                       "(AP, RR, P@1 of 0): %s.", source, len(missed), named)
    if len(missed) == len(answered):  # nothing left to rank: ranking_metrics explains when no label is 1 at all
        metrics = (ranking_metrics(groups, scores, labels) if not len(answered)
                   else {"map": 0.0, "mrr": 0.0, "p_at_1": 0.0, "n_questions": 0})
    else:
        metrics = ranking_metrics(groups[ok], scores[ok], labels[ok])
    ranked = metrics["n_questions"]
    total = ranked + len(missed)
    return {**{key: metrics[key] * ranked / total for key in ("map", "mrr", "p_at_1")}, "n_questions": total,
            "n_questions_unscorable": len(missed)}


def _qa_columns(columns: list[str], question: str | None, answer: str | None, label: str | None,
                source: str) -> tuple[str, str, str | None]:
    """The question, answer and label columns: those named, the rest detected (see ``detect_columns``)."""
    if bool(question) != bool(answer):
        detected = detect_columns(columns, source=source, options=QA_OPTIONS)
        question, answer = question or detected[0], answer or detected[1]
    return detect_columns(columns, question, answer, label, source=source, options=QA_OPTIONS)


def retrieve(model: str | Path | SiameseModel, questions: str | Path, answers: str | Path, output: str | Path, *,
             top_k: int = DEFAULT_TOP_K, question_column: str | None = None, answer_column: str | None = None,
             batch_size: int | None = None, overwrite: bool = False, encoding: str = "utf-8") -> dict:
    """For each question, the ``top_k`` most similar answers from the whole answer pool.

    Questions are encoded through side ``text1`` and answers through ``text2`` (each distinct text once),
    and sentence-transformers' ``util.semantic_search`` finds the neighbours with the model's own
    similarity. ``output`` has ``top_k`` rows per question (question_row, question, rank, answer_row,
    answer, score, reason), in question order; a question that cannot be searched (empty text) keeps one
    row with a reason. Returns counts of questions/answers read and rows written, the seconds spent and
    ``rows_per_second`` (question and answer rows per second).
    """
    from sentence_transformers import util

    check_positive("--top-k", top_k)
    check_positive("--batch-size", batch_size, optional=True)
    output = check_output(output, overwrite=overwrite)
    q_frame, a_frame = read_table(questions, encoding=encoding), read_table(answers, encoding=encoding)
    q_col = find_column(list(q_frame.columns), question_column, QUESTION_NAMES, option="--question",
                        source=str(questions))
    a_col = find_column(list(a_frame.columns), answer_column, ANSWER_NAMES, option="--answer", source=str(answers))
    model = model if isinstance(model, SiameseModel) else load(model)
    started = time.perf_counter()
    q_texts = clean_texts(q_frame[q_col], source=str(questions))
    a_texts = clean_texts(a_frame[a_col], source=str(answers))
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
    with atomic_path(output) as tmp:
        out.to_csv(tmp, index=False, sep=output_separator(output))
    seconds = time.perf_counter() - started
    return {"questions": len(q_frame), "answers": len(a_frame), "rejected": len(q_frame) - len(q_ok),
            "answers_rejected": len(a_frame) - len(a_ok), "written": len(out), "seconds": round(seconds, 3),
            "rows_per_second": round((len(q_frame) + len(a_frame)) / max(seconds, 1e-9), 1)}
