"""Threads and device: the one place that decides how many CPU threads torch, BLAS and tokenizers use.

``DEFAULT_THREADS = 1``, the value that measures best on a busy machine and costs least on an idle one.
torch's default is one OpenMP thread per core, and OpenMP threads spin-wait at every barrier for a thread
that may be descheduled, so as soon as anything else runs on the machine every op stalls. On the project's
2-core machine with other jobs running (issue 10): lstm encoding 126 texts/s with torch's default vs
7,967 with one thread, MiniLM 52 vs 138, bert training 8.4 vs 30 pairs/s; the towers' matrices are small
(batch x 64 tokens x 128-384 dims), so a second thread gains little on an idle machine by comparison.
``configure`` also sets ``OMP_WAIT_POLICY=PASSIVE`` (idle OpenMP threads sleep), which keeps ``--threads 2``
from collapsing under load. scripts/bench_threads.py measures 1 vs 2 threads per tower, idle and busy
(scripts/results/threads.md); pass ``threads`` (``--threads``) to use more on a machine of your own.

This module imports no torch at import time: ``configure`` sets the thread environment (``OMP_NUM_THREADS``
and friends, read once when torch and BLAS load) and only then imports torch, so called first it sets
every thread pool, inter-op included.
"""

from __future__ import annotations

import os

from .errors import TextsiamError, check_positive

DEFAULT_THREADS = 1
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                    "NUMEXPR_NUM_THREADS")
_state: dict[str, object] = {"threads": None, "device": None}


def configure(threads: int | None = None, device: str | None = None) -> dict[str, object]:
    """Use ``threads`` CPU threads (default ``DEFAULT_THREADS``) and ``device`` (default ``cpu``).

    Sets the thread environment for BLAS and OpenMP (effective for libraries not loaded yet and for
    child processes), torch's intra-op threads, and its inter-op threads when torch still allows it
    (only before its first parallel work). Tokenizers get the same count (their pool is off for one
    thread). Returns the settings in force.
    """
    threads = DEFAULT_THREADS if threads is None else int(check_positive("--threads", threads))
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
    return dict(_state)


def ensure_configured() -> None:
    """Apply ``DEFAULT_THREADS`` once, unless ``configure`` ran or the user chose torch's thread count.

    Called by ``SiameseModel.encode``, so library users get the measured default too; a user who set
    ``OMP_NUM_THREADS`` or called ``torch.set_num_threads`` keeps their choice.
    """
    if _state["threads"] is not None:
        return
    import torch

    if "OMP_NUM_THREADS" in os.environ or torch.get_num_threads() != (os.cpu_count() or 1):
        _state["threads"] = torch.get_num_threads()
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
