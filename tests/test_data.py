import gzip
from pathlib import Path

import pandas as pd
import pytest

from textsiam.data import detect_columns, find_column, map_labels, read_pairs, read_table
from textsiam.errors import TextsiamError
from textsiam.text import MAX_TEXT_CHARS

from .conftest import shared_file


def test_reads_kaggle_glue_and_generic_layouts(tmp_path: Path):
    kaggle = tmp_path / "train.csv"
    kaggle.write_text('id,qid1,qid2,question1,question2,is_duplicate\n0,1,2,"a, b?",c,0\n1,3,4,d,e,1\n')
    glue = tmp_path / "dev.tsv"
    glue.write_text("id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\ta\tb\t1\n")
    generic = tmp_path / "pairs.csv.gz"
    with gzip.open(generic, "wt") as fh:
        fh.write("sentence1,sentence2,label\nx,y,1\nz,w,0\n")
    assert read_pairs(kaggle)[["text1", "label"]].values.tolist() == [["a, b?", 0], ["d", 1]]
    assert read_pairs(glue)["label"].tolist() == [1]
    assert read_pairs(generic)["text2"].tolist() == ["y", "w"]


def test_custom_columns_and_misspelt_column_suggests(tmp_path: Path):
    path = tmp_path / "p.csv"
    path.write_text("left,right,same\na,b,1\nc,d,0\n")
    pairs = read_pairs(path, text1="left", text2="right", label="same")
    assert pairs["label"].tolist() == [1, 0]
    with pytest.raises(TextsiamError, match="Did you mean 'left'"):
        read_pairs(path, text1="lefft", text2="right", label="same")


def test_tsv_named_csv_is_sniffed(tmp_path: Path):
    path = tmp_path / "actually_tab.csv"
    path.write_text("question1\tquestion2\tis_duplicate\na\tb\t1\n")
    assert read_pairs(path)["text1"].tolist() == ["a"]


def test_headerless_wikiqasent(tmp_path: Path):
    path = tmp_path / "WikiQASent-train.txt"
    path.write_text("how are glacier caves formed ?\tA partly submerged glacier cave .\t0\nq\tanswer\t1\n")
    pairs = read_pairs(path)
    assert len(pairs) == 2 and pairs["label"].tolist() == [0, 1]


@pytest.mark.parametrize("content, message", [
    ("", "empty"),
    ("question1,question2,is_duplicate\n", "no data rows"),
    ("question1,question2,is_duplicate\na,b,1\nc,d,1,extra,fields\n", "malformed"),
    ('question1,question2,is_duplicate\na,"b,1\nc,d,0\n', "malformed"),
    ("question1,question1,is_duplicate\na,b,1\n", "duplicated column"),
    ("foo,bar\na,b\n", "cannot tell which columns"),
])
def test_broken_files_give_clear_errors(tmp_path: Path, content: str, message: str):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(TextsiamError, match=message):
        read_pairs(path)


def test_missing_file_and_non_utf8(tmp_path: Path):
    with pytest.raises(TextsiamError, match="no such file"):
        read_pairs(tmp_path / "nope.csv")
    path = tmp_path / "latin.csv"
    path.write_bytes(b"question1,question2,is_duplicate\na,b,1\ncaf\xe9,d,0\n")
    with pytest.raises(TextsiamError, match=r"not valid utf-8 text \(line 3\)"):
        read_pairs(path)


def test_label_mapping_words_and_rejects_with_rows():
    assert map_labels(pd.Series(["yes", "No", "duplicate", "not_duplicate", "1", "0.0", "TRUE"])).tolist() == [
        1, 0, 1, 0, 1, 0, 1]
    with pytest.raises(TextsiamError, match=r"row 1 \('maybe'\).*row 2 \('2'\)"):
        map_labels(pd.Series(["1", "maybe", "2"]))


def test_empty_texts_are_dropped_with_a_warning_naming_rows(tmp_path: Path, caplog):
    path = tmp_path / "p.csv"
    path.write_text("question1,question2,is_duplicate\na,b,1\n,c,0\nd,,1\ne,f,0\n")
    pairs = read_pairs(path)
    assert pairs["row"].tolist() == [0, 3]
    assert "rows 1, 2" in caplog.text


