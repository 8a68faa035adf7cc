"""kill -9 during `textsiam train`, then `--resume`: training continues from the last complete checkpoint and
ends with the same model as an uninterrupted run with the same seed.

Tolerance: 1e-6 on the threshold and every test metric, 1e-5 on scores. Measured on this CPU (torch 2.13,
2 threads) the resumed run is bit-identical to the uninterrupted one: HF Trainer restores the optimizer,
scheduler and RNG state, LengthGroupedBatchSampler reseeds from seed + epoch (the epoch is set by
``sampler.ResumedEpochCallback``: without it the resumed epoch 2 replayed epoch 1's batches), the LSTM has
no dropout, and the LSTM initialisation is seeded (it used torch's per-process seed before, which made two runs of
the same command differ: test threshold 0.327 vs 0.120 on this data).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import textsiam
from textsiam.cli import app
from textsiam.training import last_complete_checkpoint, partial_dir

from .conftest import write_pairs

TOLERANCE = 1e-6
# 60 pairs -> 40 train rows -> 3 steps per epoch at batch 16; 6 steps in all, a checkpoint every 2. The lstm's
# default loss (cosent) on this data keeps improving on dev to the last step, so the model compared below is the one
# trained after the kill (asserted: a best checkpoint from before the kill would make the comparison vacuous).
# --model none: the killed run is a subprocess, beyond conftest's patch, and must start like the resumed one.
TRAIN_ARGS = ["--epochs", "2", "--batch-size", "16", "--save-steps", "2", "--seed", "2", "--dev-fraction", "0.2",
              "--test-fraction", "0.2", "--max-length", "16", "--model", "none"]


def fake_checkpoint(work: Path, step: int, *, complete: bool) -> Path:
    """A checkpoint directory that holds no usable state; ``complete`` gives it the trainer_state.json marker."""
    checkpoint = work / "checkpoints" / f"checkpoint-{step}"
    checkpoint.mkdir(parents=True)
    if complete:
        (checkpoint / "trainer_state.json").write_text("{}")
    return checkpoint


def wait_for_checkpoint(work: Path, process: subprocess.Popen, min_step: int, timeout: float = 240) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        checkpoint = last_complete_checkpoint(work / "checkpoints") if work.exists() else None
        if checkpoint is not None and min_step <= int(checkpoint.name.split("-")[1]) < 99:
            return checkpoint
        if process.poll() is not None:
            pytest.fail(f"training ended (rc {process.returncode}) before a checkpoint at step {min_step} appeared")
        time.sleep(0.05)
    process.kill()
    pytest.fail("no checkpoint appeared in time")


def test_last_complete_checkpoint_skips_half_written_ones(tmp_path: Path):
    assert last_complete_checkpoint(tmp_path / "checkpoints") is None
    fake_checkpoint(tmp_path, 3, complete=True)
    fake_checkpoint(tmp_path, 12, complete=True)
    fake_checkpoint(tmp_path, 15, complete=False)  # killed while saving
    (fake_checkpoint(tmp_path, 18, complete=True) / "trainer_state.json").write_text('{"global_step": 1')  # cut short
    (tmp_path / "checkpoints" / "checkpoint-x").mkdir()
    assert last_complete_checkpoint(tmp_path / "checkpoints").name == "checkpoint-12"  # numeric, not text, order


def test_kill_9_then_resume_matches_an_uninterrupted_run(tmp_path: Path):
    data = write_pairs(tmp_path / "pairs.csv")
    output = tmp_path / "model"
    work = partial_dir(output)
    # A stale partial run: without --resume it must be thrown away (else --resume below would pick it up).
    stale = fake_checkpoint(work, 99, complete=True)

    command = [sys.executable, "-m", "textsiam", "train", "--data", str(data), "--output", str(output), *TRAIN_ARGS]
    log = open(tmp_path / "killed.log", "w")  # noqa: SIM115  (closed below)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                               env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        # Step 4 is one step into epoch 2: resuming there must also restore that epoch's batch order.
        wait_for_checkpoint(work, process, min_step=4)
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        log.close()
    assert process.returncode == -signal.SIGKILL
    assert not stale.exists()
    assert not output.exists(), "an interrupted run must not leave a complete-looking output directory"
    checkpoint = last_complete_checkpoint(work / "checkpoints")
    assert checkpoint is not None and int(checkpoint.name.split("-")[1]) < 6

    runner = CliRunner()
    resumed = runner.invoke(app, ["train", "--data", str(data), "--output", str(output), *TRAIN_ARGS, "--resume"])
    assert resumed.exit_code == 0, resumed.output
    assert f"resuming from {checkpoint}" in resumed.output
    assert "rows read 60, used 60, rejected 0" in resumed.output
    assert output.is_dir() and not work.exists()

    # The reference: uninterrupted, same seed. --resume with only a half-written checkpoint starts afresh.
    reference = tmp_path / "reference"
    fake_checkpoint(partial_dir(reference), 5, complete=False)
    fresh = runner.invoke(app, ["train", "--data", str(data), "--output", str(reference), *TRAIN_ARGS, "--resume"])
    assert fresh.exit_code == 0, fresh.output
    assert "no complete checkpoint" in fresh.output

    got = json.loads((output / "textsiam.json").read_text())
    want = json.loads((reference / "textsiam.json").read_text())
    assert got["split"] == want["split"]
    for run in (got, want):
        assert run["training"]["best_checkpoint"].endswith("checkpoint-6"), run["training"]["best_checkpoint"]
    assert abs(got["threshold"] - want["threshold"]) <= TOLERANCE
    for name, value in want["metrics"]["test"].items():
        assert abs(got["metrics"]["test"][name] - value) <= TOLERANCE, name
    texts1 = ["how do i learn python", "what is the best way to learn tea", "how can i get good at chess"]
    texts2 = ["how can i get good at python", "how do i learn bread", "what is the best way to learn chess"]
    np.testing.assert_allclose(textsiam.load(output).score(texts1, texts2),
                               textsiam.load(reference).score(texts1, texts2), atol=1e-5)


SMALL = {"dev_fraction": 0.2, "test_fraction": 0.2}


def _saved_run(config, work: Path) -> None:
    from textsiam.training import RUN_FILE, load_splits, run_fingerprint

    work.mkdir(parents=True, exist_ok=True)
    (work / RUN_FILE).write_text(json.dumps(run_fingerprint(config, load_splits(config))))


def test_resume_refuses_checkpoints_made_with_other_options(tmp_path: Path):
    from textsiam.training import TrainConfig, train

    data = write_pairs(tmp_path / "pairs.csv")
    output = tmp_path / "m"
    _saved_run(TrainConfig(data=str(data), output=str(output), epochs=2, **SMALL), partial_dir(output))
    with pytest.raises(textsiam.TextsiamError, match=r"other options \(epochs\)"):
        train(TrainConfig(data=str(data), output=str(output), epochs=3, resume=True, **SMALL))


def test_resume_refuses_checkpoints_made_from_other_data(tmp_path: Path):
    from textsiam.training import TrainConfig, train

    output = tmp_path / "m"
    first = write_pairs(tmp_path / "a.csv", seed=0)
    _saved_run(TrainConfig(data=str(first), output=str(output), **SMALL), partial_dir(output))
    changed = write_pairs(tmp_path / "a.csv", n_groups=13, seed=0)  # same path, one topic more
    with pytest.raises(textsiam.TextsiamError, match="other data"):
        train(TrainConfig(data=str(changed), output=str(output), resume=True, **SMALL))
