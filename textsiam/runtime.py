"""Threads and device: the one place that decides how many CPU threads torch, BLAS and tokenizers use.

By default (``threads=None``, ``--threads`` not given) textsiam uses the cores that are free when the
command starts (``free_cores``: the usable cores minus those busy both over the last minute and right now,
shared among torchrun's local processes, at least one), and the lstm tower always runs on one thread.
scripts/bench_threads.py measured why on the 2-core machine (scripts/results/threads.md and threads_train.md;
encode texts/s, 1 vs 2 threads; docs/scoring.md has the whole table):

- idle machine: bert 156 vs 274, static 28,275 vs 37,966, but lstm 3,921 vs 2,469 (its per-step matrices are
  too small to share: a second thread only adds waiting);
- busy machine (3 other CPU-bound processes): static 12,186 vs 9,156, lstm 1,816 vs 1,644, bert's int8
  export 202 vs 187 (only torch fp32 bert still gains: 75 vs 92); and torch's own default (one spinning
  OpenMP thread per core) collapses: issue 10 saw lstm 126 vs 7,967 texts/s, bert training 8.4 vs 30 pairs/s.

``configure`` also sets ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep), which keeps more than one
thread from collapsing under load. Pass ``threads`` (``--threads``) to fix the count yourself.

This module imports no torch at import time: ``configure`` sets the thread environment (``OMP_NUM_THREADS``
and friends, read once when torch and BLAS load) and only then imports torch, so called first it sets
every thread pool, inter-op included.
"""

from __future__ import annotations

import os

from .errors import TextsiamError, check_positive

DEFAULT_THREADS_HELP = "the free cores (lstm: 1)"
ONE_THREAD_TOWERS = ("lstm",)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
_state: dict[str, object] = {"threads": None, "device": None, "chosen": False}


def free_cores() -> int:
    """Cores not busy with other work, per local process (torchrun's LOCAL_WORLD_SIZE), at least one.

    A core counts as busy only if both the last minute (the 1-minute load average) and this instant (the
    tasks running now, from /proc/loadavg, this one excluded) say so: the average alone lags, so a command
    started right after another heavy one would see the finished job as still running.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        busy = 0.0
    running_now = _other_running_tasks()
    if running_now is not None:
        busy = min(busy, running_now)
    processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1")))  # torchrun's processes on this machine
    return max(1, round((cores - busy) / processes))


def _other_running_tasks() -> int | None:
    """Tasks running or runnable right now, other than this one (Linux: /proc/loadavg); None elsewhere."""
    try:
        with open("/proc/loadavg", encoding="ascii") as file:
            return max(0, int(file.read().split()[3].split("/")[0]) - 1)
    except (OSError, IndexError, ValueError):
        return None


def configure(threads: int | None = None, device: str | None = None) -> dict[str, object]:
    """Use ``threads`` CPU threads (default: ``free_cores()``) and ``device`` (default ``cpu``).

    Sets the thread environment for BLAS and OpenMP (effective for libraries not loaded yet and for
    child processes), torch's intra-op threads, and its inter-op threads when torch still allows it
    (only before its first parallel work). Tokenizers get the same count (their pool is off for one
    thread). Returns the settings in force.
    """
    _state["chosen"] = threads is not None
    threads = free_cores() if threads is None else int(check_positive("--threads", threads))
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    # Idle OpenMP threads sleep instead of spinning: a spinning thread steals the core the others wait for.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Tokenizers (Rust) get the same number of threads; with one, their pool is off and never forks badly.
    os.environ["TOKENIZERS_PARALLELISM"] = "true" if threads > 1 else "false"
    os.environ["RAYON_NUM_THREADS"] = os.environ["RAYON_RS_NUM_CPUS"] = str(threads)
    _state["threads"] = threads
    _state["device"] = _check_device(device)
    _apply_to_torch(threads)  # imports torch, after the environment above is in place
    return {"threads": threads, "device": _state["device"]}


def fit_to_tower(tower: str | None) -> None:
    """One thread for the lstm tower unless the user chose the count (it measures fastest idle and busy)."""
    if tower in ONE_THREAD_TOWERS and not _state["chosen"] and _state["threads"] != 1:
        import torch

        torch.set_num_threads(1)
        _state["threads"] = 1


def ensure_configured() -> None:
    """Apply the default thread count once, unless ``configure`` ran or the user chose torch's thread count.

    Called by ``SiameseModel.encode``, so library users get the measured default too; a user who set
    ``OMP_NUM_THREADS`` or called ``torch.set_num_threads`` keeps their choice.
    """
    if _state["threads"] is not None:
        return
    import torch

    if "OMP_NUM_THREADS" in os.environ or torch.get_num_threads() != (os.cpu_count() or 1):
        _state["threads"] = torch.get_num_threads()
        _state["chosen"] = True
        return
    configure(device=_state["device"])  # type: ignore[arg-type]


def threads() -> int:
    """The CPU threads in force (configuring the default first if nothing was chosen)."""
    ensure_configured()
    return int(_state["threads"])  # type: ignore[arg-type]


def device() -> str:
    """The device models run on: the one passed to ``configure``, else ``cpu``."""
    return str(_state["device"] or "cpu")


def _apply_to_torch(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # torch allows this only before its first inter-op parallel work; intra-op is what counts
        pass


def _check_device(device: str | None) -> str | None:
    if device is None or device == "cpu":
        return device
    kind = device.split(":")[0]
    if kind not in {"cuda", "mps", "xpu"}:
        raise TextsiamError(f"unknown --device {device!r}; use cpu, cuda, cuda:N or mps.")
    import torch

    available = {"cuda": torch.cuda.is_available, "mps": torch.backends.mps.is_available,
                 "xpu": lambda: hasattr(torch, "xpu") and torch.xpu.is_available()}[kind]()
    if not available:
        raise TextsiamError(f"--device {device}: no such device on this machine (torch {torch.__version__} "
                            f"sees none); use --device cpu.")
    return device
