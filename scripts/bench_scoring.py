"""Scoring throughput of `textsiam predict` per tower (issue 10 item 2): pairs/s, encode sentences/s, peak RSS.

    python scripts/bench_scoring.py --pairs 200000 --towers lstm static     # the timed runs (quiet machine);
    python scripts/bench_scoring.py --pairs 20000 --towers bert bert-int8   # towers of earlier runs are kept
    python scripts/bench_scoring.py --pairs 300 --encode-texts 200          # smoke test

Towers: ``lstm`` (built in code from the QQP texts, random vectors), ``static`` (sentence-transformers'
StaticEmbedding with MiniLM's word-piece tokenizer, random vectors: its speed does not depend on the values),
``bert`` (the offline all-MiniLM-L6-v2, torch fp32) and ``bert-int8`` (the same with ``textsiam export --int8``).
Input: real QQP pairs, repeated up to ``--pairs``; each repeat
appends " (copy N)" to both texts so that every repeat is a new text for the encoder (otherwise "encode each
distinct text once" would make repeats free and the figure flattering). Each tower runs in a fresh process
(its own peak RSS, threads set before torch loads) through ``predict_file``, the function the CLI calls.
Files go under --workdir (default /tmp/textsiam_bench_scoring), never into the project: QQP's licence
forbids copies. Writes scripts/results/scoring.json and scoring.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QQP = ROOT.parent / "shared" / "data" / "qqp" / "qqp_merged.csv.gz"
RESULTS = ROOT / "scripts" / "results"
WORKDIR = Path("/tmp/textsiam_bench_scoring")
TOWERS = ("lstm", "static", "bert", "bert-int8")
TARGETS = {"lstm": 1_000, "static": 5_000, "bert": 150, "bert-int8": 150}  # pairs/s asked for by issue 10


def qqp_texts() -> tuple[list[str], list[str]]:
    import pandas as pd

    if not QQP.exists():
        sys.exit(f"needs {QQP} (../shared/data/qqp), which is absent in this checkout")
    frame = pd.read_csv(QQP, usecols=["question1", "question2"], dtype=str, keep_default_na=False)
    return frame["question1"].tolist(), frame["question2"].tolist()


def build_model(tower: str, directory: Path) -> Path:
    """Save the tower's model under ``directory`` (once) and return its path."""
    path = directory / tower
    if (path / "modules.json").exists():
        return path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from tokenizers import Tokenizer

    from textsiam.hub import resolve_model
    from textsiam.model import SiameseModel
    from textsiam.towers import build_encoder

    minilm = resolve_model("minilm")
    if tower == "lstm":
        encoder = build_encoder("lstm", train_texts=qqp_texts())
    elif tower == "static":
        tokenizer = Tokenizer.from_file(str(Path(minilm) / "tokenizer.json"))
        encoder = SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=256)], device="cpu")
    else:
        encoder = SentenceTransformer(minilm, device="cpu")
    SiameseModel(encoder, {"threshold": 0.5, "tower": tower}).save(path)
    if tower == "bert-int8":
        from textsiam.export import export_int8

        export_int8(path)
    return path


def write_input(pairs: int, directory: Path) -> Path:
    """``pairs`` QQP pairs, repeats made distinct, as a CSV under ``directory``."""
    import pandas as pd

    path = directory / f"pairs_{pairs}.csv"
    if path.exists():
        return path
    first, second = qqp_texts()
    rows = []
    for i in range(pairs):
        copy, j = divmod(i, len(first))
        tag = f" (copy {copy})" if copy else ""
        rows.append((first[j] + tag, second[j] + tag))
    pd.DataFrame(rows, columns=["question1", "question2"]).to_csv(path, index=False)
    return path


