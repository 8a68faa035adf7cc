"""How many CPU threads should textsiam use? Encode texts/s per tower with 1 and 2 threads, on an idle machine
and under a synthetic load (issue 10 item 0). The answer is in ``textsiam.runtime`` (its docstring).

    python scripts/bench_threads.py --texts 3000 --repeats 3       # the timed run (otherwise quiet machine)
    python scripts/bench_threads.py --texts 200 --repeats 1        # smoke test
    python scripts/bench_threads.py --train-pairs 1500 --repeats 1 --towers lstm static bert   # training pairs/s

With ``--train-pairs N`` each measurement trains the tower for one epoch on the N train-split pairs of the first
N / 0.8 QQP pairs (``textsiam.training.train``, the tower's defaults, bert from all-MiniLM-L6-v2; its dev
evaluation included) and reports training pairs/s instead; the figures go to threads_train.json and .md.

Every measurement is a fresh process that calls ``runtime.configure(threads)`` before torch loads (so the
OpenMP settings take effect), warms up, then times ``SiameseModel.encode`` on ``--texts`` distinct QQP
questions. "busy" runs ``--spinners`` (default 3) processes that spin on the CPU meanwhile, like other jobs
on a shared machine. With 2 threads, both OpenMP wait policies are measured: ``passive`` (what
``configure`` sets) and ``default`` (libgomp spins first, torch's behaviour out of the box). The 1-minute
load average before each phase is recorded, so an "idle" figure taken on a busy machine shows. Models are
those of scripts/bench_scoring.py (lstm, static, bert = all-MiniLM-L6-v2). Writes
scripts/results/threads.json and threads.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scoring import RESULTS, TOWERS, WORKDIR, build_model, qqp_texts  # noqa: E402

SPIN = "while True: pass"


def measure(model_dir: str, threads: int, wait_policy: str, n_texts: int) -> dict:
    """In this fresh process: encode texts/s with ``threads`` threads."""
    from textsiam import runtime

    runtime.configure(threads)
    if wait_policy == "default":
        os.environ.pop("OMP_WAIT_POLICY", None)  # before torch loads libgomp
    import torch

    from textsiam.model import load

    first, second = qqp_texts()
    texts = list(dict.fromkeys(first + second))[:n_texts]
    model = load(model_dir)
    model.encode(texts[:128])  # warm-up
    started = time.perf_counter()
    model.encode(texts)
    seconds = time.perf_counter() - started
    return {"texts_per_s": round(len(texts) / seconds, 1), "torch_threads": torch.get_num_threads()}


def measure_training(tower: str, threads: int, wait_policy: str, n_pairs: int) -> dict:
    """In this fresh process: training pairs/s of one epoch on ``n_pairs`` QQP pairs with ``threads`` threads."""
    import tempfile

    from textsiam import runtime

    runtime.configure(threads)
    if wait_policy == "default":
        os.environ.pop("OMP_WAIT_POLICY", None)
    import pandas as pd
    import torch
    from bench_scoring import QQP

    from textsiam.hub import resolve_model
    from textsiam.training import train

    with tempfile.TemporaryDirectory() as work:
        # A file of n_pairs / 0.8 QQP pairs: its dev split (evaluated during training) stays small, as the
        # training itself is what is timed.
        data = Path(work) / "pairs.csv"
        pd.read_csv(QQP, nrows=int(n_pairs / 0.8)).to_csv(data, index=False)
        model = train(data=str(data), tower=tower, model=resolve_model("minilm") if tower == "bert" else None,
                      epochs=1, output=f"{work}/model")
    done = model.metadata["training"]
    return {"texts_per_s": round(done["rows"] / done["seconds"], 1), "torch_threads": torch.get_num_threads()}


def run_child(model_dir: Path, threads: int, wait_policy: str, n_texts: int, train_pairs: int = 0) -> dict:
    command = [sys.executable, __file__, "--child", str(model_dir), "--threads", str(threads), "--wait-policy",
               wait_policy, "--texts", str(n_texts), "--train-pairs", str(train_pairs)]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          check=False)
    if done.returncode:
        sys.exit(f"{model_dir.name}: the measuring process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def variants() -> list[tuple[int, str]]:
    return [(1, "passive"), (2, "passive"), (2, "default")]


def phase(load: str, models: dict[str, Path], args: argparse.Namespace) -> list[dict]:
    spinners = ([subprocess.Popen([sys.executable, "-c", SPIN]) for _ in range(args.spinners)] if load == "busy"
                else [])
    try:
        time.sleep(1.0 if spinners else 0.0)
        load_average = round(os.getloadavg()[0], 2)
        rows = []
        for tower, model_dir in models.items():
            for threads, policy in variants():
                pairs = args.bert_train_pairs if tower == "bert" and args.train_pairs else args.train_pairs
                runs = [run_child(model_dir, threads, policy, args.texts, pairs)["texts_per_s"]
                        for _ in range(args.repeats)]
                rows.append({"tower": tower, "load": load, "spinners": len(spinners), "threads": threads,
                             "wait_policy": policy, "texts_per_s": statistics.median(runs), "runs": runs,
                             "load_average_1min": load_average})
                print(rows[-1], flush=True)
        return rows
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def write_report(figures: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    training = bool(figures["train_pairs"])
    name = "threads_train" if training else "threads"
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2))
    what, unit = (("training pairs/s", "pairs/s") if training else ("encode texts/s", "texts/s"))
    each = (f"one epoch on {figures['train_pairs']:,} pairs (bert {figures['bert_train_pairs']:,})" if training
            else f"{figures['texts']:,} texts")
    lines = [f"# Threads: {what} with 1 vs 2 threads, idle and busy (scripts/bench_threads.py)", "",
             f"Machine: {figures['machine']}. Command: `{figures['command']}`. Median of {figures['repeats']} "
             f"run(s) of {each}; busy = {figures['spinners']} spinning processes.", "",
             f"| tower | machine | threads | OpenMP wait policy | {unit} | load avg (1 min) before |",
             "|---|---|---|---|---|---|"]
    for row in figures["rows"]:
        lines.append(f"| {row['tower']} | {row['load']} | {row['threads']} | {row['wait_policy']} | "
                     f"{row['texts_per_s']:,.0f} | {row['load_average_1min']} |")
    lines += ["", "`passive` is what `textsiam.runtime.configure` sets (OMP_WAIT_POLICY=PASSIVE); `default` is "
              "torch's behaviour out of the box (OpenMP threads spin while waiting)."]
    (RESULTS / f"{name}.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--towers", nargs="+", choices=TOWERS, default=list(TOWERS))
    parser.add_argument("--texts", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--spinners", type=int, default=3)
    parser.add_argument("--train-pairs", type=int, default=0, help="measure training on this many pairs instead")
    parser.add_argument("--bert-train-pairs", type=int, default=300, help="the same for bert (about 20x slower)")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--wait-policy", default="passive", help=argparse.SUPPRESS)
    parser.add_argument("--child", metavar="MODEL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child and args.train_pairs:
        print(json.dumps(measure_training(args.child, args.threads, args.wait_policy, args.train_pairs)))
        return
    if args.child:
        print(json.dumps(measure(args.child, args.threads, args.wait_policy, args.texts)))
        return
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.train_pairs:  # the child trains the tower named in place of a model directory
        models = {tower: Path(tower) for tower in args.towers if tower != "bert-int8"}
    else:
        models = {tower: build_model(tower, args.workdir / "models") for tower in args.towers}
    rows = phase("idle", models, args) + phase("busy", models, args)
    write_report({"machine": f"{os.cpu_count()} CPU cores", "command": "python " + " ".join(
        [Path(sys.argv[0]).as_posix(), *sys.argv[1:]]), "texts": args.texts, "train_pairs": args.train_pairs,
        "bert_train_pairs": args.bert_train_pairs, "repeats": args.repeats, "spinners": args.spinners, "rows": rows})


if __name__ == "__main__":
    main()
