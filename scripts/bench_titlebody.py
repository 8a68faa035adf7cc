"""Title/body matching (positive pairs only): one shared tower vs separate towers, on forum questions.

Builds a title/body set from ../shared/data/semeval2016_cqa_subtaskB (the subject and body of every
distinct Qatar Living question in all three splits), trains with in-batch negatives through
``textsiam.train`` (grouped 80/10/10 split, threshold on dev), and reports on the test split:

- F1 / ROC-AUC on sampled negatives (each title with its own body, and with another test body), as
  textsiam's trainer reports them;
- ranking: each test title against every test body (its own body is the one correct candidate):
  MRR, P@1 and MAP (= MRR here).

    python scripts/bench_titlebody.py [--runs zeroshot siamese pseudo lstm-siamese lstm-pseudo]

all-MiniLM-L6-v2 was trained on Quora duplicates and other QA/forum data (possibly overlapping these
forum posts), so its numbers are not a clean held-out measure.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from textsiam.data import read_pairs
from textsiam.evaluation import evaluate_pairs
from textsiam.hub import resolve_model
from textsiam.metrics import choose_threshold, ranking_metrics
from textsiam.model import SiameseModel
from textsiam.splits import with_sampled_negatives
from textsiam.text import group_key
from textsiam.training import TrainConfig, load_splits, train

SEMEVAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "semeval2016_cqa_subtaskB"
MINILM_NOTE = ("all-MiniLM-L6-v2 was trained on Quora duplicates and other QA/forum data (possibly "
               "overlapping): not a clean held-out measure")
RUNS = ("zeroshot", "siamese", "pseudo", "lstm-siamese", "lstm-pseudo")


def build_title_body(out: Path) -> Path:
    """One (title, body) row per distinct question body; titles that merely repeat the body are dropped."""
    frames = [pd.read_csv(SEMEVAL / f"{split}.csv", dtype=str, keep_default_na=False)
              for split in ("train", "dev", "test")]
    frame = pd.concat(frames, ignore_index=True)
    sides = [frame[[f"{side}_subject", f"{side}_body"]].set_axis(["title", "body"], axis=1)
             for side in ("orig", "rel")]
    pairs = pd.concat(sides, ignore_index=True).map(lambda text: " ".join(str(text).split()))
    pairs = pairs[(pairs["title"] != "") & (pairs["body"] != "")]
    pairs = pairs[pairs["title"].map(group_key) != pairs["body"].map(group_key)]
    pairs = pairs.drop_duplicates("body").reset_index(drop=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    pairs.to_csv(out, index=False)
    return out


def pool_ranking(model: SiameseModel, test: pd.DataFrame) -> dict:
    """Each test title ranks every test body; its own body is the one correct answer."""
    titles = torch.as_tensor(model.encode(test["text1"].tolist(), side="text1"))
    bodies = torch.as_tensor(model.encode(test["text2"].tolist(), side="text2"))
    scores = model.encoder.similarity(titles, bodies).numpy()
    n = len(test)
    groups = np.repeat(np.arange(n), n)
    labels = np.eye(n, dtype=np.int64).ravel()
    return {**ranking_metrics(groups, scores.ravel(), labels), "pool": n}


def binary(metrics: dict) -> dict:
    return {k: round(metrics[k], 4) for k in ("roc_auc", "f1", "precision", "recall", "accuracy", "threshold", "n")}


def run_trained(run: str, data: Path, args: argparse.Namespace) -> dict:
    tower = "lstm" if run.startswith("lstm") else "bert"
    arch = "pseudo" if run.endswith("pseudo") else "siamese"
    options = dict(data=str(data), output=str(args.workdir / f"titlebody_{run}"), tower=tower, arch=arch,
                   seed=args.seed, overwrite=True, save_steps=10**6)
    if tower == "bert":
        options.update(model="minilm", epochs=args.epochs, learning_rate=args.lr, max_length=args.max_length,
                       batch_size=32)
    else:
        options.update(embeddings="glove", epochs=10, batch_size=64)
    started = time.perf_counter()
    model = train(TrainConfig(**options))
    pairs = read_pairs(data, require_label=False)
    test = pairs.iloc[model.metadata["split"]["test"]]
    result = {"settings": {k: v for k, v in model.metadata["config"].items() if k not in ("data", "output")},
              "train_seconds": model.metadata["training"]["seconds"],
              "sampled_negatives": binary(model.metadata["metrics"]["test"]),
              "ranking": pool_ranking(model, test), "wall_seconds": round(time.perf_counter() - started, 1)}
    if tower == "bert":
        result["note"] = MINILM_NOTE
    return result


def run_zero_shot(data: Path, args: argparse.Namespace) -> dict:
    from sentence_transformers import SentenceTransformer

    config = TrainConfig(data=str(data), tower="bert", seed=args.seed, loss="in-batch-negatives")
    pairs = load_splits(config)
    model = SiameseModel(SentenceTransformer(resolve_model("minilm"), device="cpu"))
    model.encoder.max_seq_length = args.max_length
    dev = with_sampled_negatives(pairs[pairs["split"] == "dev"], seed=args.seed)
    test_pairs = pairs[pairs["split"] == "test"]
    test = with_sampled_negatives(test_pairs, seed=args.seed)
    threshold = choose_threshold(model.score(dev["text1"].tolist(), dev["text2"].tolist()), dev["label"].to_numpy())
    metrics, _ = evaluate_pairs(model, test, threshold=threshold)
    return {"settings": {"max_length": args.max_length}, "sampled_negatives": binary(metrics),
            "ranking": pool_ranking(model, test_pairs), "note": MINILM_NOTE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=Path("scripts/results/titlebody.json"))
    parser.add_argument("--workdir", type=Path, default=Path("runs"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if not SEMEVAL.exists():
        raise SystemExit(f"{SEMEVAL} is absent: this benchmark needs ../shared/data/semeval2016_cqa_subtaskB")
    data = build_title_body(args.workdir / "titlebody.csv")
    for run in args.runs:
        result = run_zero_shot(data, args) if run == "zeroshot" else run_trained(run, data, args)
        results = json.loads(args.out.read_text()) if args.out.exists() else {}
        results.setdefault("runs", {})[run] = result
        results["data"] = {"pairs": len(pd.read_csv(data)), "source": "semeval2016_cqa_subtaskB subjects + bodies"}
        results["machine"] = {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                              "torch": torch.__version__}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(run, json.dumps(result), flush=True)
        write_markdown(results, args.out.with_suffix(".md"))


def write_markdown(results: dict, path: Path) -> None:
    lines = ["| run | F1 (sampled neg.) | ROC-AUC | MRR (title → all test bodies) | P@1 | pool | train s |",
             "|---|---|---|---|---|---|---|"]
    for key, r in results["runs"].items():
        star = " *" if "note" in r else ""
        b, k = r["sampled_negatives"], r["ranking"]
        lines.append(f"| {key}{star} | {b['f1']:.4f} | {b['roc_auc']:.4f} | {k['mrr']:.4f} | {k['p_at_1']:.4f} | "
                     f"{k['pool']} | {r.get('train_seconds', '-')} |")
    lines.append(f"\nTitle/body pairs: {results['data']['pairs']} ({results['data']['source']}); grouped split "
                 f"80/10/10, threshold on dev.\n\n\\* {MINILM_NOTE}.\n\nMachine: {results['machine']}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
