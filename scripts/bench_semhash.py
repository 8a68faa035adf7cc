"""textsiam dedup beside semhash (issue 10 item 5): same rows, same model's vectors, same threshold.

    python scripts/bench_semhash.py --pairs 33758 --threads 2      # every labelled QQP pair (67,516 rows)

Rows are the questions of the first ``--pairs`` labelled QQP pairs (question1 of each, then question2).
Each tool runs in a fresh child process, so its wall time (start-up and model loading included) and peak
RSS (ru_maxrss) are its own; both run with ``--threads`` CPU threads. semhash (usearch index, its default)
is given the textsiam model's own encoder, with the same batch size textsiam uses, and the model's threshold.
Quality: recall = share of labelled duplicate pairs whose two questions land in one group, false merges =
share of labelled non-duplicate pairs that do. Figures go to scripts/results/semhash.json and .md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from bench_dedup import STATIC_MODEL, WORKDIR, csv_for, qqp_questions  # noqa: E402

RESULTS = ROOT / "scripts" / "results" / "semhash.json"


# --- workers (each in its own process) -----------------------------------------------------------------

def worker_textsiam(args: argparse.Namespace) -> np.ndarray:
    """Group of each row: textsiam's cluster id."""
    from textsiam.deduplication import dedup

    summary = dedup(args.csv, "question", args.model, args.threshold, output_dir=args.out, overwrite=True,
                    clustering=args.clustering, use_cache=False, progress=False)
    print(f"textsiam: {summary['pairs']} pairs, {summary['clusters']} clusters", file=sys.stderr)
    return pd.read_csv(Path(args.out) / "clusters.csv", usecols=["cluster_id"]).cluster_id.to_numpy()


def worker_semhash(args: argparse.Namespace) -> np.ndarray:
    """Group of each row: the row of the record semhash kept for it (itself if kept)."""
    from semhash import SemHash

    import textsiam

    model = textsiam.load(args.model)
    threshold = model.threshold if args.threshold is None else args.threshold
    batch_size = model.batch_size

    class Encoder:
        """The textsiam model's encoder, as semhash calls it (``encode(texts) -> array``)."""

        def encode(self, texts, **kwargs):
            return model.encode(list(texts), batch_size=batch_size)

    texts = pd.read_csv(args.csv, dtype=str, keep_default_na=False).question.tolist()
    records = [{"text": text, "row": str(i)} for i, text in enumerate(texts)]
    result = SemHash.from_records(records, columns=["text"], model=Encoder()).self_deduplicate(threshold=threshold)
    group = np.arange(len(texts))
    for duplicate in result.filtered:
        group[int(duplicate.record["row"])] = int(duplicate.duplicate_of["row"])
    print(f"semhash: {len(result.selected)} kept, {len(result.filtered)} filtered", file=sys.stderr)
    return group


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tool", choices=["textsiam", "semhash"])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--out", required=True)
    parser.add_argument("--clustering", default="star")
    parser.add_argument("--threads", type=int, required=True)
    args = parser.parse_args(argv)
    from textsiam import runtime

    runtime.configure(threads=args.threads)
    group = (worker_textsiam if args.tool == "textsiam" else worker_semhash)(args)
    np.save(Path(args.out).with_suffix(".groups.npy"), group)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}))


def run_worker(tool: str, args: argparse.Namespace, csv: Path, out: Path, clustering: str = "star") -> dict:
    command = [sys.executable, __file__, "worker", tool, "--csv", str(csv), "--model", args.model,
               "--out", str(out), "--clustering", clustering, "--threads", str(args.threads)]
    if args.threshold is not None:
        command += ["--threshold", str(args.threshold)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{tool} worker failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(wall_seconds=round(wall, 2), load_average_after=round(os.getloadavg()[0], 2))
    result["groups"] = np.load(out.with_suffix(".groups.npy"))
    print(f"  {tool} ({clustering}): {wall:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return result


# --- comparison ----------------------------------------------------------------------------------------

def quality(group: np.ndarray, labelled: pd.DataFrame) -> dict:
    same = group[labelled.row_a.to_numpy()] == group[labelled.row_b.to_numpy()]
    dup = labelled.label.to_numpy() == 1
    sizes = np.unique(group, return_counts=True)[1]
    return {"recall": round(float(same[dup].mean()), 4), "false_merges": round(float(same[~dup].mean()), 4),
            "groups": len(sizes), "largest_group": int(sizes.max())}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pairs", type=int, default=2000, help="Labelled QQP pairs whose questions are the rows.")
    parser.add_argument("--model", default=str(STATIC_MODEL))
    parser.add_argument("--threshold", type=float, help="Instead of the model's saved threshold.")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    args = parser.parse_args()
    import textsiam

    threshold = args.threshold if args.threshold is not None else textsiam.load(args.model).threshold
    table, labelled = qqp_questions()
    n = len(labelled)
    keep = min(args.pairs, n)
    rows = np.r_[np.arange(keep), n + np.arange(keep)]  # question1 then question2 of the first pairs
    table = table.iloc[rows].reset_index(drop=True)
    labelled = pd.DataFrame({"row_a": np.arange(keep), "row_b": keep + np.arange(keep),
                             "label": labelled.label.to_numpy()[:keep]})
    csv = csv_for(f"semhash_{keep}_pairs", table, args.workdir)
    figures = {"rows": len(table), "labelled_pairs": keep, "labelled_duplicates": int(labelled.label.sum()),
               "model": args.model, "threshold": threshold, "threads": args.threads,
               "machine": f"{os.cpu_count()} CPU cores, no GPU",
               "note": "semhash's usearch index (through vicinity) adds and searches on all cores whatever --threads; "
                       "wall seconds are only comparable on an otherwise idle machine",
               "tools": {}}
    for tool, clustering in (("textsiam", "star"), ("textsiam", "components"), ("semhash", "star")):
        name = tool if tool == "semhash" else f"textsiam_{clustering}"
        run = run_worker(tool, args, csv, args.workdir / f"semhash_bench_{name}", clustering)
        figures["tools"][name] = {key: run[key] for key in ("wall_seconds", "peak_rss_mb", "cpu_seconds",
                                                            "load_average_after")}
        figures["tools"][name].update(quality(run["groups"], labelled))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2, default=float))
    lines = [f"# textsiam dedup vs semhash ({figures['machine']}, {args.threads} thread(s) per tool)", "",
             f"{figures['rows']} rows (questions of {keep} labelled QQP pairs, {figures['labelled_duplicates']} "
             f"duplicates), model {Path(args.model).name}, threshold {threshold:.4f}; each tool in its own process.",
             "", "| tool | wall s | peak RSS MB | CPU s | recall | false merges | groups | largest |",
             "|---|---|---|---|---|---|---|---|"]
    for name, t in figures["tools"].items():
        lines.append(f"| {name} | {t['wall_seconds']} | {t['peak_rss_mb']:.0f} | {t['cpu_seconds']} | {t['recall']} "
                     f"| {t['false_merges']} | {t['groups']} | {t['largest_group']} |")
    RESULTS.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
