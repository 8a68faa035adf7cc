"""Reading pair files: formats, column detection, label mapping and validation (splits are in splits.py)."""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import TextsiamError, suggest
from .text import clean_texts

logger = logging.getLogger("textsiam")

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "sample_pairs.csv"

# Known column layouts, tried in order: (text1, text2, label). Matching ignores case.
KNOWN_LAYOUTS: list[tuple[str, str, str | None]] = [
    ("question1", "question2", "is_duplicate"),
    ("sentence1", "sentence2", "label"),
    ("text1", "text2", "label"),
    ("question", "answer", "label"),
    ("question", "sentence", "label"),  # WikiQA release TSV
    ("title", "body", None),
    ("anchor", "positive", None),
]
GROUP_COLUMNS = ("question_id", "questionid", "qid")
# The STS benchmark release (stsbenchmark.tar.gz) is headerless; some rows add two source fields.
STSB_COLUMNS = ("genre", "filename", "year", "id", "score", "sentence1", "sentence2", "source1", "source2")

# Label words (any case). Numbers are read as numbers: 1, 1.0, 0, 0.00 (and -1 in a -1/1 column).
# No column name is a label word: a header repeated mid-file must be refused, not read as a pair.
POSITIVE_WORDS = {"true", "yes", "y", "duplicate", "dup", "similar", "match", "pos"}
NEGATIVE_WORDS = {"false", "no", "n", "not_duplicate", "not duplicate", "non-duplicate", "different",
                  "not_similar", "dissimilar", "mismatch", "neg"}
SEPARATORS = (",", "\t", ";")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSON_LINES_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")


def resolve_data(data: str | Path) -> str | Path:
    """Map the special names ``sample`` and ``quora`` to their sources; anything else is a path."""
    if str(data) == "sample":
        return SAMPLE_PATH
    return data


