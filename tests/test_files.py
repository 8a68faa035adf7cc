"""Output files: refuse to clobber, atomic writes, the user's umask, and the one separator rule."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from textsiam.errors import TextsiamError
from textsiam.files import apply_umask, atomic_path, check_output, output_separator


@pytest.fixture
def umask():
    """Run the test under a chosen umask, restoring the old one afterwards."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mask, file_mode, dir_mode", [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700),
                                                       (0o002, 0o664, 0o775)])
def test_atomic_outputs_follow_the_umask(tmp_path: Path, umask, mask: int, file_mode: int, dir_mode: int):
    umask(mask)
    with atomic_path(tmp_path / "scores.csv") as tmp:
        tmp.write_text("a,b\n")
        os.chmod(tmp, 0o600)  # as safetensors and tempfile write
    assert mode(tmp_path / "scores.csv") == file_mode
    with atomic_path(tmp_path / "out", directory=True) as tmp:  # tempfile.mkdtemp makes it 0700
        (tmp / "sub").mkdir()
        (tmp / "sub" / "pairs.csv").write_text("x\n")
        os.chmod(tmp / "sub" / "pairs.csv", 0o600)
    assert mode(tmp_path / "out") == dir_mode
    assert mode(tmp_path / "out" / "sub") == dir_mode
    assert mode(tmp_path / "out" / "sub" / "pairs.csv") == file_mode


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_apply_umask_keeps_executables_executable(tmp_path: Path, umask):
    umask(0o022)
    script = tmp_path / "run.sh"
    script.write_text("#!/bin/sh\n")
    os.chmod(script, 0o700)
    apply_umask(script)
    assert mode(script) == 0o755


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path):
    (tmp_path / "keep.csv").write_text("old")
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "keep.csv") as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert (tmp_path / "keep.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.csv"]


def test_atomic_path_replaces_a_folder(tmp_path: Path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "stale.txt").write_text("old")
    with atomic_path(tmp_path / "out", directory=True) as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["new.txt"]


def test_check_output_refuses_existing_and_unwritable(tmp_path: Path):
    (tmp_path / "there.csv").write_text("x")
    with pytest.raises(TextsiamError, match="already exists; pass --overwrite"):
        check_output(tmp_path / "there.csv")
    assert check_output(tmp_path / "there.csv", overwrite=True) == tmp_path / "there.csv"
    with pytest.raises(TextsiamError, match="cannot write into"):
        check_output(tmp_path / "there.csv" / "below.csv")


@pytest.mark.parametrize("name, separator", [
    ("scored.tsv", "\t"), ("scored.TSV", "\t"), ("scored.tsv.gz", "\t"), ("scored.csv", ","),
    ("scored.csv.gz", ","), ("scored.txt", ","), ("scored", ","), ("my.tsv.d/scored.csv", ","),
    ("отчёт.tsv", "\t"), ("结果.csv", ","),
])
def test_output_separator(name: str, separator: str):
    assert output_separator(Path(name)) == separator
