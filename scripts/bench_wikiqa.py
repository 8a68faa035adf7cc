"""WikiQA answer-sentence selection: MAP, MRR and P@1 of textsiam bi-encoders on the official splits.

Trains on WikiQASent-train (the only train release available offline), chooses on WikiQA-dev, reports on
WikiQA-test (raw TSVs, grouped by QuestionID; only questions with a correct answer count). Runs:

    zeroshot        all-MiniLM-L6-v2 as is
    siamese         MiniLM, one shared tower
    pseudo          MiniLM, one tower per side (Router text1 = question, text2 = answer), both trained
    pseudo-freeze-q pseudo with the question tower frozen: only the answer tower moves
    pseudo-freeze-a pseudo with the answer tower frozen: only the question tower moves
    lstm            GloVe 6B-50d + BiLSTM, shared tower, trained from scratch

    python scripts/bench_wikiqa.py [--runs zeroshot siamese ...] [--epochs 1] [--lr 2e-5]

Fine-tuning is in-batch negatives (MultipleNegativesRankingLoss) over the (question, correct sentence)
pairs, with a labelled wrong sentence of the same question as each row's hard negative (textsiam's
``in-batch-negatives`` rows). all-MiniLM-L6-v2 was trained on Quora duplicates and other QA data that may
overlap WikiQA's Wikipedia sentences, so its numbers are not a clean held-out measure.
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
from textsiam.hub import resolve_model
from textsiam.losses import ROUTES, LossSpec, build_loss, training_rows
from textsiam.metrics import ranking_metrics
from textsiam.model import SiameseModel
from textsiam.sampler import LengthGroupedBatchSampler
from textsiam.towers import build_encoder

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "wikiqa"
MINILM_NOTE = ("all-MiniLM-L6-v2 was trained on Quora duplicates and other QA data (possibly overlapping "
               "WikiQA): not a clean held-out measure")
ANCHORS = {"DSSM": 0.565, "ARC-I": 0.587, "BiMPM": 0.718, "RE2": 0.745}
RUNS = ("zeroshot", "siamese", "pseudo", "pseudo-freeze-q", "pseudo-freeze-a", "lstm")


def load_splits() -> dict:
    """Train, dev and test pairs. Dev and test keep only the questions that have a correct sentence: the
    others do not count in MAP/MRR/P@1 anyway, and leaving them out saves 60% of the encoding."""
    splits = {"train": read_pairs(DATA / "WikiQASent-train.txt.gz")}
    for name in ("dev", "test"):
        pairs = read_pairs(DATA / f"WikiQA-{name}.tsv.gz")
        answered = pairs.groupby("group")["label"].transform("max") > 0
        splits[name] = pairs[answered].reset_index(drop=True)
    return splits


def evaluate(model: SiameseModel, splits: dict) -> dict:
    out = {}
    for name in ("dev", "test"):
        pairs = splits[name]
        started = time.perf_counter()
        scores = model.score(pairs["text1"].tolist(), pairs["text2"].tolist())
        out[name] = {**ranking_metrics(pairs["group"].to_numpy(), scores, pairs["label"].to_numpy()),
                     "score_seconds": round(time.perf_counter() - started, 1)}
    return out


def freeze_route(encoder, side: str) -> int:
    """Stop gradients into one route of a pseudo-siamese Router; returns the number of frozen weights."""
    frozen = 0
    for param in encoder[0].sub_modules[side].parameters():
        if param.requires_grad:
            param.requires_grad_(False)
            frozen += param.numel()
    return frozen


def fine_tune(run: str, splits: dict, args: argparse.Namespace) -> dict:
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    tower = "lstm" if run == "lstm" else "bert"
    arch = "pseudo" if run.startswith("pseudo") else "siamese"
    train_pairs = splits["train"]
    torch.manual_seed(args.seed)
    if tower == "bert":
        encoder = build_encoder("bert", arch=arch, model_name="minilm", max_length=args.max_length)
        epochs, batch, lr = args.epochs, args.batch_size, args.lr
    else:
        encoder = build_encoder("lstm", arch=arch, max_length=48, embeddings="glove", seed=args.seed,
                                train_texts=(train_pairs["text1"].tolist(), train_pairs["text2"].tolist()))
        epochs, batch, lr = args.lstm_epochs, 64, 2e-3
    frozen = 0
    if run == "pseudo-freeze-q":
        frozen = freeze_route(encoder, "text1")
    elif run == "pseudo-freeze-a":
        frozen = freeze_route(encoder, "text2")
    spec = LossSpec("in-batch-negatives")
    # Question as anchor only, for both archs: the siamese run sees the same rows as the pseudo ones,
    # and an answer sentence as anchor of a question is not the task (it would also double the cost).
    rows = training_rows(train_pairs, spec, seed=args.seed, symmetric=False)
    training_args = SentenceTransformerTrainingArguments(
        output_dir=str(args.workdir / f"wikiqa_{run}"), num_train_epochs=epochs, per_device_train_batch_size=batch,
        learning_rate=lr, warmup_steps=int(0.1 * len(rows) / batch * epochs), seed=args.seed, data_seed=args.seed,
        save_strategy="no", logging_steps=20, report_to="none", batch_sampler=LengthGroupedBatchSampler,
        router_mapping={c: ROUTES[c] for c in rows.column_names} if arch == "pseudo" else {}, use_cpu=True)
    trainer = SentenceTransformerTrainer(model=encoder, args=training_args, train_dataset=rows,
                                         loss=build_loss(spec, encoder))
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    model = SiameseModel(encoder, {"arch": arch, "tower": tower})
    settings = {"tower": tower, "arch": arch, "epochs": epochs, "batch_size": batch, "learning_rate": lr,
                "max_length": args.max_length if tower == "bert" else 48, "train_rows": len(rows),
                "frozen_weights": frozen,
                "trainable_weights": sum(p.numel() for p in encoder.parameters() if p.requires_grad),
                "total_weights": sum(p.numel() for p in encoder.parameters()),
                "loss": "in-batch-negatives (MNRL, labelled hard negative per row)"}
    result = {"settings": settings, "train_seconds": round(seconds, 1), **evaluate(model, splits)}
    if tower == "bert":
        result["note"] = MINILM_NOTE
    return result


def zero_shot(splits: dict) -> dict:
    from sentence_transformers import SentenceTransformer

    model = SiameseModel(SentenceTransformer(resolve_model("minilm"), device="cpu"))
    return {"settings": {"max_length": model.encoder.max_seq_length}, **evaluate(model, splits),
            "note": MINILM_NOTE}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lstm-epochs", type=float, default=10.0)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=64)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tag", default="", help="Suffix of the result keys (for variants of a run).")
    parser.add_argument("--out", type=Path, default=Path("scripts/results/wikiqa.json"))
    parser.add_argument("--workdir", type=Path, default=Path("runs"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    splits = load_splits()
    for run in args.runs:
        result = zero_shot(splits) if run == "zeroshot" else fine_tune(run, splits, args)
        results = json.loads(args.out.read_text()) if args.out.exists() else {}  # re-read: runs may be parallel
        results.setdefault("runs", {})[run + args.tag] = result
        results["anchors_test_map"] = ANCHORS
        results["data"] = {name: {"pairs": len(p), "questions": int(p["group"].nunique())
                                  if "group" in p else int(p["text1"].nunique())} for name, p in splits.items()}
        results["machine"] = {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                              "torch": torch.__version__}
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2))
        print(run + args.tag, json.dumps(result), flush=True)
        write_markdown(results, args.out.with_suffix(".md"))


def write_markdown(results: dict, path: Path) -> None:
    lines = ["| run | dev MAP | dev MRR | test MAP | test MRR | test P@1 | train s |", "|---|---|---|---|---|---|---|"]
    for key, r in results["runs"].items():
        star = " *" if "note" in r else ""
        lines.append(f"| {key}{star} | {r['dev']['map']:.4f} | {r['dev']['mrr']:.4f} | {r['test']['map']:.4f} | "
                     f"{r['test']['mrr']:.4f} | {r['test']['p_at_1']:.4f} | {r.get('train_seconds', '-')} |")
    anchors = ", ".join(f"{k} {v}" for k, v in ANCHORS.items())
    lines.append(f"\nPublished WikiQA test MAP: {anchors}. Test questions with a correct answer: "
                 f"{next(iter(results['runs'].values()))['test']['n_questions']}.")
    lines.append(f"\n\\* {MINILM_NOTE}.\n\nMachine: {results['machine']}")
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