def read_table(path: str | Path, *, sep: str | None = None, header: bool = True, names: Sequence[str] | None = None,
               chunksize: int | None = None, encoding: str = "utf-8") -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a table as strings (missing values ""), with clear errors for every way a file can be broken.

    Formats: CSV or TSV (plain or .gz), Parquet (``.parquet``) and JSON lines (``.jsonl``, ``.jsonl.gz``:
    one JSON object per line). A CSV's separator is sniffed from its first line among comma, tab and
    semicolon, so a TSV named .csv, or a spreadsheet's semicolon export, still reads; a UTF-8 byte-order
    mark and CRLF line ends are fine. ``sep``, ``header`` and ``names`` (column names for a headerless file;
shorter rows are padded with "") apply to CSV/TSV only. With ``chunksize``,
    returns an iterator of DataFrames (for streaming large files) whose index continues across chunks.
    """
    path = Path(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TextsiamError(f"--encoding {encoding!r}: unknown text encoding; try utf-8 or latin-1.") from None
    if not path.exists():
        raise TextsiamError(f"{path}: no such file.")
    if path.is_dir():
        raise TextsiamError(f"{path}: is a directory, expected a CSV, TSV, Parquet or JSON lines file.")
    if path.name.lower().endswith(PARQUET_SUFFIXES):
        return _read_parquet(path, chunksize)
    if path.name.lower().endswith(JSON_LINES_SUFFIXES):
        chunks = _json_line_chunks(path, encoding, chunksize)
        return chunks if chunksize is not None else next(chunks)
    first_line = _first_line(path, encoding)
    if not first_line.strip():
        raise TextsiamError(f"{path}: the file is empty (no header line with column names).")
    if header and first_line.count('"') % 2:
        raise TextsiamError(f"{path}: the header line has an unclosed quote (or a line break inside a quoted "
                            "column name); fix the first line of the file.")
    sep = sep or max(SEPARATORS, key=first_line.count)  # ties (a one-column file) go to the comma
    names = list(names) if names is not None and not header else None
    if header:
        try:
            columns = next(csv.reader([first_line], delimiter=sep))
        except csv.Error as exc:
            raise TextsiamError(f"{path}: malformed header line ({exc}); fix the first line of the file.") from None
        columns = [c.strip() for c in columns]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise TextsiamError(f"{path}: duplicated column name(s) in the header: {', '.join(dupes)}; "
                                "rename them so each column is unique.")
        names = columns
    try:
        reader = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, na_values=[], header=0 if header else None,
            names=names, encoding=encoding, compression="infer",
            engine="c", on_bad_lines="error", chunksize=chunksize,
            # TSV has no quoting (WikiQA, GLUE): a stray " in a text must not swallow the following rows.
            quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL,
        )
        if chunksize is None:
            return _check_not_empty(path, reader)
        return _checked_chunks(path, reader, encoding)
    except (pd.errors.ParserError, UnicodeError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise _read_error(path, exc, encoding) from None


def _as_text(frame: pd.DataFrame, first_row: int = 0) -> pd.DataFrame:
    """Every column as strings, missing values as "", as a CSV reads; the index counts rows from ``first_row``."""
    frame = frame.astype(object).where(frame.notna(), "").astype(str)
    frame.columns = [str(c) for c in frame.columns]
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    return frame


def _read_parquet(path: Path, chunksize: int | None) -> pd.DataFrame | Iterator[pd.DataFrame]:
    import pyarrow
    import pyarrow.parquet as pq

    def fail(exc: Exception) -> TextsiamError:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        return TextsiamError(f"{path}: not a readable Parquet file ({reason}).")

    try:
        parquet = pq.ParquetFile(path)
        if parquet.metadata.num_rows == 0:
            raise TextsiamError(f"{path}: the file has no data rows.")
        if chunksize is None:
            return _as_text(parquet.read().to_pandas())
    except (pyarrow.ArrowException, OSError, ValueError) as exc:
        raise fail(exc) from None

    def chunks() -> Iterator[pd.DataFrame]:
        first = 0
        try:
            for batch in parquet.iter_batches(batch_size=chunksize):
                yield _as_text(batch.to_pandas(), first)
                first += batch.num_rows
        except (pyarrow.ArrowException, OSError, ValueError) as exc:
            raise fail(exc) from None

    return chunks()


def _json_line_chunks(path: Path, encoding: str, chunksize: int | None) -> Iterator[pd.DataFrame]:
    """JSON lines as DataFrames of ``chunksize`` records (all of them if None); blank lines are skipped."""
    opener = gzip.open if path.suffix == ".gz" else open
    records: list[dict] = []
    first = 0
    try:
        with opener(path, "rt", encoding=encoding, newline=None) as fh:
            for number, line in enumerate(fh, start=1):
                line = line.lstrip("\ufeff") if number == 1 else line
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise TextsiamError(f"{path}: line {number} is not valid JSON ({exc.msg}); each line must "
                                        "hold one JSON object.") from None
                if not isinstance(record, dict):
                    raise TextsiamError(f"{path}: line {number} is not a JSON object ({{\"column\": value, ...}}); "
                                        "each line must hold one.")
                records.append(record)
                if chunksize is not None and len(records) == chunksize:
                    yield _as_text(pd.DataFrame.from_records(records), first)
                    first, records = first + len(records), []
    except (UnicodeError, OSError, EOFError) as exc:
        raise _read_error(path, exc, encoding) from None
    if records:
        yield _as_text(pd.DataFrame.from_records(records), first)
    elif first == 0:
        raise TextsiamError(f"{path}: the file is empty (no JSON objects).")


def _checked_chunks(path: Path, reader, encoding: str = "utf-8") -> Iterator[pd.DataFrame]:
    n = 0
    try:
        for chunk in reader:
            n += len(chunk)
            yield chunk
    except (pd.errors.ParserError, UnicodeError, ValueError, OSError, EOFError) as exc:
        raise _read_error(path, exc, encoding) from None
    if n == 0:
        raise TextsiamError(f"{path}: the file has a header but no data rows.")


def _check_not_empty(path: Path, frame: pd.DataFrame) -> pd.DataFrame:
    if len(frame) == 0:
        raise TextsiamError(f"{path}: the file has a header but no data rows.")
    return frame


def _first_line(path: Path, encoding: str) -> str:
    """The first non-blank line (the header), decoded; blank lines before it are skipped, as pandas does."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = b""
            for _ in range(1000):
                raw = fh.readline()
                if not raw or raw.strip(b"\r\n"):
                    break
    except (OSError, EOFError) as exc:
        raise TextsiamError(f"{path}: cannot read the file ({exc}).") from None
    try:
        line = raw.decode(encoding).lstrip("\ufeff").rstrip("\r\n")
    except UnicodeError as exc:
        raise _read_error(path, exc, encoding) from None
    return line.split("\r")[0]  # a lone carriage return ends a line too (old Mac files), as pandas reads it


