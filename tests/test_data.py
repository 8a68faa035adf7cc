import gzip
from pathlib import Path

import pandas as pd
import pytest

from textsiam.data import map_labels, read_pairs
from textsiam.errors import TextsiamError
from textsiam.text import MAX_TEXT_CHARS


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
