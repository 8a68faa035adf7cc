"""Write data/sample_pairs.csv, the hand-written pair set behind `textsiam train --data sample` and `make demo`.

The texts are in scripts/sample_texts.txt, written for this project (not taken from any data set). A line
``# ...`` starts a *family*; inside it, blank lines separate *groups*: questions written to mean the same
thing. A family's groups share words but differ in meaning ("learn Python" vs "uninstall Python").

Pairs: every two questions of a group are duplicates (label 1); questions from the other group of the same
family are hard negatives (label 0); questions from the family written next to it (families 1-2, 3-4, ...,
unrelated topics) are easy negatives. Each such block of two families is one connected component of the
pair graph, so textsiam's grouped split deals whole blocks to train, dev and test.

Deterministic: re-running writes the same file (tests/test_sample.py checks it).
"""

from __future__ import annotations

import csv
import random
from itertools import combinations, product
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXTS = ROOT / "scripts" / "sample_texts.txt"
OUTPUT = ROOT / "data" / "sample_pairs.csv"
HARD_NEGATIVES_PER_FAMILY = 10
EASY_NEGATIVES_PER_BLOCK = 8
SEED = 13

Family = list[list[str]]


def read_families(path: Path = TEXTS) -> list[Family]:
    """The families of ``path``: each a list of groups, each group a list of questions meaning the same."""
    families: list[Family] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("#"):
            families.append([[]])
        elif not line:
            if families and families[-1][-1]:
                families[-1].append([])
        else:
            families[-1][-1].append(line)
    return [[group for group in family if group] for family in families]


def block_pairs(first: Family, second: Family, rng: random.Random) -> list[tuple[str, str, int]]:
    """Labelled pairs of one block of two families: duplicates, hard negatives and easy negatives."""
    rows = [(a, b, 1) for family in (first, second) for group in family for a, b in combinations(group, 2)]
    for family in (first, second):
        across = [(a, b) for one, other in combinations(family, 2) for a, b in product(one, other)]
        rows += [(a, b, 0) for a, b in rng.sample(across, min(HARD_NEGATIVES_PER_FAMILY, len(across)))]
    unrelated = list(product(sum(first, []), sum(second, [])))
    rows += [(a, b, 0) for a, b in rng.sample(unrelated, EASY_NEGATIVES_PER_BLOCK)]
    # Either text may come first, as in real pair files.
    return [(b, a, label) if rng.random() < 0.5 else (a, b, label) for a, b, label in rows]


def make_pairs(families: list[Family], seed: int = SEED) -> list[tuple[str, str, int]]:
    """All labelled pairs, blocks of two consecutive families, in a seeded random order."""
    if len(families) % 2:
        raise ValueError(f"{TEXTS.name} must hold an even number of families (blocks of two), not {len(families)}")
    rng = random.Random(seed)
    rows = [row for i in range(0, len(families), 2) for row in block_pairs(families[i], families[i + 1], rng)]
    rng.shuffle(rows)
    return rows


def main(output: Path = OUTPUT) -> None:
    rows = make_pairs(read_families())
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["question1", "question2", "is_duplicate"])
        writer.writerows(rows)
    positives = sum(label for _, _, label in rows)
    print(f"wrote {len(rows)} pairs ({positives} duplicates, {len(rows) - positives} not) to {output}")


if __name__ == "__main__":
    main()
