"""Print a file written by `textsiam predict` as a short table: text 1, text 2, probability, duplicate yes/no.

Used by `make demo`: python scripts/show_scored.py models/sample-examples.csv
"""

from __future__ import annotations

import sys

import pandas as pd


def scored_table(path: str) -> str:
    """The two text columns of a scored pair file, its probability (or score) and the yes/no decision."""
    scored = pd.read_csv(path, sep=None, engine="python", dtype={"reason": str})
    text1, text2 = scored.columns[:2]
    value = "probability" if "probability" in scored else "score"
    table = pd.DataFrame({
        "text 1": scored[text1],
        "text 2": scored[text2],
        value: scored[value].round(3),
        "duplicate": scored["is_duplicate"].map({1: "yes", 0: "no"}).fillna("-"),
    })
    return table.to_string(index=False)


if __name__ == "__main__":
    print(scored_table(sys.argv[1]))
