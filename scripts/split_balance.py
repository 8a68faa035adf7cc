"""How balanced textsiam's grouped splits are on the shared data sets: sizes, duplicate rate per split, and the
number of group keys found in more than one split (must be 0). Quality figures only, no timings.

    .venv/bin/python scripts/split_balance.py            # writes scripts/results/split_balance.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from textsiam.data import read_pairs
from textsiam.splits import grouped_split
from textsiam.text import group_key

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
FILES = ["qqp/qqp_merged.csv.gz", "qqp/qqp_kaggle_sample_natural.csv.gz", "lcqmc/train.csv.gz", "lcqmc/dev.csv.gz",
         "wikiqa/WikiQASent-train.txt.gz"]


def crossing_keys(pairs: pd.DataFrame, split: np.ndarray) -> int:
    """How many group keys occur in more than one split."""
    keys = pd.DataFrame({"key": pd.concat([pairs["text1"], pairs["text2"]]).map(group_key).to_numpy(),
                         "split": np.concatenate([split, split])})
    return int((keys.groupby("key")["split"].nunique() > 1).sum())


def balance(path: Path, seed: int) -> dict:
    pairs = read_pairs(path)
    split = grouped_split(pairs, seed=seed)
    parts = {name: {"pairs": int((split == name).sum()),
                    "duplicate_rate": round(float(pairs.loc[split == name, "label"].mean()), 4)}
             for name in ("train", "dev", "test")}
    return {"pairs": len(pairs), "duplicate_rate": round(float(pairs["label"].mean()), 4), "splits": parts,
            "keys_in_two_splits": crossing_keys(pairs, split), "seed": seed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "split_balance.json")
    args = parser.parse_args()
    results = {name: balance(SHARED / name, args.seed) for name in FILES if (SHARED / name).exists()}
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    for name, result in results.items():
        rates = ", ".join(f"{s} {v['pairs']} ({v['duplicate_rate']:.3f})" for s, v in result["splits"].items())
        print(f"{name}: {result['pairs']} pairs, duplicate rate {result['duplicate_rate']:.3f}; {rates}; "
              f"keys in two splits: {result['keys_in_two_splits']}")


if __name__ == "__main__":
    main()
