"""The textsiam command line: one Typer app, one module per command."""

from . import dedup, evaluate, export, match, predict, train  # noqa: F401  (each module registers its command)
from .app import app


def main() -> None:
    """Entry point of the ``textsiam`` console script."""
    app()
