"""train(): read and split the pairs, build tower and loss, run the sentence-transformers trainer (evaluated on dev,
best checkpoint kept), fit the threshold and the probability head on dev, measure test, save one directory.

The steps, in order: ``load_splits`` (grouped split, or the user's --dev/--test files) -> ``training_data`` (the
rows and loss the chosen loss needs) -> ``build_trainer`` -> ``trainer.train`` -> ``finish`` (dev fit, test
metrics, report, model card, atomic save). Every step also runs under ``torchrun`` (DDP); only the main process
evaluates and saves.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import math
import os
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import runtime
from .calibration import calibration_metrics, fit_calibration, probabilities
from .choices import GRADED_LOSSES, TOWER_DEFAULTS
from .data import read_pairs
from .errors import TextsiamError
from .files import apply_umask, check_output
from .hub import default_model
from .losses import (
    ROUTES,
    augment_transitive,
    build_loss,
    mine_negatives,
    teacher_loss,
    teacher_rows,
    training_rows,
)
from .metrics import binary_metrics, check_dev_classes, choose_threshold, resolve_threshold_metric
from .model import SiameseModel
from .sampler import ProportionalBalancedBatchSampler, ResumedEpochCallback, sampler_for, world_size
from .splits import grouped_split, with_sampled_negatives
from .text import group_key
from .training_args import TrainConfig

logger = logging.getLogger("textsiam")

CHANCE_AUC = 0.55  # a dev ROC-AUC below this means the model learnt (almost) nothing: say so loudly
RUN_FILE = "run.json"  # in OUT.partial/: the options and data fingerprint the checkpoints were made with

__all__ = ["TrainConfig", "train"]


# --- data ----------------------------------------------------------------------------------------------------

def load_splits(config: TrainConfig) -> pd.DataFrame:
    """All pairs with a ``split`` column (train/dev/test) and a ``source`` column (the file each came from).

    Without --dev/--test, ``config.data`` is split grouped and label-stratified. A given --dev or --test file
    replaces that split, and ``data`` then only supplies the others.
    """
    read = {"text1": config.text1, "text2": config.text2, "label": config.label, "encoding": config.encoding,
            "graded": config.loss in GRADED_LOSSES}  # these also learn from 0-1 / 0-5 similarity scores
    pairs = read_pairs(config.data, require_label=False, **read)
    labelled = bool((pairs["label"] >= 0).all())
    config.resolve_loss(labelled)
    given = {name: read_pairs(path, require_label=labelled, **read)
             for name, path in (("dev", config.dev), ("test", config.test)) if path}
    split = grouped_split(pairs, seed=config.seed,
                          dev_fraction=0.0 if "dev" in given else config.dev_fraction,
                          test_fraction=0.0 if "test" in given else config.test_fraction)
    frames = [pairs.assign(split=split, source=str(config.data))]
    frames += [frame.assign(split=name, source=str(getattr(config, name))) for name, frame in given.items()]
    _warn_shared_texts(frames)
    all_pairs = pd.concat(frames, ignore_index=True)
    check_splits(all_pairs, config)
    return all_pairs


def _warn_shared_texts(frames: list[pd.DataFrame]) -> None:
    """Name how many texts the given files share (the split itself never shares any)."""
    sources = {}
    for frame in frames:
        for source, part in frame.groupby("source"):
            keys = set(part["text1"].map(group_key)) | set(part["text2"].map(group_key))
            sources[source] = sources.get(source, set()) | keys
    names = list(sources)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            shared = len(sources[first] & sources[second])
            if shared:
                logger.warning("%s and %s share %d distinct text(s); metrics on %s are not fully unseen-text "
                               "figures.", first, second, shared, second)


def check_splits(pairs: pd.DataFrame, config: TrainConfig) -> None:
    """Refuse, before any training, splits that cannot do their job."""
    train_labels = pairs.loc[pairs["split"] == "train", "label"]
    if config.loss_spec.row_format != "positives" and train_labels.nunique() < 2:
        only = int(train_labels.iloc[0]) if len(train_labels) else None
        raise TextsiamError(f"{config.data}: the training split has only label {only}; a Siamese model needs both "
                            "duplicates (1) and non-duplicates (0) to learn from.")
    for name in ("train", "dev", "test"):
        if (pairs["split"] == name).sum() == 0:
            raise TextsiamError(f"{config.data}: too few pairs ({len(pairs)}) to make a {name} split; use more "
                                f"data or a larger --{name}-fraction.")
    dev_labels = pairs.loc[pairs["split"] == "dev", "label"].to_numpy()
    if (dev_labels >= 0).all():
        positives, negatives = int((dev_labels >= 0.5).sum()), int((dev_labels < 0.5).sum())
    else:  # positive-only data: each dev pair gets one sampled negative
        positives, negatives = len(dev_labels), len(dev_labels) if len(dev_labels) > 1 else 0
    check_dev_classes(positives, negatives, source=str(config.dev or config.data))


def evaluation_pairs(pairs: pd.DataFrame, name: str, labelled: bool, seed: int) -> pd.DataFrame:
    """The dev or test pairs with 0/1 labels: sampled negatives for positive-only data, graded scores cut at 0.5."""
    part = pairs[pairs["split"] == name]
    if not labelled:
        return with_sampled_negatives(part, seed=seed)
    return part.assign(label=(part["label"] >= 0.5).astype(np.int64))


def training_data(config: TrainConfig, train_pairs: pd.DataFrame, encoder) -> tuple[Any, Any, dict[str, float]]:
    """The training dataset(s) and loss(es) for ``config``, and the seconds spent preparing extras."""
    seconds: dict[str, float] = {}
    if config.augment_transitive:
        before = len(train_pairs)
        train_pairs = augment_transitive(train_pairs)
        logger.info("transitive augmentation: %d pairs added to the train split", len(train_pairs) - before)
    rows = training_rows(train_pairs, config.loss_spec, seed=config.seed, symmetric=config.arch == "siamese")
    if config.hard_negatives:
        if config.loss_spec.row_format not in ("triplets", "positives"):
            raise TextsiamError("--hard-negatives works with --loss triplet or in-batch-negatives.")
        started = time.perf_counter()
        mined = mine_negatives(encoder, train_pairs, config.hard_negatives)
        seconds["mining_seconds"] = round(time.perf_counter() - started, 2)
        logger.info("hard negatives: %d mined triplets added", len(mined))
        from datasets import Dataset, concatenate_datasets

        mined_rows = Dataset.from_pandas(mined, preserve_index=False)
        # Triplet rows keep their own negative and gain the mined ones; (anchor, positive) rows become triplets.
        rows = concatenate_datasets([rows, mined_rows]) if "negative" in rows.column_names else mined_rows
    loss = build_loss(config.loss_spec, encoder)
    if not config.teacher:
        return rows, loss, seconds
    if config.arch == "pseudo":
        raise TextsiamError("--teacher works with --arch siamese only.")
    started = time.perf_counter()
    distill, teacher_dim = teacher_rows([*train_pairs["text1"], *train_pairs["text2"]], config.teacher)
    seconds["teacher_seconds"] = round(time.perf_counter() - started, 2)
    return {"pairs": rows, "teacher": distill}, {"pairs": loss, "teacher": teacher_loss(encoder, teacher_dim)}, seconds


# --- the trainer -----------------------------------------------------------------------------------------------

def run_fingerprint(config: TrainConfig, pairs: pd.DataFrame) -> dict[str, Any]:
    """The options and a hash of the split data: a checkpoint is resumed only when both are unchanged."""
    digest = hashlib.sha256()
    for column in ("text1", "text2", "label", "split"):
        digest.update(pd.util.hash_pandas_object(pairs[column], index=False).to_numpy().tobytes())
    options = {k: v for k, v in config.to_dict().items() if k != "output"}
    return {"options": json.loads(json.dumps(options, default=str)), "data_sha256": digest.hexdigest()}


def check_resumable(work: Path, fingerprint: dict[str, Any]) -> None:
    """Refuse --resume when the checkpoints in ``work`` were made with other data or options."""
    saved_file = work / RUN_FILE
    if not saved_file.exists():
        return
    saved = json.loads(saved_file.read_text())
    if saved.get("data_sha256") != fingerprint["data_sha256"]:
        raise TextsiamError(f"--resume: the checkpoints in {work} were made from other data (or another split); "
                            "run without --resume to start over.")
    changed = sorted(k for k in set(saved["options"]) | set(fingerprint["options"])
                     if saved["options"].get(k) != fingerprint["options"].get(k))
    if changed:
        raise TextsiamError(f"--resume: the checkpoints in {work} were made with other options "
                            f"({', '.join(changed)}); use the same options, or run without --resume to start over.")


def steps_per_epoch(rows: int, batch_size: int) -> int:
    """Optimizer steps per epoch in one process (the samplers make ceil(rows / (batch * processes)) batches)."""
    return max(1, math.ceil(rows / (batch_size * world_size())))


def build_trainer(config: TrainConfig, encoder, dataset, loss, dev_pairs: pd.DataFrame, work: Path):
    """The sentence-transformers trainer: per-loss sampler, warm-up ratio, dev evaluation and best checkpoint."""
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments
    from transformers import EarlyStoppingCallback

    from .evaluator import DevPairEvaluator

    first = dataset["pairs"] if isinstance(dataset, dict) else dataset
    interval = min(config.save_steps, steps_per_epoch(len(first), config.batch_size))  # at least once per epoch
    cuda = _has_cuda()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=0.1,  # a share of the trainer's own (per-process) step count, so DDP does not lengthen it
        seed=config.seed,
        data_seed=config.seed,
        eval_strategy="steps",
        eval_steps=interval,
        save_strategy="steps",
        save_steps=interval,
        save_total_limit=2,
        load_best_model_at_end=True,
        metric_for_best_model="eval_dev_roc_auc",
        greater_is_better=True,
        logging_steps=max(1, min(50, interval)),
        report_to="none",
        disable_tqdm=False,  # the quiet CLI silences transformers' logging, which would also hide this bar
        batch_sampler=sampler_for(config.loss_spec.name),
        multi_dataset_batch_sampler=ProportionalBalancedBatchSampler,
        router_mapping={c: ROUTES[c] for c in first.column_names if c in ROUTES} if config.arch == "pseudo" else {},
        dataloader_drop_last=False,
        use_cpu=not cuda,
        ddp_backend="gloo" if not cuda and "WORLD_SIZE" in os.environ else None,
        ddp_find_unused_parameters=config.arch == "pseudo",  # a one-column loss leaves the text2 tower idle
    )
    callbacks = [ResumedEpochCallback()]
    if config.early_stopping:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=config.early_stopping))
    evaluator = DevPairEvaluator(dev_pairs, pseudo=config.arch == "pseudo")
    return SentenceTransformerTrainer(model=encoder, args=args, train_dataset=dataset, loss=loss, evaluator=evaluator,
                                      callbacks=callbacks)


def main_process_first():
    """Under torchrun, accelerate's barrier: the main process runs the block before the others enter it."""
    if world_size() == 1:
        return contextlib.nullcontext()
    from accelerate import PartialState

    cuda = _has_cuda()  # the same process group the trainer's arguments ask for (gloo on a CPU)
    return PartialState(cpu=not cuda, backend=None if cuda else "gloo").main_process_first()


