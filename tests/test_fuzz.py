"""Fuzzing the pair-file reader: random bytes and random CSV shapes either read or fail with a TextsiamError
whose message is one line naming the file; nothing else may escape."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from textsiam.data import read_pairs, read_table
from textsiam.errors import TextsiamError

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "0", "1", "yes", "no", "duplicate", "NaN", "null", '"', '""', ",", "\t", "\n", "\r\n",
                     "é", "\x00", "\ufeff", "question1", "question2", "is_duplicate", "label"]),
)
headers = st.one_of(
    st.just(["question1", "question2", "is_duplicate"]),
    st.just(["text1", "text2", "label"]),
    st.just(["title", "body"]),
    st.lists(cells, min_size=0, max_size=5),
)


def read_both(content: bytes, name: str = "fuzz.csv") -> None:
    """Call read_table (whole and chunked) and read_pairs on ``content``; only a clean TextsiamError may escape."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        path.write_bytes(content)
        calls = {"table": lambda: read_table(path), "chunks": lambda: list(read_table(path, chunksize=3)),
                 "pairs": lambda: read_pairs(path), "unlabelled": lambda: read_pairs(path, require_label=False)}
        for kind, call in calls.items():
            try:
                result = call()
            except TextsiamError as exc:
                message = str(exc)
                assert message.strip(), "empty error message"
                assert "Traceback" not in message
                assert str(path) in message or message.startswith(("give both", "--")), message
                continue
            if kind in ("pairs", "unlabelled"):
                assert isinstance(result, pd.DataFrame) and list(result.columns[:4]) == ["row", "text1", "text2",
                                                                                          "label"]
                assert (result["text1"] != "").all() and (result["text2"] != "").all()
                assert set(result["label"]) <= {-1, 0, 1}


@FUZZ
@given(st.binary(max_size=400))
def test_random_bytes(content: bytes):
    read_both(content)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_behind_a_plausible_header(content: bytes):
    read_both(b"question1,question2,is_duplicate\n" + content)


@FUZZ
@given(header=headers, rows=st.lists(st.lists(cells, min_size=0, max_size=5), max_size=8),
       delimiter=st.sampled_from([",", "\t", ";"]), quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_NONE]),
       ragged=st.booleans(), gz=st.booleans())
def test_random_csv_shapes(header, rows, delimiter, quoting, ragged, gz):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, quoting=quoting, escapechar="\\", lineterminator="\n")
    try:
        writer.writerow(header)
        for row in rows:
            writer.writerow(row if ragged else (row + [""] * len(header))[: max(len(header), 1)])
    except csv.Error:  # the writer itself cannot express this shape (e.g. a lone empty field, unquoted)
        assume(False)
    content = buffer.getvalue().encode("utf-8", errors="surrogatepass")
    if gz:
        read_both(gzip.compress(content), "fuzz.csv.gz")
    else:
        read_both(content)


@FUZZ
@given(st.binary(min_size=1, max_size=300), st.integers(0, 299))
def test_truncated_or_corrupt_gzip(content: bytes, cut: int):
    packed = gzip.compress(b"text1,text2,label\n" + content)
    read_both(packed[: max(1, min(cut, len(packed) - 1))], "fuzz.csv.gz")


json_values = st.one_of(st.none(), st.booleans(), st.integers(-2, 7), st.floats(allow_nan=True), st.text(max_size=8),
                        st.lists(st.integers(), max_size=2))


@FUZZ
@given(st.lists(st.one_of(st.dictionaries(st.sampled_from(["text1", "text2", "label", "x"]), json_values, max_size=4),
                          json_values), max_size=6),
       st.binary(max_size=40), st.booleans())
def test_random_json_lines(records, tail: bytes, gz: bool):
    import json

    content = "".join(json.dumps(r) + "\n" for r in records).encode() + tail
    read_both(gzip.compress(content) if gz else content, "fuzz.jsonl.gz" if gz else "fuzz.jsonl")


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_named_parquet(content: bytes):
    read_both(b"PAR1" + content, "fuzz.parquet")
