"""The one user-facing error type. The CLI prints it as a single line, without a traceback."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class TextsiamError(Exception):
    """A mistake in the user's input or environment: shown as one line, exit code 2."""


def suggest(name: str, choices: Iterable[str]) -> str:
    """' Did you mean X?' for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(name, list(choices), n=2, cutoff=0.5)
    return f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def check_choice(option: str, value: str, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``; otherwise raise a TextsiamError listing them."""
    choices = list(choices)
    if value not in choices:
        raise TextsiamError(
            f"unknown {option} {value!r}; choose one of: {', '.join(choices)}.{suggest(value, choices)}"
        )
    return value


def check_positive(option: str, value: float | None, *, optional: bool = False) -> float | None:
    """Raise a TextsiamError unless ``value`` is > 0 (or, with ``optional``, None: "the default")."""
    if optional and value is None:
        return None
    if value is None or not value > 0:
        raise TextsiamError(f"{option} must be greater than 0 (got {value}).")
    return value
