"""match_file / retrieve / `textsiam match`, with a bag-of-words model whose scores can be worked out by hand.

The model embeds a text as the mean of one-hot word vectors, so cosine(q, a) = |shared words| /
sqrt(|q words| * |a words|) for texts without repeated words.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Pooling, Router, WordEmbeddings
from typer.testing import CliRunner

from textsiam.cli import app
from textsiam.errors import TextsiamError
from textsiam.matching import match, match_file, rank_within, retrieve
from textsiam.model import SiameseModel
from textsiam.towers import word_tokenizer

runner = CliRunner()
WORDS = ["[PAD]", "red", "apple", "pie", "car", "blue", "sky", "green", "tea", "leaves", "hot", "cold", "water",
         "fast", "slow", "boat", "bike", "красное", "яблоко", "зелёный", "чай", "苹果", "绿茶"]

# question, answer, label, question_id. Hand-worked cosines in the comments.
QA_ROWS = [
    ("red apple", "blue sky", 0, "q1"),          # 0
    ("red apple", "red car", 1, "q1"),           # 1/sqrt(4) = 0.5       -> rank 2
    ("red apple", "red apple pie", 0, "q1"),     # 2/sqrt(6) = 0.816     -> rank 1
    ("green tea", "hot tea", 1, "q2"),           # 0.5                   -> rank 2
    ("green tea", "cold water", 0, "q2"),        # 0                     -> rank 3
    ("green tea", "green tea leaves", 1, "q2"),  # 0.816                 -> rank 1
    ("fast car", "slow boat", 0, "q3"),          # no correct candidate: left out of the metrics
    ("fast car", "fast bike", 0, "q3"),
    ("fast car", "", 0, "q3"),                   # cannot be scored: kept with a reason
    ("cold water", "", 1, "q4"),                 # q4's only correct answer cannot be scored: a miss
    ("cold water", "hot tea", 0, "q4"),          # 0                     -> rank 1
]
# q1 ranked labels [0, 1, 0]: AP 1/2, RR 1/2, P@1 0.  q2 ranked [1, 1, 0]: AP 1, RR 1, P@1 1.  q4: 0, 0, 0.
EXPECTED = {"map": 0.5, "mrr": 0.5, "p_at_1": 1 / 3, "n_questions": 3, "n_questions_unscorable": 1}
# The first six rows alone: q1 and q2.
EXPECTED_SCORED = {"map": 0.75, "mrr": 0.75, "p_at_1": 0.5, "n_questions": 2, "n_questions_unscorable": 0}


def bag_of_words() -> list:
    weights = np.eye(len(WORDS), dtype=np.float32)
    weights[0] = 0.0
    embeddings = WordEmbeddings(word_tokenizer(WORDS), weights, update_embeddings=False)
    return [embeddings, Pooling(len(WORDS), pooling_mode="mean")]


@pytest.fixture(scope="module")
def bow_dir(tmp_path_factory) -> Path:
    """A plain SentenceTransformer directory (no textsiam.json): match must work on any such model."""
    directory = tmp_path_factory.mktemp("bow") / "model"
    SentenceTransformer(modules=bag_of_words(), device="cpu").save(str(directory), safe_serialization=True)
    return directory


@pytest.fixture
def qa_csv(tmp_path: Path) -> Path:
    path = tmp_path / "qa.csv"
    pd.DataFrame(QA_ROWS, columns=["question", "answer", "label", "question_id"]).to_csv(path, index=False)
    return path


def test_match_ranks_within_each_question_and_reports_hand_computed_metrics(bow_dir: Path, qa_csv: Path,
                                                                             tmp_path: Path):
    out, metrics_path = tmp_path / "ranked.csv", tmp_path / "metrics.json"
    summary = match_file(str(bow_dir), qa_csv, out, metrics_output=metrics_path)
    assert summary["read"] == summary["written"] == 11 and summary["rejected"] == 2
    ranked = pd.read_csv(out, keep_default_na=False)
    assert ranked["answer"].tolist() == [r[1] for r in QA_ROWS]  # one row per input row, in order
    high = 2 / math.sqrt(6)
    assert np.allclose(pd.to_numeric(ranked["score"][:6]), [0, 0.5, high, 0.5, 0, high], atol=1e-6)
    assert ranked["rank"].astype(str).tolist() == ["3", "2", "1", "2", "3", "1", "2", "1", "", "", "1"]
    assert ranked["score"].iloc[8] == "" and ranked["reason"].iloc[8] == "empty answer"
    assert ranked["reason"].tolist() == [""] * 8 + ["empty answer", "empty answer", ""]
    metrics = json.loads(metrics_path.read_text())
    assert metrics.keys() == EXPECTED.keys()
    assert metrics == pytest.approx(EXPECTED)
    assert summary["metrics"] == pytest.approx(EXPECTED)


def test_match_groups_by_question_text_without_an_id_column(bow_dir: Path, tmp_path: Path):
    path = tmp_path / "noid.tsv"
    pd.DataFrame([r[:3] for r in QA_ROWS], columns=["question", "answer", "label"]).to_csv(path, sep="\t",
                                                                                            index=False)
    summary = match_file(str(bow_dir), path, tmp_path / "out.tsv")
    assert summary["metrics"] == pytest.approx(EXPECTED)
    assert pd.read_csv(tmp_path / "out.tsv", sep="\t")["rank"].tolist()[:6] == [3, 2, 1, 2, 3, 1]


def test_match_reads_wikiqa_release_tsv_and_headerless_sent_files(bow_dir: Path, tmp_path: Path):
    tsv = tmp_path / "WikiQA-test.tsv"
    header = "QuestionID\tQuestion\tDocumentID\tDocumentTitle\tSentenceID\tSentence\tLabel\n"
    tsv.write_text(header + "".join(f"{qid}\t{q}\tD\tT\tS{i}\t{a}\t{y}\n"
                                    for i, (q, a, y, qid) in enumerate(QA_ROWS[:6])))
    assert match_file(str(bow_dir), tsv, tmp_path / "a.csv")["metrics"] == pytest.approx(EXPECTED_SCORED)
    sent = tmp_path / "WikiQASent-test.txt"
    sent.write_text("".join(f"{q}\t{a}\t{y}\n" for q, a, y, _ in QA_ROWS[:6]))
    summary = match_file(str(bow_dir), sent, tmp_path / "b.csv")
    assert summary["read"] == 6 and summary["metrics"] == pytest.approx(EXPECTED_SCORED)


def test_match_without_labels_ranks_but_reports_no_metrics(bow_dir: Path, tmp_path: Path):
    path = tmp_path / "unlabelled.csv"
    pd.DataFrame([r[:2] for r in QA_ROWS[:3]], columns=["question", "answer"]).to_csv(path, index=False)
    summary = match_file(str(bow_dir), path, tmp_path / "out.csv")
    assert summary["metrics"] is None
    assert pd.read_csv(tmp_path / "out.csv")["rank"].tolist() == [3, 2, 1]


def test_rank_within_breaks_ties_by_row_order_and_skips_nan():
    ranks = rank_within(np.array(["a", "b", "a", "a", "b"]), np.array([0.5, 0.1, 0.5, np.nan, 0.9]))
    assert ranks.tolist() == [1, 2, 2, 0, 1]


def test_pseudo_model_scores_questions_and_answers_through_their_own_routes():
    modules = bag_of_words()
    reversed_weights = np.eye(len(WORDS), dtype=np.float32)[:, ::-1].copy()  # a different tower for answers
    reversed_weights[0] = 0.0
    answers_tower = [WordEmbeddings(word_tokenizer(WORDS), reversed_weights, update_embeddings=False),
                     Pooling(len(WORDS), pooling_mode="mean")]
    encoder = SentenceTransformer(modules=[Router({"text1": modules, "text2": answers_tower},
                                                  default_route="text1")], device="cpu")
    model = SiameseModel(encoder, {"arch": "pseudo"})
    questions, answers = ["red apple", "green tea"], ["red apple pie", "red apple pie"]
    expected = encoder.similarity_pairwise(encoder.encode(questions, task="text1", convert_to_tensor=True),
                                           encoder.encode(answers, task="text2", convert_to_tensor=True)).numpy()
    got = model.score(questions, answers)
    assert np.allclose(got, expected, atol=1e-6)
    # The towers differ, so scoring both sides through one tower would give another answer.
    assert not np.allclose(got, SiameseModel(encoder).score(questions, answers), atol=1e-3)


def test_retrieve_returns_the_top_k_answers_from_the_pool(bow_dir: Path, tmp_path: Path):
    questions, answers = tmp_path / "q.csv", tmp_path / "a.csv"
    pd.DataFrame({"question": ["green tea", "", "red apple"]}).to_csv(questions, index=False)
    pd.DataFrame({"id": range(6), "answer": ["blue sky", "red apple pie", "", "green tea leaves", "hot tea",
                                             "red car"]}).to_csv(answers, index=False)
    summary = retrieve(str(bow_dir), questions, answers, tmp_path / "top.csv", top_k=2)
    assert summary["rejected"] == 1 and summary["answers_rejected"] == 1 and summary["written"] == 5
    top = pd.read_csv(tmp_path / "top.csv", keep_default_na=False)
    assert top["question_row"].tolist() == [0, 0, 1, 2, 2]
    assert top["answer"].tolist()[:2] == ["green tea leaves", "hot tea"]
    assert top["answer_row"].astype(str).tolist()[:2] == ["3", "4"]  # rows of the answers file, empty rows counted
    assert np.allclose(top["score"][:2].astype(float), [2 / math.sqrt(6), 0.5])
    assert top["reason"].tolist()[2] == "empty question" and top["answer"].tolist()[2] == ""
    assert top["answer"].tolist()[3:] == ["red apple pie", "red car"]


def test_retrieve_top_k_larger_than_the_pool(bow_dir: Path, tmp_path: Path):
    (tmp_path / "q.csv").write_text("question\nred apple\n")
    (tmp_path / "a.csv").write_text("answer\nred car\nblue sky\n")
    retrieve(str(bow_dir), tmp_path / "q.csv", tmp_path / "a.csv", tmp_path / "top.csv", top_k=10)
    assert pd.read_csv(tmp_path / "top.csv")["answer"].tolist() == ["red car", "blue sky"]


def test_cli_match_prints_counts_and_metrics(bow_dir: Path, qa_csv: Path, tmp_path: Path):
    out, metrics = tmp_path / "ranked.csv", tmp_path / "m.json"
    result = runner.invoke(app, ["match", str(bow_dir), "--data", str(qa_csv), "--output", str(out),
                                 "--metrics", str(metrics)])
    assert result.exit_code == 0, result.output
    assert "rows read 11, written 11, rejected 2" in result.output
    assert json.loads(metrics.read_text()) == pytest.approx(EXPECTED)
    again = runner.invoke(app, ["match", str(bow_dir), "--data", str(qa_csv), "--output", str(out)])
    assert again.exit_code == 2 and "--overwrite" in again.output
    assert runner.invoke(app, ["match", str(bow_dir), "--data", str(qa_csv), "--output", str(out),
                               "--overwrite"]).exit_code == 0


def test_cli_retrieve(bow_dir: Path, tmp_path: Path):
    (tmp_path / "q.csv").write_text("title\nred apple\ngreen tea\n")
    (tmp_path / "a.csv").write_text("body\nred car\nhot tea\nblue sky\n")
    result = runner.invoke(app, ["match", str(bow_dir), "--questions", str(tmp_path / "q.csv"), "--answers",
                                 str(tmp_path / "a.csv"), "--top-k", "1", "--output", str(tmp_path / "top.csv")])
    assert result.exit_code == 0, result.output
    assert "questions read 2" in result.output and "rows written 2" in result.output
    assert "rows/s" in result.output
    assert pd.read_csv(tmp_path / "top.csv")["answer"].tolist() == ["red car", "hot tea"]


@pytest.mark.parametrize("content, args, message", [
    ("question,answer,label\nred apple,red car,maybe\n", [], "column 'label'"),
    ("query,passage\nred apple,red car\n", [], "cannot tell which columns"),
    ("question,answer\nred apple,red car\n", ["--question", "q"], "no column 'q' (--question)"),
    ("query,passage\nred apple,red car\n", ["--question", "query"], "pass --question and --answer"),
    ("question,answer,score,textsiam_score\nred apple,red car,1,2\n", [], "already has column(s) textsiam_score"),
    ("question,answer\nred apple,red car\n", ["--top-k", "3"], "--top-k is for retrieval"),
    ("question,answer\nred apple,red car\n", ["--questions", "x.csv"], "not both"),
    ("question,answer\nred apple,red car\n", ["--group", "qid"], "no column 'qid'"),
])
def test_cli_match_bad_input_is_one_line_exit_2(bow_dir: Path, tmp_path: Path, content: str, args: list,
                                                message: str):
    path = tmp_path / "in.csv"
    path.write_text(content)
    result = runner.invoke(app, ["match", str(bow_dir), "--data", str(path), "--output",
                                 str(tmp_path / "o.csv"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_cli_match_needs_data_or_questions_and_answers(bow_dir: Path, tmp_path: Path):
    result = runner.invoke(app, ["match", str(bow_dir), "--questions", "q.csv", "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--data FILE" in result.output


def test_match_missing_file_names_it(bow_dir: Path, tmp_path: Path):
    with pytest.raises(TextsiamError, match="nope.csv: no such file"):
        match_file(str(bow_dir), tmp_path / "nope.csv", tmp_path / "o.csv")


def test_match_warns_naming_questions_whose_only_correct_answer_is_empty(bow_dir: Path, qa_csv: Path,
                                                                          tmp_path: Path, caplog):
    with caplog.at_level("WARNING", logger="textsiam"):
        summary = match_file(str(bow_dir), qa_csv, tmp_path / "o.csv")
    assert summary["metrics"]["n_questions_unscorable"] == 1
    assert "1 question(s) lost every correct candidate to an empty text" in caplog.text and "'q4'" in caplog.text
    assert "'q3'" not in caplog.text  # q3 has no correct candidate at all: left out, not a miss


def test_match_when_every_correct_answer_is_empty_reports_zeros(bow_dir: Path, tmp_path: Path):
    path = tmp_path / "all_missing.csv"
    pd.DataFrame([("red apple", "", 1), ("red apple", "red car", 0)],
                 columns=["question", "answer", "label"]).to_csv(path, index=False)
    metrics = match_file(str(bow_dir), path, tmp_path / "o.csv")["metrics"]
    assert metrics == {"map": 0.0, "mrr": 0.0, "p_at_1": 0.0, "n_questions": 1, "n_questions_unscorable": 1}


def test_match_keeps_the_users_columns_and_prefixes_its_own(bow_dir: Path, tmp_path: Path):
    path = tmp_path / "labelled.csv"
    pd.DataFrame({"question": ["red apple", "red apple"], "answer": ["red car", "blue sky"], "label": [1, 0],
                  "score": [0.9, 0.1], "rank": [1, 2]}).to_csv(path, index=False)
    match_file(str(bow_dir), path, tmp_path / "o.csv", label="label")
    out = pd.read_csv(tmp_path / "o.csv", keep_default_na=False)
    assert list(out.columns) == ["question", "answer", "label", "score", "rank", "textsiam_score", "textsiam_rank",
                                 "textsiam_reason"]
    assert out["score"].tolist() == [0.9, 0.1] and out["textsiam_rank"].tolist() == [1, 2]
    assert out["textsiam_score"].tolist() == pytest.approx([0.5, 0.0])


def test_match_cyrillic_and_chinese_texts_are_scored_and_written_unchanged(bow_dir: Path, tmp_path: Path):
    rows = [("красное яблоко", "зелёный чай", 0), ("красное яблоко", "красное яблоко", 1),
            ("苹果 绿茶", "绿茶", 1), ("苹果 绿茶", "зелёный чай", 0)]
    path = tmp_path / "intl.tsv"
    pd.DataFrame(rows, columns=["question", "answer", "label"]).to_csv(path, sep="\t", index=False)
    summary = match_file(str(bow_dir), path, tmp_path / "o.tsv")
    out = pd.read_csv(tmp_path / "o.tsv", sep="\t")
    assert out["answer"].tolist() == [r[1] for r in rows]
    assert out["score"].tolist() == pytest.approx([0.0, 1.0, 1 / math.sqrt(2), 0.0])
    assert out["rank"].tolist() == [2, 1, 1, 2]
    assert summary["metrics"] == pytest.approx({"map": 1.0, "mrr": 1.0, "p_at_1": 1.0, "n_questions": 2,
                                                "n_questions_unscorable": 0})


@pytest.mark.parametrize("kwargs, message", [
    ({"data": "d.csv", "questions": "q.csv"}, "not both"),
    ({}, "give --data FILE"),
    ({"questions": "q.csv"}, "give --data FILE"),
    ({"data": "d.csv", "top_k": 3}, "--top-k is for retrieval"),
    ({"questions": "q.csv", "answers": "a.csv", "metrics_output": "m.json"}, "--metrics needs ranking"),
    ({"questions": "q.csv", "answers": "a.csv", "label": "y", "group": "g"}, "--label and --group need"),
])
def test_match_checks_that_its_options_go_together(tmp_path: Path, kwargs: dict, message: str):
    with pytest.raises(TextsiamError, match=message):
        match("no-model-needed", tmp_path / "o.csv", **kwargs)  # refused before the model is loaded
    assert not (tmp_path / "o.csv").exists()


def test_match_dispatches_to_retrieval(bow_dir: Path, tmp_path: Path):
    (tmp_path / "q.csv").write_text("question\nred apple\n")
    (tmp_path / "a.csv").write_text("answer\nred car\nblue sky\nred apple pie\n")
    summary = match(str(bow_dir), tmp_path / "top.csv", questions=tmp_path / "q.csv", answers=tmp_path / "a.csv")
    assert summary["mode"] == "retrieve" and summary["written"] == 3  # default top-k 10, pool of 3
    assert summary["rows_per_second"] > 0


def test_retrieve_names_the_match_option_of_a_missing_column(bow_dir: Path, tmp_path: Path):
    (tmp_path / "q.csv").write_text("title\nred apple\n")
    (tmp_path / "a.csv").write_text("answer\nred car\n")
    with pytest.raises(TextsiamError, match=r"no column 'heading' \(--question\)"):
        retrieve(str(bow_dir), tmp_path / "q.csv", tmp_path / "a.csv", tmp_path / "o.csv", question_column="heading")