@functools.cache
def allow_indexed_cpu_location() -> None:
    """Let ``torch.load`` map storages to ``cpu:N``.

    Under torchrun on CPUs accelerate gives each process the device ``cpu:0``, and the HF Trainer loads a resumed
    optimizer with that as ``map_location``, which torch 2.13 refuses ("don't know how to restore data location").
    This registers torch's own extension point for the location: the storage stays on the CPU.
    """
    import torch

    def cpu_with_index(storage, location: str):
        return storage if location.startswith("cpu:") else None

    torch.serialization.register_package(5, lambda storage: None, cpu_with_index)


def partial_dir(output: str | Path) -> Path:
    """Where a run keeps checkpoints until it finishes; the output directory appears only at the end."""
    output = Path(output)
    return output.parent / f"{output.name}.partial"


def last_complete_checkpoint(directory: Path) -> Path | None:
    """The newest ``checkpoint-N`` written in full (the trainer writes trainer_state.json last), or None."""
    done = [p for p in directory.glob("checkpoint-*")
            if p.name.rpartition("-")[2].isdigit() and _readable_json(p / "trainer_state.json")]
    return max(done, key=lambda p: int(p.name.rpartition("-")[2]), default=None)


def _readable_json(path: Path) -> bool:
    """True if ``path`` holds a whole JSON object (a kill while writing leaves it cut short)."""
    try:
        return isinstance(json.loads(path.read_text()), dict)
    except (OSError, ValueError):
        return False