def _read_error(path: Path, exc: Exception, encoding: str) -> TextsiamError:
    if isinstance(exc, UnicodeError):
        line = _line_of_bad_byte(path, encoding)
        where = f" (line {line})" if line else ""
        return TextsiamError(f"{path}: not valid {encoding} text{where}; re-save the file as UTF-8, "
                             "or pass --encoding latin-1 if that is what it is.")
    if isinstance(exc, pd.errors.EmptyDataError):
        return TextsiamError(f"{path}: the file is empty.")
    if isinstance(exc, (OSError, EOFError)):
        hint = "; is the .gz file complete?" if path.suffix == ".gz" else "."
        return TextsiamError(f"{path}: cannot read the file ({type(exc).__name__}: {exc}){hint}")
    message = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
    message = message.replace("Error tokenizing data. C error: ", "")
    return TextsiamError(f"{path}: malformed CSV/TSV: {message}. Check for ragged rows or an unclosed quote.")


def _line_of_bad_byte(path: Path, encoding: str) -> int | None:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            for number, raw in enumerate(fh, start=1):
                try:
                    raw.decode(encoding)
                except UnicodeError:
                    return number
    except (OSError, EOFError):
        return None
    return None


def find_column(columns: list[str], name: str | None, known_names: Sequence[str], *, option: str,
                source: str) -> str:
    """The one column finder: ``name`` (exact, else ignoring case) or, if None, the first of ``known_names``
    present (ignoring case), or the only column. Errors name ``option``, the option the user passes."""
    by_lower = {c.lower(): c for c in columns}
    if name is not None:
        if name in columns:
            return name
        if name.lower() in by_lower:
            return by_lower[name.lower()]
        raise TextsiamError(f"{source}: no column {name!r} ({option}).{suggest(name, columns)} "
                            f"Columns are: {', '.join(columns)}.")
    found = next((by_lower[known.lower()] for known in known_names if known.lower() in by_lower), None)
    if found is None and len(columns) == 1:
        found = columns[0]
    if found is None:
        raise TextsiamError(f"{source}: cannot tell which column holds the texts (columns: {', '.join(columns)}); "
                            f"pass {option}.")
    return found


def detect_columns(columns: list[str], text1: str | None = None, text2: str | None = None,
                   label: str | None = None, *, source: str = "the file",
                   options: tuple[str, str, str] = ("--text1", "--text2", "--label")) -> tuple[str, str, str | None]:
    """Find the two text columns and the label column, by the names given or by known layouts.

    ``options`` are the caller's names for the three columns' options, which error messages mention.
    """
    by_lower = {c.lower(): c for c in columns}
    text1_option, text2_option, label_option = options

    def pick(name: str, option: str) -> str:
        return find_column(columns, name, (), option=option, source=source)

    if text1 or text2:
        if not (text1 and text2):
            raise TextsiamError(f"give both {text1_option} and {text2_option}, or neither to detect them.")
        found_label = pick(label, label_option) if label else _known_label(by_lower)
        return pick(text1, text1_option), pick(text2, text2_option), found_label
    for t1, t2, lab in KNOWN_LAYOUTS:
        if t1 in by_lower and t2 in by_lower:
            found_label = pick(label, label_option) if label else (by_lower.get(lab) if lab else None)
            return by_lower[t1], by_lower[t2], found_label or _known_label(by_lower)
    raise TextsiamError(
        f"{source}: cannot tell which columns hold the two texts (columns: {', '.join(columns)})."
        f"{_near_misses(columns)} "
        "Name them question1/question2, sentence1/sentence2, text1/text2, question/answer or title/body, "
        f"or pass {text1_option} and {text2_option} (and {label_option})."
    )


