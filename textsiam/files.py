"""Output paths: refuse to clobber, write atomically so nothing half-written is ever left behind, give outputs the
permissions of any file the user creates, and pick the separator of a written table."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import TextsiamError


def check_output(path: str | Path, *, overwrite: bool = False) -> Path:
    """Refuse an existing output unless ``overwrite``, and a parent we cannot write into."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise TextsiamError(f"{path} already exists; pass --overwrite to replace it.")
    parent = path.parent if str(path.parent) else Path(".")
    existing = next((p for p in [parent, *parent.parents] if p.exists()), Path("."))
    if not existing.is_dir() or not os.access(existing, os.W_OK):
        raise TextsiamError(f"{path}: cannot write into {existing}; choose another output path.")
    return path


def output_separator(path: str | Path) -> str:
    """The field separator of a table written to ``path``: a tab for ``.tsv`` (also ``.tsv.gz``), else a comma."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return "\t" if suffixes and suffixes[-1] == ".tsv" else ","


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply_umask(path: str | Path) -> None:
    """Give ``path`` (and everything under it, if a folder) the permissions of a file the user creates.

    Temporary files and folders (``tempfile``) and some libraries' writers use 0600/0700 whatever the umask;
    an output must not stay readable by its owner only when the user's umask says otherwise.
    """
    mask = current_umask()
    path = Path(path)
    for item in [path, *(path.rglob("*") if path.is_dir() and not path.is_symlink() else [])]:
        if item.is_symlink():
            continue
        executable = item.is_dir() or item.stat().st_mode & stat.S_IXUSR
        os.chmod(item, (0o777 if executable else 0o666) & ~mask)


@contextlib.contextmanager
def atomic_path(path: str | Path, *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success rename it into place, on failure remove it.

    What is renamed into place gets the permissions the user's umask gives new files and folders.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    target = tmp if directory else tmp / path.name
    try:
        yield target
        apply_umask(target)
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
        os.replace(target, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
