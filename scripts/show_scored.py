"""Print a file written by `textsiam predict` as a short table: text 1, text 2, probability, duplicate yes/no.

Used by `make demo`: python scripts/show_scored.py models/sample-examples.csv
"""

from __future__ import annotations

import sys
import unicodedata

import pandas as pd


def display_width(text: str) -> int:
    """Terminal columns of ``text``: Chinese, Japanese and Korean characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * (width - display_width(text))


def scored_table(path: str) -> str:
    """The two text columns of a scored pair file, its probability (or score) and the yes/no decision."""
    scored = pd.read_csv(path, sep=None, engine="python", dtype={"reason": str})
    text1, text2 = scored.columns[:2]
    scored[[text1, text2]] = scored[[text1, text2]].fillna("").astype(str)
    value = "probability" if "probability" in scored else "score"
    width1, width2 = (max(len(name), *scored[column].map(display_width))
                      for name, column in (("text 1", text1), ("text 2", text2)))
    lines = [f"{pad('text 1', width1)}  {pad('text 2', width2)}  {value:>11}  duplicate"]
    for first, second, number, decision in zip(scored[text1], scored[text2], scored[value], scored["is_duplicate"],
                                               strict=True):
        answer = {1: "yes", 0: "no"}.get(decision, "-")  # "-": a row that could not be scored (empty text)
        lines.append(f"{pad(first, width1)}  {pad(second, width2)}  {number:>11.3f}  {answer}")
    return "\n".join(lines)


if __name__ == "__main__":
    print(scored_table(sys.argv[1]))
