"""int8 ONNX export vs torch fp32 for all-MiniLM-L6-v2 (issue 10 item 3): sentences/s and QQP dev ROC-AUC.

    python scripts/bench_export.py --threads 1 --speed-texts 3000            # the timed run (quiet machine)
    python scripts/bench_export.py --dev-pairs 100 --speed-texts 100         # smoke test

Copies the offline all-MiniLM-L6-v2 into --workdir, writes its int8 export with ``textsiam.export.export_int8``,
then in this process (threads set before torch loads): encode sentences/s of ``--speed-texts`` distinct QQP
questions, fp32 then int8 (warm-up first, median of --repeats), and ROC-AUC of the zero-shot cosine score on
textsiam's QQP dev split (grouped split, seed 42), fp32 vs int8. Targets: int8 >= 2x the sentences/s of fp32,
ROC-AUC within 0.005. Writes scripts/results/export.json and export.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QQP = ROOT.parent / "shared" / "data" / "qqp" / "qqp_merged.csv.gz"
RESULTS = ROOT / "scripts" / "results"
WORKDIR = Path("/tmp/textsiam_bench_export")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--speed-texts", type=int, default=3_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dev-pairs", type=int, default=None, help="cap on dev pairs scored (default: all)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    args = parser.parse_args()
    if not QQP.exists():
        sys.exit(f"needs {QQP} (../shared/data/qqp), which is absent in this checkout")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from textsiam import runtime

    runtime.configure(args.threads)
    from sklearn.metrics import roc_auc_score

    from textsiam.data import read_pairs
    from textsiam.export import export_int8, use_int8
    from textsiam.hub import resolve_model
    from textsiam.model import load
    from textsiam.splits import grouped_split

    model_dir = args.workdir / "minilm"
    if not model_dir.exists():
        shutil.copytree(resolve_model("minilm"), model_dir)
    started = time.perf_counter()
    export_int8(model_dir, overwrite=True)
    export_seconds = time.perf_counter() - started
    fp32 = load(resolve_model("minilm"))  # the directory without the export: load() would pick the export up
    int8 = load(model_dir)
    if not use_int8(int8, model_dir):
        sys.exit("the int8 export did not load (is onnxruntime installed?)")

    pairs = read_pairs(QQP)
    dev = pairs[grouped_split(pairs) == "dev"]
    if args.dev_pairs:
        dev = dev.iloc[: args.dev_pairs]
    texts = list(dict.fromkeys([*pairs["text1"], *pairs["text2"]]))[: args.speed_texts]

    def speed(model) -> float:
        model.encode(texts[:128], batch_size=args.batch_size)  # warm-up
        rates = []
        for _ in range(args.repeats):
            begin = time.perf_counter()
            model.encode(texts, batch_size=args.batch_size)
            rates.append(len(texts) / (time.perf_counter() - begin))
        return round(statistics.median(rates), 1)

    figures: dict = {"command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
                     "machine": f"{os.cpu_count()} CPU cores", "threads": runtime.threads(),
                     "batch_size": args.batch_size, "export_seconds": round(export_seconds, 1),
                     "int8_file_mb": round((model_dir / "onnx" / "model_qint8.onnx").stat().st_size / 1e6, 1),
                     "speed_texts": len(texts), "dev_pairs": len(dev)}
    for name, model in (("fp32", fp32), ("int8", int8)):
        scores = model.score(dev["text1"].tolist(), dev["text2"].tolist(), batch_size=args.batch_size)
        figures[name] = {"sentences_per_s": speed(model),
                         "dev_roc_auc": round(float(roc_auc_score(dev["label"].to_numpy(), scores)), 4)}
        print(name, figures[name], flush=True)
    figures["speedup"] = round(figures["int8"]["sentences_per_s"] / figures["fp32"]["sentences_per_s"], 2)
    figures["roc_auc_difference"] = round(figures["int8"]["dev_roc_auc"] - figures["fp32"]["dev_roc_auc"], 4)
    write_report(figures)
    print({k: figures[k] for k in ("speedup", "roc_auc_difference")})


def write_report(figures: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "export.json").write_text(json.dumps(figures, indent=2))
    lines = ["# int8 ONNX export vs torch fp32, all-MiniLM-L6-v2 (scripts/bench_export.py)", "",
             f"Machine: {figures['machine']}, {figures['threads']} thread(s), batch {figures['batch_size']}. "
             f"Command: `{figures['command']}`.", "",
             "| encoding | sentences/s | QQP dev ROC-AUC |", "|---|---|---|"]
    for name in ("fp32", "int8"):
        lines.append(f"| {name} | {figures[name]['sentences_per_s']:,.0f} | {figures[name]['dev_roc_auc']:.4f} |")
    lines += ["", f"Speed-up {figures['speedup']}x (target >= 2x); ROC-AUC difference "
              f"{figures['roc_auc_difference']:+.4f} (target within 0.005), over {figures['dev_pairs']:,} dev pairs "
              f"(textsiam's grouped QQP split, zero-shot cosine). Sentences/s: median of the runs over "
              f"{figures['speed_texts']:,} distinct QQP questions. Export took {figures['export_seconds']} s; "
              f"onnx/model_qint8.onnx is {figures['int8_file_mb']} MB.",
              "all-MiniLM-L6-v2 was trained on data that includes Quora duplicate questions, so its ROC-AUC is "
              "optimistic; the fp32 vs int8 difference is what this measures."]
    (RESULTS / "export.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
