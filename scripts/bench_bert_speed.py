"""Where textsiam's bert training speed comes from: sentence-transformers' recipe, then textsiam's choices added
one at a time, all with the same model, loss, batch size, learning rate, epochs and max length, in one run.

    python scripts/bench_bert_speed.py [--train-pairs 2000] [--test-pairs 2000] [--threads 2]

Every variant fine-tunes all-MiniLM-L6-v2 with OnlineContrastiveLoss (cosine, margin 0.5), batch 32, lr 2e-5,
one epoch, 64 tokens, on the same seeded sample of textsiam's grouped train split of
../shared/data/qqp/qqp_merged.csv.gz, and is scored on the same held-out test pairs (ROC-AUC needs no threshold).
Variants, each adding one choice to the previous:
  recipe            sentence-transformers' default random batches, nothing frozen (its Quora recipe)
  +length-grouping  textsiam's length-grouped batches (less padding)
  +frozen-embeddings  the word-embedding matrix frozen
  +frozen-lower-half  the embeddings and the lower half of the layers frozen (no backward pass through them):
                    textsiam's default bert tower
Writes scripts/results/bert_speed.json and .md. all-MiniLM-L6-v2 saw Quora duplicates in pretraining, so its
ROC-AUC is not a clean held-out figure; the comparison between variants is what this script is for.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import torch
from sklearn.metrics import roc_auc_score

from textsiam.losses import LossSpec, build_loss, training_rows
from textsiam.model import SiameseModel
from textsiam.runtime import configure
from textsiam.sampler import LengthGroupedBatchSampler
from textsiam.splits import grouped_split
from textsiam.towers import bert_modules

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "qqp" / "qqp_merged.csv.gz"
RESULTS = Path(__file__).resolve().parent / "results"
SETTINGS = {"batch_size": 32, "learning_rate": 2e-5, "epochs": 1, "max_length": 64, "loss": "online-contrastive",
            "margin": 0.5, "model": "all-MiniLM-L6-v2"}
VARIANTS = [  # name, length grouping, freeze embeddings, frozen share of the layers
    ("recipe", False, False, 0.0),
    ("+length-grouping", True, False, 0.0),
    ("+frozen-embeddings", True, True, 0.0),
    ("+frozen-lower-half (textsiam default)", True, True, 0.5),
]


def run_variant(name: str, grouped: bool, freeze_embeddings: bool, frozen_layers: float, train_pairs, test_pairs,
                work: Path) -> dict:
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers

    torch.manual_seed(0)
    modules = bert_modules("minilm", max_length=SETTINGS["max_length"], freeze_embeddings=freeze_embeddings,
                           frozen_layers=frozen_layers)
    model = SentenceTransformer(modules=modules, device="cpu", similarity_fn_name="cosine")
    rows = training_rows(train_pairs, LossSpec("online-contrastive", "cosine", SETTINGS["margin"]))
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / name), num_train_epochs=SETTINGS["epochs"],
        per_device_train_batch_size=SETTINGS["batch_size"], learning_rate=SETTINGS["learning_rate"],
        warmup_steps=0.1, seed=0, save_strategy="no", report_to="none", use_cpu=True, disable_tqdm=True,
        batch_sampler=LengthGroupedBatchSampler if grouped else BatchSamplers.BATCH_SAMPLER)
    trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=rows,
                                         loss=build_loss(LossSpec("online-contrastive", "cosine", 0.5), model))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    scores = SiameseModel(model, {"arch": "siamese"}).score(test_pairs["text1"].tolist(),
                                                            test_pairs["text2"].tolist(), batch_size=64)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"variant": name, "train_seconds": round(seconds, 1), "pairs_per_second": round(len(rows) / seconds, 1),
            "test_roc_auc": round(float(roc_auc_score(test_pairs["label"], scores)), 4),
            "trainable_parameters": trainable}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-pairs", type=int, default=2000)
    parser.add_argument("--test-pairs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "bert_speed.json")
    args = parser.parse_args()
    configure(threads=args.threads)
    from textsiam.data import read_pairs

    pairs = read_pairs(DATA)
    split = grouped_split(pairs, seed=42)
    train_pairs = pairs[split == "train"].sample(args.train_pairs, random_state=42)
    test_pairs = pairs[split == "test"].sample(min(args.test_pairs, int((split == "test").sum())), random_state=42)
    work = Path("runs") / "bench_bert_speed"
    results = [run_variant(*variant, train_pairs, test_pairs, work) for variant in VARIANTS]
    base = results[0]["pairs_per_second"]
    for row in results:
        row["speed_vs_recipe"] = round(row["pairs_per_second"] / base, 2)
    report = {"settings": SETTINGS, "train_pairs": len(train_pairs), "test_pairs": len(test_pairs),
              "threads": args.threads, "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
              "load_average_at_end": list(os.getloadavg()), "variants": results,
              "note": "all-MiniLM-L6-v2 saw Quora duplicates in pretraining: ROC-AUC is not a clean held-out figure"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    lines = ["| variant | train s | pairs/s | × recipe | test ROC-AUC* | trainable params |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['variant']} | {r['train_seconds']} | {r['pairs_per_second']} | {r['speed_vs_recipe']} | "
              f"{r['test_roc_auc']} | {r['trainable_parameters']:,} |" for r in results]
    lines += ["", f"{len(train_pairs)} train pairs, {len(test_pairs)} test pairs, {args.threads} threads; batch 32, "
              "lr 2e-5, 1 epoch, 64 tokens for every variant. *MiniLM saw Quora duplicates in pretraining."]
    args.out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
