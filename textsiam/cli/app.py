"""The one Typer app every command registers on, and the wrapper that turns user errors into one line."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import typer

from ..errors import TextsiamError

app = typer.Typer(
    name="textsiam",
    help="Sentence-pair similarity with Siamese networks: train, evaluate, predict, dedup, match.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
state = {"debug": False}
T = TypeVar("T")


class _OneLine(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        prefix = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        return prefix + record.getMessage()


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks instead of one-line errors."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Only warnings and errors."),
) -> None:
    """Sentence-pair similarity with Siamese networks."""
    state["debug"] = debug
    logger = logging.getLogger("textsiam")
    logger.handlers = [logging.StreamHandler(sys.stderr)]
    logger.handlers[0].setFormatter(_OneLine())
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for noisy in ("transformers", "sentence_transformers", "datasets", "accelerate"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def one_line(message: str) -> str:
    """``message`` on one line: newlines and other control characters become visible escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message.strip())


def run_command(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a library function; a TextsiamError becomes 'error: …' on stderr and exit code 2."""
    try:
        return fn(*args, **kwargs)
    except TextsiamError as exc:
        if state["debug"]:
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
