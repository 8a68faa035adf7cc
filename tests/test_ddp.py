"""`textsiam train` under torchrun with two CPU processes (DDP over gloo)."""

import json
import os
import subprocess
import sys
from pathlib import Path


def test_train_under_torchrun_two_processes(tmp_path: Path):
    output = tmp_path / "ddp-model"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29533",
         "-m", "textsiam", "train", "--data", "sample", "--output", str(output), "--epochs", "1"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    meta = json.loads((output / "textsiam.json").read_text())
    assert meta["metrics"]["test"]["n"] == len(meta["split"]["test"]) > 0
    assert not (tmp_path / "ddp-model.partial").exists()
