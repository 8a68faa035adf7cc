"""Which tower `make demo` should train: test metrics of candidate settings on the bundled sample.

Each candidate trains on data/sample_pairs.csv with textsiam's grouped split for each --seeds value (threshold
from dev, metrics on test). Choose on seeds other than 42, the demo's split, then report seed 42.

    python scripts/bench_demo.py [--candidates minilm-lr1e-4 static ...] [--seeds 1 2 3] [--threads 1]

Adds its runs to scripts/results/demo.json (one row per candidate and seed: metrics, threads, load, times) and
writes the Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "demo.json"
CANDIDATES: dict[str, dict] = {
    "lstm": {"tower": "lstm"},
    "lstm-glove": {"tower": "lstm", "embeddings": "glove"},
    "static": {"tower": "static", "model": "minilm"},
    "minilm": {"tower": "bert", "model": "minilm"},
    "minilm-lr1e-4": {"tower": "bert", "model": "minilm", "learning_rate": 1e-4},
    "minilm-lr2e-4": {"tower": "bert", "model": "minilm", "learning_rate": 2e-4},
    "minilm-bce": {"tower": "bert", "model": "minilm", "loss": "bce"},
    "minilm-2-epochs": {"tower": "bert", "model": "minilm", "epochs": 2},
}


def run(name: str, seed: int, workdir: Path) -> dict:
    """Train one candidate on one split seed; its test metrics and times."""
    from textsiam.training import TrainConfig, train

    started = time.perf_counter()
    model = train(TrainConfig(data="sample", output=str(workdir / f"{name}-{seed}"), seed=seed, **CANDIDATES[name]))
    test = model.metadata["metrics"]["test"]
    return {"candidate": name, "seed": seed, "settings": CANDIDATES[name],
            **{key: round(test[key], 4) for key in ("accuracy", "f1", "roc_auc")}, "test_pairs": test["n"],
            "threshold": round(model.threshold, 4), "train_seconds": model.metadata["training"]["seconds"],
            "wall_seconds": round(time.perf_counter() - started, 1), "load_average_1min": os.getloadavg()[0]}


def markdown(rows: list[dict]) -> str:
    lines = ["Demo candidates on data/sample_pairs.csv. Seeds 1-3 choose; seed 42 is the split `make demo` reports.",
             "Times were taken on a shared 2-core machine: the load average column says how busy it was.", "",
             "| candidate | seed | test pairs | accuracy | F1 | ROC-AUC | threads | load | train s | wall s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['candidate']} | {r['seed']} | {r['test_pairs']} | {r['accuracy']:.3f} | {r['f1']:.3f} | "
              f"{r['roc_auc']:.3f} | {r['threads']} | {r['load_average_1min']:.1f} | {r['train_seconds']:.0f} | "
              f"{r['wall_seconds']:.0f} |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--candidates", nargs="+", default=["minilm-lr1e-4"], choices=list(CANDIDATES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from textsiam.runtime import configure

    configure(threads=args.threads)
    logging.basicConfig(level=logging.WARNING)
    # Runs of earlier invocations stay in the file unless this one repeats their candidate and seed.
    rows = json.loads(args.out.read_text())["runs"] if args.out.exists() else []
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.candidates:
            for seed in args.seeds:
                row = {**run(name, seed, Path(workdir)), "threads": args.threads}
                rows = [r for r in rows if (r["candidate"], r["seed"]) != (name, seed)] + [row]
                print(json.dumps(row), flush=True)
    rows.sort(key=lambda r: (list(CANDIDATES).index(r["candidate"]), r["seed"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": platform.platform(), "cpu_count": os.cpu_count(), "runs": rows},
                                   indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(rows))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