def test_long_text_is_truncated_with_warning(tmp_path: Path, caplog):
    path = tmp_path / "p.csv"
    pd.DataFrame({"text1": ["x" * (MAX_TEXT_CHARS + 10), "a"], "text2": ["b", "c"], "label": [1, 0]}).to_csv(
        path, index=False)
    pairs = read_pairs(path)
    assert len(pairs["text1"][0]) == MAX_TEXT_CHARS
    assert "truncated" in caplog.text


def test_a_repeated_header_row_is_refused_with_its_row(tmp_path: Path):
    # Issue 9 #9: "is_duplicate" counted as a positive label, so a header repeated mid-file (two files
    # concatenated) became a duplicate pair.
    path = tmp_path / "concatenated.csv"
    path.write_text("question1,question2,is_duplicate\na,b,1\nc,d,0\nquestion1,question2,is_duplicate\ne,f,1\n")
    with pytest.raises(TextsiamError, match=r"row 2 repeats the header"):
        read_pairs(path)
    with pytest.raises(TextsiamError, match=r"row 0 \('is_duplicate'\)"):
        map_labels(pd.Series(["is_duplicate", "1"]))


@pytest.mark.parametrize("values, expected", [
    (["-1", "1", "1", "-1"], [0, 1, 1, 0]),
    (["0.0", "1.0", "1.00", " 1 "], [0, 1, 1, 1]),
    (["Yes", "NO", "true", "False"], [1, 0, 1, 0]),
])
def test_label_conventions_map_to_0_1(values: list[str], expected: list[int]):
    assert map_labels(pd.Series(values)).tolist() == expected


def test_minus_one_beside_zero_is_ambiguous_and_refused():
    with pytest.raises(TextsiamError, match=r"row 2 \('-1'\)"):
        map_labels(pd.Series(["0", "1", "-1"]))


def test_fractional_labels_are_refused_unless_graded_with_a_hint(tmp_path: Path):
    path = tmp_path / "sts.tsv"
    path.write_text("sentence1\tsentence2\tscore\nA man plays.\tA man is playing.\t4.6\n"
                    "Ein Hund.\tA cat.\t0.4\nКот спит.\tКошка спит.\t5.0\n")
    with pytest.raises(TextsiamError, match=r"row 0 \('4.6'\).*--loss cosine"):
        read_pairs(path)
    graded = read_pairs(path, graded=True)
    assert graded["label"].tolist() == pytest.approx([0.92, 0.08, 1.0])
    unit = tmp_path / "unit.csv"
    unit.write_text("text1,text2,label\na,b,0.25\nc,d,1\ne,f,no\n")
    assert read_pairs(unit, graded=True)["label"].tolist() == pytest.approx([0.25, 1.0, 0.0])


@pytest.mark.parametrize("content", ["text1,text2,label\na,b,7\n", "text1,text2,label\na,b,-0.5\n",
                                     "text1,text2,label\na,b,maybe\n"])
def test_graded_scores_outside_0_5_are_refused_with_rows(tmp_path: Path, content: str):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(TextsiamError, match=r"row 0"):
        read_pairs(path, graded=True)


def spreadsheet_bytes(sep: str, *, bom: bool, crlf: bool) -> bytes:
    rows = [["question1", "question2", "is_duplicate"], ["Как выучить Python?", "как учить python", "1"],
            ["café; noir", "Kaffee", "0"]]
    text = ("\r\n" if crlf else "\n").join(sep.join(f'"{c}"' if sep in c else c for c in row) for row in rows)
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8") + (b"\r\n" if crlf else b"\n")


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_spreadsheet_csv_with_bom_crlf_and_any_separator(tmp_path: Path, sep: str):
    path = tmp_path / "export.csv"
    path.write_bytes(spreadsheet_bytes(sep, bom=True, crlf=True))
    pairs = read_pairs(path)
    assert pairs["text1"].tolist() == ["Как выучить Python?", "café; noir"]
    assert pairs["text2"].tolist() == ["как учить python", "Kaffee"] and pairs["label"].tolist() == [1, 0]


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    if path.name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    else:
        frame.to_json(path, orient="records", lines=True, force_ascii=False, compression="infer")
    return path