# --- the whole run ----------------------------------------------------------------------------------------------

def train(config: TrainConfig | None = None, **options) -> SiameseModel:
    """Train a Siamese model and save it to ``config.output``; returns the trained model.

    Pass a TrainConfig or its fields as keywords, e.g. ``train(data="pairs.csv", tower="bert")``.
    Works under ``torchrun`` (DDP): every process trains, only the main process evaluates and saves.
    """
    from .towers import build_encoder, tokenize_once

    config = config or TrainConfig(**options)
    runtime.ensure_configured()
    runtime.fit_to_tower(config.tower)
    output = Path(config.output)
    work = partial_dir(output)
    main_process = int(os.environ.get("RANK", "0")) == 0
    with main_process_first():  # else a faster peer's tokenizer folder could be cleared away as stale
        if main_process:
            check_output(output, overwrite=config.overwrite)
            if work.exists() and not config.resume:
                shutil.rmtree(work)
    started = time.perf_counter()
    pairs = load_splits(config)
    fingerprint = run_fingerprint(config, pairs)
    if config.resume:
        check_resumable(work, fingerprint)
    if main_process:
        work.mkdir(parents=True, exist_ok=True)
        (work / RUN_FILE).write_text(json.dumps(fingerprint, indent=2))
    labelled = bool((pairs["label"] >= 0).all())
    train_pairs = pairs[pairs["split"] == "train"]
    if config.max_train_pairs and len(train_pairs) > config.max_train_pairs:
        train_pairs = train_pairs.sample(config.max_train_pairs, random_state=config.seed).sort_index()
    budget = TOWER_DEFAULTS.get(config.tower, {}).get("max_pair_passes")
    if budget and config.default_epochs and len(train_pairs) * config.epochs > budget:
        config.epochs = max(1.0, round(budget / len(train_pairs), 1))
        logger.info("%d train pairs: %g epochs by default for the %s tower (pass --epochs to choose)",
                    len(train_pairs), config.epochs, config.tower)
    if config.default_model and config.tower == "lstm":
        config.model = default_model("lstm", [*train_pairs["text1"], *train_pairs["text2"]],
                                     embeddings=config.embeddings)
    dev = evaluation_pairs(pairs, "dev", labelled, config.seed)
    logger.info("pairs: %d train, %d dev, %d test (seed %d)", len(train_pairs), len(dev),
                int((pairs["split"] == "test").sum()), config.seed)

    encoder = build_encoder(config.tower, arch=config.arch, model_name=config.model, max_length=config.max_length,
                            train_texts=(train_pairs["text1"].tolist(), train_pairs["text2"].tolist()),
                            embeddings=config.embeddings, similarity=config.loss_spec.similarity,
                            seed=config.seed, tokenizer_store=work / "tokenizers", **config.extra)
    dataset, loss, extra_seconds = training_data(config, train_pairs, encoder)
    trainer = build_trainer(config, encoder, dataset, loss, dev, work)
    checkpoint = last_complete_checkpoint(work / "checkpoints") if config.resume else None
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
        allow_indexed_cpu_location()
    elif config.resume:
        logger.info("--resume: no complete checkpoint in %s; starting from the beginning", work / "checkpoints")
    train_started = time.perf_counter()
    with tokenize_once(encoder):
        trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.perf_counter() - train_started
    if not trainer.is_world_process_zero():
        return SiameseModel(encoder)

    rows = len(dataset["pairs"] if isinstance(dataset, dict) else dataset)
    model = SiameseModel(encoder, {
        "textsiam_version": _version(),
        "tower": config.tower, "arch": config.arch, "loss": config.loss, "distance": config.distance,
        "margin": config.loss_spec.effective_margin, "similarity": config.loss_spec.similarity,
        "config": config.to_dict(),
        "training": {"pairs": len(train_pairs), "rows": rows, "epochs": config.epochs,
                     "steps": int(trainer.state.global_step), "seconds": round(train_seconds, 2),
                     "pairs_per_second": round(rows * config.epochs / train_seconds, 1),
                     "best_checkpoint": trainer.state.best_model_checkpoint, **extra_seconds},
        "data": {"train": str(config.data), "dev": str(config.dev or f"grouped split of {config.data}"),
                 "test": str(config.test or f"grouped split of {config.data}")},
        "split": {name: pairs.loc[(pairs["split"] == name) & (pairs["source"] == str(config.data)), "row"]
                  .astype(int).tolist() for name in ("train", "dev", "test")},
    })
    model.metadata["split"]["train"] = train_pairs["row"].astype(int).tolist()
    if not labelled:
        model.metadata["evaluation_negatives"] = "sampled: each positive's text1 with another pair's text2"
    test = evaluation_pairs(pairs, "test", labelled, config.seed)
    scored_test = finish(model, dev, test, threshold_metric=config.threshold_metric)
    model.metadata["training"]["total_seconds"] = round(time.perf_counter() - started, 2)
    save_model(model, output, work, scored_test)
    return model


