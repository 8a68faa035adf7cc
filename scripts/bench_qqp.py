"""Benchmark on real Quora pairs: textsiam lstm (GloVe), textsiam bert (MiniLM) and sentence-transformers'
own Quora recipe (MiniLM + OnlineContrastiveLoss, margin 0.5, batch 64, one epoch), all on textsiam's grouped
split of ../shared/data/qqp/qqp_merged.csv.gz, thresholds chosen on dev, metrics on test.

    python scripts/bench_qqp.py [--runs lstm bert recipe zeroshot] [--out scripts/results/qqp.json]

Writes the figures to a JSON file and a Markdown table beside it. all-MiniLM-L6-v2 saw Quora duplicate
pairs in pretraining, so its numbers are not a clean held-out measure of the method.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import time
from pathlib import Path

import torch

from textsiam.data import read_pairs
from textsiam.evaluation import evaluate_pairs
from textsiam.hub import resolve_model
from textsiam.metrics import choose_threshold
from textsiam.model import SiameseModel
from textsiam.training import TrainConfig, split_pairs, train

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp" / "qqp_merged.csv.gz"
MINILM_NOTE = "all-MiniLM-L6-v2 was trained on Quora duplicate pairs: not a clean held-out measure"


def run_textsiam(name: str, config: TrainConfig) -> dict:
    started = time.perf_counter()
    model = train(config)
    return {"name": name, **model.metadata["metrics"]["test"], **model.metadata["training"],
            "wall_seconds": round(time.perf_counter() - started, 1),
            "settings": {k: v for k, v in model.metadata["config"].items() if k not in ("data", "output", "extra")}}


def run_recipe(data: Path, output: Path, seed: int, max_train_pairs: int | None) -> dict:
    """sentence-transformers' training_OnlineContrastiveLoss.py recipe, ported to its v6 trainer."""
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer.losses import OnlineContrastiveLoss

    from textsiam.losses import LossSpec, training_rows

    started = time.perf_counter()
    config = TrainConfig(data=str(data), tower="bert", seed=seed)
    pairs = split_pairs(read_pairs(data), config)
    train_pairs = pairs[pairs["split"] == "train"]
    if max_train_pairs and len(train_pairs) > max_train_pairs:  # the same sample textsiam's train() takes
        train_pairs = train_pairs.sample(max_train_pairs, random_state=seed).sort_index()
    model = SentenceTransformer(resolve_model("minilm"), device="cpu")
    rows = training_rows(train_pairs, LossSpec("online-contrastive"))
    loss = OnlineContrastiveLoss(model, margin=0.5)
    args = SentenceTransformerTrainingArguments(
        output_dir=str(output), num_train_epochs=1, per_device_train_batch_size=64, learning_rate=2e-5,
        warmup_steps=int(0.1 * len(rows) / 64), seed=seed, save_strategy="no", report_to="none", use_cpu=True)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=rows, loss=loss)
    train_started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - train_started
    scored = SiameseModel(model)
    dev, test = pairs[pairs["split"] == "dev"], pairs[pairs["split"] == "test"]
    threshold = choose_threshold(scored.score(dev["text1"].tolist(), dev["text2"].tolist()), dev["label"].to_numpy())
    metrics, _ = evaluate_pairs(scored, test, threshold=threshold)
    return {"name": "sentence-transformers Quora recipe (MiniLM, OnlineContrastiveLoss m=0.5, bs 64, 1 epoch)",
            **metrics, "pairs": len(train_pairs), "seconds": round(seconds, 2),
            "pairs_per_second": round(len(rows) / seconds, 1), "wall_seconds": round(time.perf_counter() - started, 1),
            "note": MINILM_NOTE}


def run_zero_shot(data: Path, seed: int) -> dict:
    from sentence_transformers import SentenceTransformer

    config = TrainConfig(data=str(data), tower="bert", seed=seed)
    pairs = split_pairs(read_pairs(data), config)
    model = SiameseModel(SentenceTransformer(resolve_model("minilm"), device="cpu"))
    dev, test = pairs[pairs["split"] == "dev"], pairs[pairs["split"] == "test"]
    threshold = choose_threshold(model.score(dev["text1"].tolist(), dev["text2"].tolist()), dev["label"].to_numpy())
    metrics, _ = evaluate_pairs(model, test, threshold=threshold)
    return {"name": "all-MiniLM-L6-v2 zero-shot (no training)", **metrics, "note": MINILM_NOTE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--runs", nargs="+", default=["lstm", "bert", "recipe", "zeroshot"])
    parser.add_argument("--out", type=Path, default=Path("scripts/results/qqp.json"))
    parser.add_argument("--workdir", type=Path, default=Path("runs"))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--bert-train-pairs", type=int, default=None,
                        help="train the bert runs (textsiam and the recipe) on a seeded sample of the train split")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not args.data.exists():
        raise SystemExit(f"{args.data} is absent: this benchmark needs ../shared/data/qqp")
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    results["machine"] = {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                          "torch": torch.__version__}
    for run in args.runs:
        if run == "lstm":
            config = TrainConfig(data=str(args.data), output=str(args.workdir / "bench_lstm"), tower="lstm",
                                 embeddings="glove", seed=args.seed, overwrite=True, save_steps=10**6)
            results["lstm"] = run_textsiam("textsiam lstm (GloVe 6B-50d)", config)
        elif run == "bert":
            config = TrainConfig(data=str(args.data), output=str(args.workdir / "bench_bert"), tower="bert",
                                 model="minilm", seed=args.seed, overwrite=True, save_steps=10**6,
                                 max_train_pairs=args.bert_train_pairs)
            results["bert"] = {**run_textsiam("textsiam bert (all-MiniLM-L6-v2, 1 epoch)", config),
                               "note": MINILM_NOTE}
        elif run == "recipe":
            results["recipe"] = run_recipe(args.data, args.workdir / "bench_recipe", args.seed,
                                           args.bert_train_pairs)
        elif run == "zeroshot":
            results["zeroshot"] = run_zero_shot(args.data, args.seed)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(json.dumps(results[run], indent=2))
    write_markdown(results, args.out.with_suffix(".md"))


def write_markdown(results: dict, path: Path) -> None:
    lines = ["| run | ROC-AUC | F1 | accuracy | train pairs | train pairs/s | train s |",
             "|---|---|---|---|---|---|---|"]
    for key in ("lstm", "bert", "recipe", "zeroshot"):
        if key in results:
            r = results[key]
            lines.append(f"| {r['name']} | {r['roc_auc']:.4f} | {r['f1']:.4f} | {r['accuracy']:.4f} | "
                         f"{r.get('pairs', '-')} | {r.get('pairs_per_second', '-')} | {r.get('seconds', '-')} |")
    lines.append(f"\n{MINILM_NOTE}. Machine: {results['machine']}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
