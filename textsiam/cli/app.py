"""The one Typer app every command registers on, the options every command shares, and the wrapper that turns
user errors into one line.

Start-up must stay fast (``textsiam --help`` well under a second), so this module and the command modules
import only typer and textsiam's light modules at the top; torch, pandas and sentence-transformers are
imported inside the command bodies.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import typer

from .. import __version__
from ..choices import ENCODE_BATCH_SIZES
from ..errors import TextsiamError
from ..runtime import DEFAULT_THREADS_HELP

app = typer.Typer(
    name="textsiam",
    help="Sentence-pair similarity with Siamese networks: train, evaluate, predict, dedup, match.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
state: dict[str, Any] = {"debug": False, "verbose": False, "started": time.perf_counter()}
T = TypeVar("T")

NOISY_LIBRARIES = ("transformers", "sentence_transformers", "datasets", "accelerate", "huggingface_hub", "torch")
# Progress bars and warnings of the libraries underneath, switched off unless --verbose. Environment variables
# because the libraries read them when they are imported, which happens later, inside the command.
QUIET_ENVIRONMENT = {
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # also transformers' bars ("Loading weights")
    "HF_DATASETS_DISABLE_PROGRESS_BARS": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "DATASETS_VERBOSITY": "error",
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
}

# Options every command takes; each command passes them to configure_runtime() before it imports torch.
THREADS_OPTION = typer.Option(None, "--threads", show_default=DEFAULT_THREADS_HELP,
                              help="CPU threads for torch, BLAS and tokenizers (by default the cores other work "
                                   "leaves free, measured at start; see textsiam/runtime.py).")
BATCH_SIZE_DEFAULT = ("per tower: static {static}, bert {attention}, lstm {other}"
                      .format(**ENCODE_BATCH_SIZES))
DEVICE_OPTION = typer.Option(None, "--device", show_default="cpu", help="Where the model runs: cpu, cuda, cuda:N, mps.")


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return prefix + record.getMessage()


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"textsiam {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks, with the underlying error, "
                                                      "instead of one-line errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Also the libraries' own progress bars, "
                                                                "warnings and log lines."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print textsiam's version and exit."),
) -> None:
    """Sentence-pair similarity with Siamese networks."""
    state.update(debug=debug, verbose=verbose, started=time.perf_counter())
    logger = logging.getLogger("textsiam")
    logger.handlers = [logging.StreamHandler(sys.stderr)]
    logger.handlers[0].setFormatter(_OneLine())
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    if not verbose:
        quiet_libraries()


def quiet_libraries() -> None:
    """Silence the progress bars, warnings and log lines of the libraries underneath (textsiam's own stay)."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    for name in NOISY_LIBRARIES:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module=rf"({'|'.join(NOISY_LIBRARIES)})(\.|$)")
    _silence_library_chatter()


def _silence_library_chatter() -> None:
    """Output the libraries print without asking ``logging``, switched off where it is defined (once imported):
    sentence-transformers' 'Computing widget examples' bar on every save, and the Hugging Face trainer's log
    dicts ({'loss': …, 'epoch': …}) printed beside its progress bar."""
    model_card = sys.modules.get("sentence_transformers.base.model_card")
    if model_card is not None and not getattr(model_card.tqdm, "textsiam_silenced", False):
        bar = model_card.tqdm

        def silent(*args: Any, **kwargs: Any) -> Any:
            return bar(*args, **{**kwargs, "disable": True})

        silent.textsiam_silenced = True  # type: ignore[attr-defined]
        model_card.tqdm = silent
    callbacks = sys.modules.get("transformers.trainer_callback")
    if callbacks is not None:
        for printer in (callbacks.ProgressCallback, callbacks.PrinterCallback):
            printer.on_log = _no_log


def _no_log(self: Any, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> None:
    """A trainer callback's on_log that prints nothing (the progress bar itself stays)."""


def configure_runtime(threads: int | None, device: str | None) -> None:
    """Apply --threads and --device. Every command calls this first, before it imports torch, so that the
    thread settings reach the libraries as they load; a bad value is a one-line error."""
    from ..runtime import configure

    run_command(configure, threads, device)


def one_line(message: str) -> str:
    """``message`` on one line: newlines and other control characters become visible escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message.strip())


def run_command(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a library function; a TextsiamError becomes 'error: …' on stderr and exit code 2.

    With --debug the error is raised instead, and the error that caused it (which library code hides with
    ``raise … from None`` to keep the one-line message clean) is shown in the traceback too.
    """
    if not state["verbose"]:
        _silence_library_chatter()  # the command body has imported the libraries by now, if it needs them
    try:
        return fn(*args, **kwargs)
    except TextsiamError as exc:
        if state["debug"]:
            exc.__suppress_context__ = False
            raise
        typer.echo(f"error: {one_line(str(exc))}", err=True)
        raise typer.Exit(2) from None
    except OSError as exc:  # disk full, permission denied, …: the environment, not a bug
        if state["debug"]:
            raise
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        typer.echo(f"error: {one_line(where + (exc.strerror or str(exc)))}; nothing half-written was left behind.",
                   err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.echo("interrupted; nothing half-written was left behind.", err=True)
        raise typer.Exit(130) from None


def echo_summary(*, written: dict[str, Path | str | None], rows: dict[str, int] | None = None,
                 per_second: int | None = None) -> None:
    """The last line(s) of a command: what was written where, the row counts, the time taken and rows/s.

    ``written`` maps a description ("model", "report") to a path (None entries are left out); ``rows`` holds
    counts such as {"read": 10, "written": 10, "rejected": 0}; ``per_second`` the rows the speed is measured
    on (default: the first count).
    """
    seconds = time.perf_counter() - state["started"]
    parts = []
    if rows:
        parts.append("rows " + ", ".join(f"{name} {count}" for name, count in rows.items()))
    speed = per_second if per_second is not None else next(iter(rows.values()), None) if rows else None
    timing = f"{seconds:.1f} s"
    if speed and seconds > 0:
        timing += f" ({speed / seconds:,.0f} rows/s)"
    parts.append(timing)
    typer.echo("; ".join(parts), err=True)
    for what, path in written.items():
        if path is not None:
            typer.echo(f"{what} -> {path}", err=True)
