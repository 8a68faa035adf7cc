"""`textsiam train` under torchrun with two CPU processes (DDP over gloo): it runs, and it trains on every row."""

import json
import os
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import SAMPLE

ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port",
                           str(free_port()), *args], capture_output=True, text=True, env=ENV, timeout=600)


def test_train_under_torchrun_two_processes(tmp_path: Path):
    output = tmp_path / "ddp-model"
    result = torchrun("-m", "textsiam", "train", "--data", "sample", "--output", str(output), "--epochs", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((output / "textsiam.json").read_text())
    assert meta["metrics"]["test"]["n"] == len(meta["split"]["test"]) > 0
    assert not (tmp_path / "ddp-model.partial").exists()


@pytest.mark.parametrize("loss", ["online-contrastive", "in-batch-negatives"])
def test_two_processes_see_every_training_row_exactly_once_per_epoch(tmp_path: Path, loss: str, tiny_bert_dir: Path):
    out = tmp_path / "seen.json"
    result = torchrun(str(Path(__file__).parent / "ddp" / "rows_seen.py"), str(SAMPLE), str(out), loss,
                      str(tiny_bert_dir))
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(out.read_text())
    for per_process in seen["epochs"]:
        counts = Counter(index for indices in per_process for index in indices)
        assert sorted(counts) == list(range(seen["rows"])), "rows missing from an epoch"
        assert set(counts.values()) == {1}, "rows repeated within an epoch"
        assert len(per_process[0]) > 0 and len(per_process[1]) > 0