def finish(model: SiameseModel, dev: pd.DataFrame, test: pd.DataFrame, *, threshold_metric: str = "auto"
           ) -> pd.DataFrame:
    """Fit the threshold (maximising ``threshold_metric``; ``auto``: accuracy on a balanced dev, else F1) and the
    probability head on dev, both frozen from here on, then measure test once.

    Returns the test pairs with their ``score`` and ``probability`` (for the report).
    """
    similarity = model.metadata["similarity"]
    dev_scores = model.score(dev["text1"].tolist(), dev["text2"].tolist(), show_progress_bar=len(dev) > 5000)
    dev_labels = dev["label"].to_numpy()
    threshold_metric = resolve_threshold_metric(dev_labels, threshold_metric)
    model.metadata["threshold"] = choose_threshold(dev_scores, dev_labels, threshold_metric)
    model.metadata["threshold_metric"] = threshold_metric
    model.metadata["calibration"] = fit_calibration(dev_scores, dev_labels, similarity)
    dev_metrics = binary_metrics(dev_scores, dev_labels, model.threshold)
    if not dev_metrics["roc_auc"] >= CHANCE_AUC:
        logger.warning("WARNING: the trained model is no better than chance on dev (ROC-AUC %.3f); its threshold "
                       "and scores mean nothing. Check the data (labels, columns, language) and the tower.",
                       dev_metrics["roc_auc"])
    test_scores = model.score(test["text1"].tolist(), test["text2"].tolist(), show_progress_bar=len(test) > 5000)
    test_probabilities = probabilities(test_scores, model.calibration)
    test_metrics = {**binary_metrics(test_scores, test["label"].to_numpy(), model.threshold),
                    **calibration_metrics(test_probabilities, test["label"].to_numpy())}
    model.metadata["metrics"] = {"dev": dev_metrics, "test": test_metrics}
    logger.info("test: ROC-AUC %.4f  F1 %.4f  accuracy %.4f  ECE %.4f at threshold %.4f", test_metrics["roc_auc"],
                test_metrics["f1"], test_metrics["accuracy"], test_metrics["ece"], model.threshold)
    return test.assign(score=test_scores, probability=test_probabilities)


def save_model(model: SiameseModel, output: Path, work: Path, scored_test: pd.DataFrame) -> None:
    """Save model, report and card into the partial directory, then rename: the output appears only complete."""
    from .model_card import write_model_card
    from .report import write_report

    staging = work / "model"
    if staging.exists():
        shutil.rmtree(staging)
    model.save(staging)
    write_report(staging / "report", scored_test, model.metadata["metrics"]["test"], threshold=model.threshold,
                 model=model)
    write_model_card(staging, model.metadata)
    apply_umask(staging)  # safetensors writes weights 0600 whatever the umask
    if output.exists():
        shutil.rmtree(output)
    os.replace(staging, output)
    shutil.rmtree(work, ignore_errors=True)


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _version() -> str:
    from . import __version__

    return __version__
