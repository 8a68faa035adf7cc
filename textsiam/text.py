"""The one text normaliser: the text a model encodes, and the keys under which two texts count as the same.

The rules, used by every command:

* ``clean_text``: what a model encodes. A missing text becomes ""; surrounding whitespace is stripped; the
  text is cut to ``MAX_TEXT_CHARS`` characters. Case, accents and inner spacing are kept: the model sees
  what the user wrote, never a keyed form.
* ``duplicate_key``: two texts are exact duplicates when these are equal: Unicode NFKC (full-width and
  compatibility forms folded), casefolded, whitespace runs collapsed to one space.
* ``group_key``: the key grouped splits join texts on. NFKC and casefold, then only Unicode letters, marks
  and digits of any script are kept, so tokenised "idea ?" and raw "idea?" share a key, as do
  "Как выучить Python?" and "как выучить python", while two different Chinese questions do not. A text
  with no letter or digit (only punctuation or emoji) keeps its ``duplicate_key``: no non-empty text gets
  an empty key.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
import unicodedata

import numpy as np
import pandas as pd

logger = logging.getLogger("textsiam")

MAX_TEXT_CHARS = 20_000  # longer texts are cut: no tower reads that far, and tokenising megabytes is slow


def clean_text(text: object) -> str:
    """The text a model encodes: stripped, cut to MAX_TEXT_CHARS characters; missing (None/NaN) -> ""."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return str(text).strip()[:MAX_TEXT_CHARS]


def clean_texts(texts: pd.Series, *, source: str | None = None) -> pd.Series:
    """``clean_text`` of every text, with one warning saying how many were cut and the first one's row.

    The row is the series' index label, so a chunk of a larger file reports its row in the whole file.
    """
    stripped = texts.fillna("").astype(str).str.strip()
    too_long = (stripped.str.len() > MAX_TEXT_CHARS).to_numpy()
    if too_long.any():
        where = f"{source}: column {texts.name!r}: " if source else ""
        logger.warning("%s%d text(s) longer than %d characters were truncated (first at row %s).", where,
                       int(too_long.sum()), MAX_TEXT_CHARS, texts.index[np.flatnonzero(too_long)[0]])
    return stripped.str.slice(0, MAX_TEXT_CHARS)


def duplicate_key(text: str) -> str:
    """NFKC, casefold, whitespace collapsed: texts with equal keys are exact duplicates."""
    return " ".join(unicodedata.normalize("NFKC", str(text)).casefold().split())


def group_key(text: str) -> str:
    """NFKC, casefold, Unicode letters/marks/digits only; a text without any keeps its ``duplicate_key``."""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    # NFC again: dropping a space can leave a letter next to a combining mark they compose into (a + ´).
    letters = unicodedata.normalize("NFC", _not_letter_or_digit().sub("", folded))
    return letters or " ".join(folded.split()) or str(text)


@functools.cache
def _not_letter_or_digit() -> re.Pattern[str]:
    """Runs of characters that are not letters, digits or combining marks (Devanagari vowel signs, ...).

    ``\\w`` covers letters and digits of every script but not combining marks, so the mark ranges are
    added from the running Python's Unicode tables (built once, on first use).
    """
    ranges, start = [], None
    for code in range(sys.maxunicode + 2):
        is_mark = code <= sys.maxunicode and unicodedata.category(chr(code)).startswith("M")
        if is_mark and start is None:
            start = code
        elif not is_mark and start is not None:
            ranges.append(f"{re.escape(chr(start))}-{re.escape(chr(code - 1))}")
            start = None
    return re.compile(rf"(?:[^\w{''.join(ranges)}]|_)+")
