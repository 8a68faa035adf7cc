"""How long the command line takes to start: `textsiam --help`, `textsiam COMMAND --help` and `import textsiam.cli`.

Each command runs --repeats times in a fresh Python process; the median wall time and the median CPU time of the
child are written to scripts/results/startup.json and startup.md, with the heavy libraries the CLI import loaded.

    .venv/bin/python scripts/bench_startup.py --repeats 10
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
COMMANDS = {
    "textsiam --help": [sys.executable, "-m", "textsiam", "--help"],
    "textsiam train --help": [sys.executable, "-m", "textsiam", "train", "--help"],
    "textsiam evaluate --help": [sys.executable, "-m", "textsiam", "evaluate", "--help"],
    "textsiam dedup --help": [sys.executable, "-m", "textsiam", "dedup", "--help"],
    "import textsiam.cli": [sys.executable, "-c", "import textsiam.cli"],
}
HEAVY = ("torch", "sentence_transformers", "transformers", "pandas", "sklearn", "numpy")


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one run of ``command`` in a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def heavy_modules_loaded() -> list[str]:
    code = f"import sys, textsiam.cli; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.strip()
    return [m for m in out.split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    rows = {}
    for name, command in COMMANDS.items():
        run_once(command)  # warm the file cache
        times = [run_once(command) for _ in range(args.repeats)]
        rows[name] = {"median_wall_s": round(statistics.median(t[0] for t in times), 3),
                      "median_cpu_s": round(statistics.median(t[1] for t in times), 3)}
        print(f"{name}: {rows[name]}")
    result = {"repeats": args.repeats, "threads": os.environ.get("OMP_NUM_THREADS", "unset"),
              "cpu_count": os.cpu_count(), "python": platform.python_version(),
              "heavy_modules_after_import": heavy_modules_loaded(), "commands": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps(result, indent=2) + "\n")
    heavy = result["heavy_modules_after_import"]
    lines = [f"# CLI start-up ({args.repeats} runs each, median; OMP_NUM_THREADS={result['threads']}, "
             f"{result['cpu_count']} CPUs)", "", "| command | wall s | CPU s |", "|---|---|---|",
             *(f"| `{name}` | {row['median_wall_s']} | {row['median_cpu_s']} |" for name, row in rows.items()), "",
             f"Heavy libraries loaded by `import textsiam.cli`: {', '.join(heavy) or 'none'}.",
             ""]
    (RESULTS / "startup.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