def measure(model_dir: str, data: str, threads: int | None, batch_size: int | None, encode_texts: int) -> dict:
    """In this (fresh) process: predict_file throughput, then encode sentences/s; threads set before torch.

    ``threads=None`` measures textsiam's default (the free cores; one for the lstm, set when it loads).
    """
    from textsiam import runtime

    load_average = round(os.getloadavg()[0], 2)
    runtime.configure(threads)
    import resource

    import pandas as pd

    from textsiam.export import use_int8
    from textsiam.model import load
    from textsiam.prediction import predict_file

    model = load(model_dir)
    use_int8(model, model_dir)  # bert-int8 only: the others have no export
    out = Path(data).with_suffix(f".{Path(model_dir).name}.scored.csv")
    started = time.perf_counter()
    summary = predict_file(model, data, out, batch_size=batch_size, overwrite=True)
    wall = time.perf_counter() - started
    texts = pd.read_csv(data, nrows=encode_texts, dtype=str, keep_default_na=False)["question1"].tolist()
    model.encode(texts[:64], batch_size=batch_size)  # warm-up
    started = time.perf_counter()
    model.encode(texts, batch_size=batch_size)
    encode_seconds = time.perf_counter() - started
    out.unlink(missing_ok=True)
    return {"pairs": summary["read"], "threads": runtime.threads(), "threads_chosen": "default" if threads is None
            else "--threads", "load_average_1min_at_start": load_average, "batch_size": batch_size or model.batch_size,
            "predict_seconds": round(wall, 2), "pairs_per_s": round(summary["read"] / wall, 1),
            "encode_texts": len(texts), "encode_sentences_per_s": round(len(texts) / encode_seconds, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def run_child(tower: str, model_dir: Path, data: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--child", str(model_dir), str(data), "--encode-texts", str(args.encode_texts)]
    if args.batch_size is not None:
        command += ["--batch-size", str(args.batch_size)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        sys.exit(f"{tower}: the measuring process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_report(figures: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scoring.json").write_text(json.dumps(figures, indent=2))
    lines = ["# Scoring throughput (`predict_file`, scripts/bench_scoring.py)", "",
             f"Machine: {figures['machine']}. Commands:", "",
             *[f"- {tower}: `{row['command']}`" for tower, row in figures["towers"].items()], "",
             "| tower | pairs | threads | batch | pairs/s | target | encode sentences/s | peak RSS MB |",
             "|---|---|---|---|---|---|---|---|"]
    for tower, row in figures["towers"].items():
        lines.append(f"| {tower} | {row['pairs']:,} | {row['threads']} | {row['batch_size']} | "
                     f"{row['pairs_per_s']:,.0f} | {TARGETS[tower]:,} | {row['encode_sentences_per_s']:,.0f} | "
                     f"{row['peak_rss_mb']:,.0f} |")
    lines += ["", "Input: real QQP pairs repeated up to the pair count, each repeat made a new text "
              "(\" (copy N)\" appended), so the encode-each-distinct-text-once saving is only QQP's own.",
              "lstm and static have random weights (speed does not depend on them); bert is all-MiniLM-L6-v2 in "
              "torch fp32, bert-int8 the same through its int8 ONNX export (onnxruntime)."]
    (RESULTS / "scoring.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=200_000)
    parser.add_argument("--towers", nargs="+", choices=TOWERS, default=list(TOWERS))
    parser.add_argument("--threads", type=int, default=None, help="default: textsiam's own default")
    parser.add_argument("--batch-size", type=int, default=None, help="default: textsiam's per-tower default")
    parser.add_argument("--encode-texts", type=int, default=20_000, help="texts timed for encode sentences/s")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(*args.child, args.threads, args.batch_size, args.encode_texts)))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.workdir.mkdir(parents=True, exist_ok=True)
    data = write_input(args.pairs, args.workdir)
    command = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
    results = RESULTS / "scoring.json"
    # Towers measured by earlier runs stay (each with its command): bert may be run on fewer pairs.
    figures = json.loads(results.read_text()) if results.exists() else {"towers": {}}
    figures["machine"] = f"{os.cpu_count()} CPU cores"
    for tower in args.towers:
        model_dir = build_model(tower, args.workdir / "models")
        figures["towers"][tower] = {**run_child(tower, model_dir, data, args), "command": command}
        print(tower, figures["towers"][tower], flush=True)
    write_report(figures)


if __name__ == "__main__":
    main()