def _near_misses(columns: list[str]) -> str:
    """' Misspelt? 'questoin1' -> 'question1'.' for columns that look like misspelt known column names."""
    known = list(dict.fromkeys(name for layout in KNOWN_LAYOUTS for name in layout if name))
    hints = []
    for column in columns:
        if column.lower() in known:
            continue
        close = difflib.get_close_matches(column.lower(), known, n=1, cutoff=0.75)
        if close:
            hints.append(f"{column!r} -> {close[0]!r}")
    return f" Misspelt? {', '.join(hints)}." if hints else ""


def _known_label(by_lower: dict[str, str]) -> str | None:
    for name in ("is_duplicate", "label", "is_similar", "is_relevant", "score"):
        if name in by_lower:
            return by_lower[name]
    return None


def map_labels(values: pd.Series, *, source: str = "the file", column: str = "label") -> np.ndarray:
    """Map binary labels to 0/1; refuse anything else, naming the rows.

    Accepted: 0/1 in any numeric spelling (``1``, ``1.0``, ``0.00``), -1/1 (where the column has no 0),
    true/false, yes/no, duplicate/not_duplicate and similar words, in any case. Fractional scores are
    refused here: see ``graded_labels``.
    """
    lowered, numbers = _words_and_numbers(values)
    out = np.full(len(values), -1, dtype=np.int64)
    out[lowered.isin(POSITIVE_WORDS).to_numpy() | (numbers == 1)] = 1
    out[lowered.isin(NEGATIVE_WORDS).to_numpy() | (numbers == 0)] = 0
    if (numbers == -1).any() and not (out == 0).any():  # the -1/1 convention
        out[numbers == -1] = 0
    bad = np.flatnonzero(out < 0)
    if len(bad):
        graded = bool(((numbers[bad] >= 0) & (numbers[bad] <= 5)).all())
        hint = " Graded similarity scores (0-1 or 0-5) can train with --loss cosine or --loss cosent." if graded else ""
        raise TextsiamError(f"{source}: column {column!r} has {len(bad)} label(s) that are not 0/1, "
                            f"yes/no, true/false or duplicate/not_duplicate: {_examples(values, bad)}.{hint}")
    return out


def graded_labels(values: pd.Series, *, source: str = "the file", column: str = "label") -> np.ndarray:
    """Similarity scores as floats in [0, 1], for ``--loss cosine``.

    Scores in 0-1 are kept; a column with a score above 1 is read as 0-5 (STS-B) and divided by 5. Binary
    labels (see ``map_labels``) become 0.0/1.0. Anything else (words, negatives, above 5) is refused.
    """
    lowered, numbers = _words_and_numbers(values)
    out = numbers.copy()
    if (numbers == -1).any() and np.isin(numbers[~np.isnan(numbers)], (-1, 1)).all():  # the -1/1 convention
        out[numbers == -1] = 0.0
    out[lowered.isin(POSITIVE_WORDS).to_numpy()] = 1.0
    out[lowered.isin(NEGATIVE_WORDS).to_numpy()] = 0.0
    bad = np.flatnonzero(~((out >= 0) & (out <= 5)))  # NaN fails both
    if len(bad):
        raise TextsiamError(f"{source}: column {column!r} has {len(bad)} score(s) that are not numbers from 0 to 1 "
                            f"(or 0 to 5, as in STS-B): {_examples(values, bad)}.")
    if (out > 1).any():
        logger.info("%s: column %r has scores above 1; reading them as 0-5 (STS-B) and dividing by 5.", source,
                    column)
        scored = ~np.isnan(numbers)
        out[scored] = out[scored] / 5
    return out