@pytest.mark.parametrize("name", ["pairs.parquet", "pairs.jsonl", "pairs.jsonl.gz"])
def test_parquet_and_json_lines_pair_files(tmp_path: Path, name: str):
    frame = pd.DataFrame({"sentence1": ["如何学习编程？", "Как дела?", "", "x"],
                          "sentence2": ["怎样学编程", "Как ты?", "y", "z"], "label": [1, 0, 1, 0]})
    path = write_frame(frame, tmp_path / name)
    pairs = read_pairs(path)
    assert pairs["text1"].tolist() == ["如何学习编程？", "Как дела?", "x"]
    assert pairs["row"].tolist() == [0, 1, 3] and pairs["label"].tolist() == [1, 0, 0]
    chunks = list(read_table(path, chunksize=3))
    assert [len(c) for c in chunks] == [3, 1] and chunks[1].index.tolist() == [3]
    assert chunks[0]["label"].tolist() == ["1", "0", "1"]  # every column is read as text, like a CSV


def test_json_lines_errors_name_the_line(tmp_path: Path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"text1": "a", "text2": "b", "label": 1}\n{"text1": "c", "text2": \n')
    with pytest.raises(TextsiamError, match=rf"{path}: line 2 is not valid JSON"):
        read_pairs(path)
    path.write_text('{"text1": "a", "text2": "b", "label": 1}\n["c", "d", 0]\n')
    with pytest.raises(TextsiamError, match="line 2 is not a JSON object"):
        read_pairs(path)


def test_broken_parquet_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 not really parquet")
    with pytest.raises(TextsiamError, match=f"{path}: not a readable Parquet file"):
        read_pairs(path)


def test_rows_read_used_rejected_are_logged(tmp_path: Path, caplog):
    path = tmp_path / "p.jsonl"
    path.write_text('{"text1": "a", "text2": "b", "label": 1}\n{"text1": " ", "text2": "b", "label": 0}\n')
    with caplog.at_level("INFO", logger="textsiam"):
        read_pairs(path)
    assert "rows read 2, used 1, rejected 1" in caplog.text


def test_find_column_by_name_case_or_known_names():
    columns = ["ID", "Question", "Answer"]
    assert find_column(columns, "question", (), option="--column", source="f.csv") == "Question"
    assert find_column(columns, None, ("query", "question"), option="--column", source="f.csv") == "Question"
    assert find_column(["only"], None, ("text",), option="--column", source="f.csv") == "only"
    with pytest.raises(TextsiamError, match=r"f.csv: no column 'questoin' \(--question-column\)\. Did you mean"):
        find_column(columns, "questoin", (), option="--question-column", source="f.csv")
    with pytest.raises(TextsiamError, match=r"cannot tell which column holds the texts.*pass --column"):
        find_column(columns, None, ("text",), option="--column", source="f.csv")


def test_detect_columns_errors_name_the_callers_options():
    with pytest.raises(TextsiamError, match=r"no column 'q' \(--question\)"):
        detect_columns(["question", "answer"], "q", "answer", options=("--question", "--answer", "--label"))
    with pytest.raises(TextsiamError, match=r"pass --question and --answer"):
        detect_columns(["foo", "bar"], options=("--question", "--answer", "--label"))


def test_headerless_ragged_sts_benchmark_release(tmp_path: Path):
    path = tmp_path / "sts-dev.csv"
    path.write_text('main-captions\tMSRvid\t2012test\t0000\t5.000\tA man "dances".\tA man is dancing.\n'
                    "main-forum\tdeft\t2014\t0001\t1.250\tКот спит.\tA dog runs.\tsrc-a\tsrc-b\n")
    with pytest.raises(TextsiamError, match="--loss cosine"):
        read_pairs(path)
    pairs = read_pairs(path, graded=True)
    assert pairs["text1"].tolist() == ['A man "dances".', "Кот спит."]
    assert pairs["label"].tolist() == pytest.approx([1.0, 0.25])


def test_real_sts_benchmark_reads_graded():
    pairs = read_pairs(shared_file("stsb/sts-train.csv"), graded=True)
    assert len(pairs) == 5749 and pairs["label"].min() == 0 and pairs["label"].max() == 1
