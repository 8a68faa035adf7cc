"""textsiam.runtime: thread and device settings, applied before torch loads and by SiameseModel.encode."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from textsiam import runtime
from textsiam.errors import TextsiamError
from textsiam.model import SiameseModel

from .test_matching import bag_of_words


@pytest.fixture(autouse=True)
def restore_runtime(monkeypatch):
    """Each test starts unconfigured and leaves the environment and torch's thread count as it found them."""
    for name in (*runtime.THREAD_VARIABLES, "OMP_WAIT_POLICY", "TOKENIZERS_PARALLELISM", "RAYON_NUM_THREADS",
                 "RAYON_RS_NUM_CPUS"):
        monkeypatch.setenv(name, os.environ.get(name, "unset"))  # records the value (or absence) to restore
        if os.environ[name] == "unset":
            monkeypatch.delenv(name)
    monkeypatch.setattr(runtime, "_state", {"threads": None, "device": None, "chosen": False})
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def pretend_machine(monkeypatch, cores: int, load: float, local_processes: int | None = None,
                    running_now: int | None = None) -> None:
    """``load``: the 1-minute load average; ``running_now``: other tasks running this instant (default: as many)."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cores)))
    monkeypatch.setattr(os, "getloadavg", lambda: (load, load, load))
    now = round(load) if running_now is None else running_now
    monkeypatch.setattr(runtime, "_other_running_tasks", lambda: now)
    if local_processes:
        monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local_processes))
    else:
        monkeypatch.delenv("LOCAL_WORLD_SIZE", raising=False)


@pytest.mark.parametrize("cores, load, processes, expected", [
    (2, 0.05, None, 2),  # idle: every core
    (2, 0.9, None, 1),   # one core busy
    (2, 4.0, None, 1),   # overloaded: still one
    (8, 1.2, None, 7),
    (8, 0.0, 2, 4),      # torchrun with two processes shares the cores
    (2, 0.0, 2, 1),
])
def test_default_threads_are_the_free_cores(monkeypatch, cores, load, processes, expected):
    pretend_machine(monkeypatch, cores, load, processes)
    assert runtime.free_cores() == expected
    settings = runtime.configure()
    assert settings == {"threads": expected, "device": None} and torch.get_num_threads() == expected
    assert {os.environ[name] for name in runtime.THREAD_VARIABLES} == {str(expected)}
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert os.environ["TOKENIZERS_PARALLELISM"] == ("true" if expected > 1 else "false")


def test_a_job_that_just_ended_does_not_count_as_busy(monkeypatch):
    pretend_machine(monkeypatch, cores=2, load=1.6, running_now=0)  # the average still remembers it
    assert runtime.free_cores() == 2
    pretend_machine(monkeypatch, cores=2, load=0.1, running_now=3)  # a burst that just started: not yet
    assert runtime.free_cores() == 2
    pretend_machine(monkeypatch, cores=2, load=1.6, running_now=2)  # busy by both measures
    assert runtime.free_cores() == 1


def test_running_tasks_are_read_from_proc_on_linux():
    counted = runtime._other_running_tasks()
    if os.path.exists("/proc/loadavg"):
        assert isinstance(counted, int) and counted >= 0
    else:
        assert counted is None


def test_the_lstm_tower_runs_on_one_thread_unless_the_user_chose(monkeypatch):
    pretend_machine(monkeypatch, cores=2, load=0.0)
    runtime.configure()
    runtime.fit_to_tower("static")
    assert torch.get_num_threads() == 2
    runtime.fit_to_tower("lstm")
    assert torch.get_num_threads() == 1 and runtime.threads() == 1
    runtime.configure(threads=2)  # chosen: kept for the lstm too
    runtime.fit_to_tower("lstm")
    assert torch.get_num_threads() == 2 and runtime.threads() == 2


def test_configure_threads_reaches_torch_and_tokenizers():
    runtime.configure(threads=2)
    assert torch.get_num_threads() == 2 and os.environ["OMP_NUM_THREADS"] == "2"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "true" and os.environ["RAYON_NUM_THREADS"] == "2"
    assert runtime.threads() == 2 and runtime.device() == "cpu"


def test_configure_before_torch_loads_sets_intra_and_interop_threads():
    code = ("from textsiam import runtime; runtime.configure(1); import torch; "
            "print(torch.get_num_threads(), torch.get_num_interop_threads())")
    env = {k: v for k, v in os.environ.items() if k not in runtime.THREAD_VARIABLES}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.split() == ["1", "1"]


@pytest.mark.parametrize("kwargs, message", [
    ({"threads": 0}, "--threads must be greater than 0"),
    ({"device": "tpu"}, "unknown --device 'tpu'"),
])
def test_bad_settings_are_one_line_errors(kwargs, message):
    with pytest.raises(TextsiamError, match=message):
        runtime.configure(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_gpu_is_a_clear_error():
    with pytest.raises(TextsiamError, match="--device cuda: no such device on this machine"):
        runtime.configure(device="cuda")


def test_encode_applies_the_default_unless_the_user_chose(monkeypatch):
    model = SiameseModel(SentenceTransformer(modules=bag_of_words(), device="cpu"))
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # the user's choice: kept
    torch.set_num_threads(2)
    model.encode(["red apple"])
    assert torch.get_num_threads() == 2 and runtime.threads() == 2
    monkeypatch.delenv("OMP_NUM_THREADS")
    monkeypatch.setattr(runtime, "_state", {"threads": None, "device": None, "chosen": False})
    pretend_machine(monkeypatch, cores=2, load=1.5)
    torch.set_num_threads(os.cpu_count() or 1)  # torch's own default: replaced by the free cores
    model.encode(["red apple"])
    assert torch.get_num_threads() == 1


def test_thread_count_does_not_change_embeddings_of_cyrillic_and_chinese_texts():
    model = SiameseModel(SentenceTransformer(modules=bag_of_words(), device="cpu"))
    texts = ["красное яблоко", "苹果 绿茶", "зелёный чай"]
    runtime.configure(threads=1)
    one = model.encode(texts)
    runtime.configure(threads=2)
    assert np.array_equal(model.encode(texts), one)
    assert one.shape == (3, model.dimension) and np.count_nonzero(one, axis=1).tolist() == [2, 2, 2]