def _words_and_numbers(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Each value stripped and lower-cased, and as a number (NaN where it is not one)."""
    lowered = values.astype(str).str.strip().str.lower()
    numbers = pd.to_numeric(lowered.where(~lowered.isin(["nan", "inf", "-inf", "infinity"])), errors="coerce")
    return lowered, numbers.to_numpy(dtype=float)


def _examples(values: pd.Series, rows: np.ndarray) -> str:
    examples = ", ".join(f"row {i} ({values.iloc[i]!r})" for i in rows[:5])
    return examples + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")


def read_frame(path: str | Path, *, encoding: str = "utf-8",
               headerless_names: tuple[str, str, str] = ("text1", "text2", "label")) -> pd.DataFrame:
    """``read_table``, except for two headerless releases: WikiQASent (question, sentence, 0/1) is re-read
    with ``headerless_names``, the STS benchmark (genre, file, year, id, score, sentence1, sentence2[, sources])
    with its own column names (see ``STSB_COLUMNS``)."""
    try:
        frame = read_table(path, encoding=encoding)
    except TextsiamError:  # the STS benchmark is ragged: some rows have two extra source fields
        if not _looks_like_stsb(_first_fields(path, encoding)):
            raise
        frame = None
    if frame is None or _looks_like_stsb(list(frame.columns)):
        return read_table(path, header=False, names=STSB_COLUMNS, sep="\t", encoding=encoding)
    if _looks_headerless(list(frame.columns)):
        frame = read_table(path, header=False, encoding=encoding)
        frame.columns = list(headerless_names[: frame.shape[1]]) + [f"c{i}" for i in range(3, frame.shape[1])]
    return frame


def read_pairs(data: str | Path, *, text1: str | None = None, text2: str | None = None,
               label: str | None = None, require_label: bool = True, encoding: str = "utf-8",
               graded: bool = False) -> pd.DataFrame:
    """Read a pair file (any ``read_table`` format) into a table: ``row, text1, text2, label[, group]``.

    ``data`` is a path, ``sample`` (the bundled offline sample) or ``quora`` (QQP from the Hub).
    ``row`` is the 0-based data-row number in the file. Texts are ``clean_texts``; rows whose text is empty
    are dropped with a warning that names them, and rows read / used / rejected are logged. ``label`` is
    0/1 (see ``map_labels``), or -1 for every row where the file has no labels and ``require_label`` is
    False. With ``graded=True`` (``--loss cosine`` or ``cosent``) labels may be similarity scores, 0-1 or 0-5 as in
    STS-B, and come back as floats in [0, 1] (see ``graded_labels``); otherwise fractional labels are
    refused. A row that repeats the header (two files joined) is refused with its row number.
    """
    if str(data) == "quora":
        return _read_quora_from_hub()
    path = Path(resolve_data(data))
    frame = read_frame(path, encoding=encoding)
    columns = list(frame.columns)
    c1, c2, c_label = detect_columns(columns, text1, text2, label, source=str(path))
    _refuse_repeated_header(frame, [c for c in (c1, c2, c_label) if c is not None], path)
    pairs = pd.DataFrame({"row": np.arange(len(frame)), "text1": clean_texts(frame[c1], source=str(path)),
                          "text2": clean_texts(frame[c2], source=str(path))})
    if c_label is not None:
        to_labels = graded_labels if graded else map_labels
        pairs["label"] = to_labels(frame[c_label], source=str(path), column=c_label)
    elif require_label:
        raise TextsiamError(f"{path}: no label column found (columns: {', '.join(columns)}); "
                            "name it is_duplicate or label, or pass --label.")
    else:
        pairs["label"] = -1
    group_col = next((c for c in columns if c.lower() in GROUP_COLUMNS), None)
    if group_col is not None:
        pairs["group"] = frame[group_col].astype(str).to_numpy()
    empty = (pairs["text1"] == "") | (pairs["text2"] == "")
    if empty.all():
        raise TextsiamError(f"{path}: every row has an empty text in {c1!r} or {c2!r}; "
                            "check the column names (--text1, --text2).")
    if empty.any():
        rows = pairs.loc[empty, "row"].tolist()
        logger.warning("%s: skipped %d row(s) with an empty text: rows %s%s.", path, len(rows),
                       ", ".join(map(str, rows[:10])), " …" if len(rows) > 10 else "")
        pairs = pairs[~empty].reset_index(drop=True)
    logger.info("%s: rows read %d, used %d, rejected %d (empty text).", path, len(frame), len(pairs),
                int(empty.sum()))
    return pairs


def _refuse_repeated_header(frame: pd.DataFrame, columns: list[str], path: Path) -> None:
    """A data row whose cells are the column names is a header line left by joining two files."""
    repeats = np.ones(len(frame), dtype=bool)
    for column in columns:
        repeats &= (frame[column].astype(str).str.strip().str.lower() == column.strip().lower()).to_numpy()
    if repeats.any():
        rows = np.flatnonzero(repeats)
        more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
        raise TextsiamError(f"{path}: row {rows[0]}{more} repeats the header ({', '.join(columns)}); were two files "
                            "joined? Delete those lines.")


def _first_fields(path: str | Path, encoding: str) -> list[str]:
    try:
        return _first_line(Path(path), encoding).split("\t")
    except (TextsiamError, LookupError, OSError):
        return []


def _looks_like_stsb(fields: list[str]) -> bool:
    """A first line of 7 or 9 tab-separated fields whose fifth is a 0-5 score and fourth an id: STS benchmark data."""
    if len(fields) not in (7, 9) or not fields[3].strip().isdigit():
        return False
    try:
        return 0 <= float(fields[4]) <= 5
    except ValueError:
        return False


def _looks_headerless(columns: list[str]) -> bool:
    """A header row whose last field is a 0/1 label and which names no known column is data (WikiQASent)."""
    known = {name for layout in KNOWN_LAYOUTS for name in layout if name} | {"label", "is_duplicate"}
    return len(columns) >= 3 and columns[-1].strip() in {"0", "1"} and not known & {c.lower() for c in columns}


def _hub_reachable(host: str = "huggingface.co", timeout: float = 3.0) -> bool:
    """A quick connection probe, so offline users get an answer in seconds rather than after retries."""
    import os
    import socket

    if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
        return True  # offline mode reads the local cache; let datasets try it
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _read_quora_from_hub() -> pd.DataFrame:
    offline_help = ("Use --data sample for the bundled offline sample, or --data PATH to a CSV/TSV such as "
                    "Kaggle's QQP train.csv (or set HF_HUB_OFFLINE=1 to use a copy already in your cache).")
    if not _hub_reachable():
        raise TextsiamError("--data quora downloads Quora Question Pairs from the Hugging Face Hub, which is "
                            f"not reachable from this machine. {offline_help}")
    try:
        from datasets import load_dataset

        dataset = load_dataset("nyu-mll/glue", "qqp", split="train")
    except Exception as exc:  # offline, hub down, or datasets missing: all mean the same to the user
        raise TextsiamError(f"--data quora: could not load QQP from the Hugging Face Hub "
                            f"({type(exc).__name__}). {offline_help}") from None
    frame = dataset.to_pandas()
    return pd.DataFrame({"row": np.arange(len(frame)), "text1": clean_texts(frame["question1"]),
                         "text2": clean_texts(frame["question2"]), "label": frame["label"].astype(np.int64)})
