"""Reading pair files: formats, column detection, label mapping and validation (splits are in splits.py)."""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
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

POSITIVE_WORDS = {"1", "1.0", "true", "yes", "y", "duplicate", "is_duplicate", "dup", "similar", "match", "pos"}
NEGATIVE_WORDS = {"0", "0.0", "false", "no", "n", "not_duplicate", "not duplicate", "non-duplicate",
                  "different", "not_similar", "dissimilar", "mismatch", "neg"}


def resolve_data(data: str | Path) -> str | Path:
    """Map the special names ``sample`` and ``quora`` to their sources; anything else is a path."""
    if str(data) == "sample":
        return SAMPLE_PATH
    return data


def read_table(path: str | Path, *, sep: str | None = None, header: bool = True,
               chunksize: int | None = None, encoding: str = "utf-8") -> pd.DataFrame | Iterator[pd.DataFrame]:
    """Read a CSV or TSV (plain or .gz) as strings, with clear errors for every way a file can be broken.

    The separator is sniffed from the first line, so a TSV named .csv (or the reverse) still reads.
    With ``chunksize``, returns an iterator of DataFrames (for streaming large files).
    """
    path = Path(path)
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise TextsiamError(f"--encoding {encoding!r}: unknown text encoding; try utf-8 or latin-1.") from None
    if not path.exists():
        raise TextsiamError(f"{path}: no such file.")
    if path.is_dir():
        raise TextsiamError(f"{path}: is a directory, expected a CSV or TSV file.")
    first_line = _first_line(path, encoding)
    if not first_line.strip():
        raise TextsiamError(f"{path}: the file is empty (no header line with column names).")
    if header and first_line.count('"') % 2:
        raise TextsiamError(f"{path}: the header line has an unclosed quote (or a line break inside a quoted "
                            "column name); fix the first line of the file.")
    sep = sep or ("\t" if first_line.count("\t") > first_line.count(",") else ",")
    names = None
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
            names=names if header else None, encoding=encoding, compression="infer",
            engine="c", on_bad_lines="error", chunksize=chunksize,
            # TSV has no quoting (WikiQA, GLUE): a stray " in a text must not swallow the following rows.
            quoting=csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL,
        )
        if chunksize is None:
            return _check_not_empty(path, reader)
        return _checked_chunks(path, reader, encoding)
    except (pd.errors.ParserError, UnicodeError, pd.errors.EmptyDataError, ValueError, OSError, EOFError) as exc:
        raise _read_error(path, exc, encoding) from None


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
    """Map 0/1, true/false, yes/no, duplicate/not_duplicate (any case) to 0/1; reject anything else."""
    lowered = values.astype(str).str.strip().str.lower()
    out = np.full(len(values), -1, dtype=np.int64)
    out[lowered.isin(POSITIVE_WORDS).to_numpy()] = 1
    out[lowered.isin(NEGATIVE_WORDS).to_numpy()] = 0
    bad = np.flatnonzero(out < 0)
    if len(bad):
        examples = ", ".join(f"row {i} ({values.iloc[i]!r})" for i in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise TextsiamError(f"{source}: column {column!r} has {len(bad)} label(s) that are not 0/1, "
                            f"yes/no, true/false or duplicate/not_duplicate: {examples}{more}.")
    return out


def read_frame(path: str | Path, *, encoding: str = "utf-8",
               headerless_names: tuple[str, str, str] = ("text1", "text2", "label")) -> pd.DataFrame:
    """``read_table``, except that a headerless file (WikiQASent) is re-read with ``headerless_names``."""
    frame = read_table(path, encoding=encoding)
    if _looks_headerless(list(frame.columns)):
        frame = read_table(path, header=False, encoding=encoding)
        frame.columns = list(headerless_names[: frame.shape[1]]) + [f"c{i}" for i in range(3, frame.shape[1])]
    return frame


def read_pairs(data: str | Path, *, text1: str | None = None, text2: str | None = None,
               label: str | None = None, require_label: bool = True, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a pair file into a table with columns ``row, text1, text2, label[, group]``.

    ``data`` is a path, ``sample`` (the bundled offline sample) or ``quora`` (QQP from the Hub).
    ``row`` is the 0-based data-row number in the file. Rows whose text is empty are dropped with a
    warning that names them. ``label`` is -1 where the file has no labels and ``require_label`` is False.
    """
    if str(data) == "quora":
        return _read_quora_from_hub()
    path = Path(resolve_data(data))
    frame = read_frame(path, encoding=encoding)
    columns = list(frame.columns)
    c1, c2, c_label = detect_columns(columns, text1, text2, label, source=str(path))
    pairs = pd.DataFrame({"row": np.arange(len(frame)), "text1": clean_texts(frame[c1], source=str(path)),
                          "text2": clean_texts(frame[c2], source=str(path))})
    if c_label is not None:
        pairs["label"] = map_labels(frame[c_label], source=str(path), column=c_label)
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
