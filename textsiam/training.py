"""train(): read pairs, split them grouped, build tower and loss, run the sentence-transformers trainer,
choose the threshold on dev, evaluate on test, and save one model directory atomically."""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .choices import TOWER_DEFAULTS
from .data import read_pairs
from .errors import TextsiamError, check_choice, check_positive
from .evaluation import evaluate_pairs, write_report
from .files import check_output
from .losses import ROUTES, LossSpec, build_loss, teacher_loss, teacher_rows, training_rows
from .metrics import check_dev_classes, choose_threshold
from .model import SiameseModel
from .sampler import LengthGroupedBatchSampler
from .splits import grouped_split, with_sampled_negatives
from .towers import ARCHS, DEFAULT_BERT, TOWERS, build_encoder

logger = logging.getLogger("textsiam")


@dataclass
class TrainConfig:
    """Every choice of a training run; None means the tower's default (see TOWER_DEFAULTS)."""

    data: str = "sample"
    output: str = "model"
    tower: str = "lstm"
    arch: str = "siamese"
    loss: str | None = None  # None: online-contrastive for labelled pairs, in-batch-negatives for positives only
    distance: str = "cosine"
    margin: float | None = None
    model: str = DEFAULT_BERT
    embeddings: str | None = None
    teacher: str | None = None  # a SentenceTransformer whose embeddings the tower also learns to reproduce
    encoding: str = "utf-8"  # text encoding of the data file
    max_length: int | None = None
    epochs: float | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    seed: int = 42
    dev_fraction: float = 0.1
    test_fraction: float = 0.1
    text1: str | None = None
    text2: str | None = None
    label: str | None = None
    save_steps: int = 500
    max_train_pairs: int | None = None  # train on a seeded sample of the train split (dev and test unchanged)
    resume: bool = False
    overwrite: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_choice("--tower", self.tower, TOWERS)
        check_choice("--arch", self.arch, ARCHS)
        for name, value in TOWER_DEFAULTS[self.tower].items():
            if getattr(self, name) is None:
                setattr(self, name, value)
        for option in ("epochs", "batch_size", "learning_rate", "max_length", "save_steps"):
            check_positive(f"--{option.replace('_', '-')}", getattr(self, option))
        for option in ("dev_fraction", "test_fraction"):
            if not 0 < getattr(self, option) < 0.5:
                raise TextsiamError(f"--{option.replace('_', '-')} must be between 0 and 0.5.")
        self.loss_spec = LossSpec(self.loss or "online-contrastive", self.distance, self.margin)

    def resolve_loss(self, labelled: bool) -> None:
        """Pick the default loss once we know whether the data has labels; positives only need in-batch negatives."""
        if self.loss is None:
            self.loss = "online-contrastive" if labelled else "in-batch-negatives"
        elif not labelled and self.loss != "in-batch-negatives":
            raise TextsiamError(f"the data has no label column, so it holds positive pairs only; --loss {self.loss} "
                                "needs labelled pairs. Use --loss in-batch-negatives (the default for such data).")
        self.loss_spec = LossSpec(self.loss, self.distance, self.margin)


def partial_dir(output: str | Path) -> Path:
    """Where a run keeps checkpoints until it finishes; the output directory appears only at the end."""
    output = Path(output)
    return output.parent / f"{output.name}.partial"


def last_complete_checkpoint(directory: Path) -> Path | None:
    """The newest ``checkpoint-N`` written in full (the trainer writes trainer_state.json last), or None.

    A run killed while saving leaves a checkpoint without it; resuming from that one would fail.
    """
    done = [p for p in directory.glob("checkpoint-*")
            if p.name.rpartition("-")[2].isdigit() and _readable_json(p / "trainer_state.json")]
    return max(done, key=lambda p: int(p.name.rpartition("-")[2]), default=None)


def _readable_json(path: Path) -> bool:
    """True if ``path`` holds a whole JSON object (a kill while writing leaves it cut short)."""
    import json

    try:
        return isinstance(json.loads(path.read_text()), dict)
    except (OSError, ValueError):
        return False


def split_pairs(pairs: pd.DataFrame, config: TrainConfig) -> pd.DataFrame:
    """Add a ``split`` column (grouped, seeded) and check each split can do its job."""
    pairs = pairs.assign(split=grouped_split(pairs, seed=config.seed, dev_fraction=config.dev_fraction,
                                             test_fraction=config.test_fraction))
    train_labels = pairs.loc[pairs["split"] == "train", "label"]
    if config.loss_spec.row_format != "positives" and train_labels.nunique() < 2:
        only = int(train_labels.iloc[0]) if len(train_labels) else None
        raise TextsiamError(f"{config.data}: the training split has only label {only}; a Siamese model needs both "
                            "duplicates (1) and non-duplicates (0) to learn from.")
    for name in ("dev", "test"):
        if (pairs["split"] == name).sum() == 0:
            raise TextsiamError(f"{config.data}: too few pairs ({len(pairs)}) to make a {name} split; use more "
                                f"data or a larger --{name}-fraction.")
    dev_labels = pairs.loc[pairs["split"] == "dev", "label"].to_numpy()
    # Check before training that dev can choose a threshold (positive-only data gets one negative per pair).
    if (dev_labels >= 0).all():
        positives, negatives = int((dev_labels == 1).sum()), int((dev_labels == 0).sum())
    else:
        positives, negatives = len(dev_labels), len(dev_labels) if len(dev_labels) > 1 else 0
    check_dev_classes(positives, negatives, source=str(config.data))
    return pairs


def train(config: TrainConfig | None = None, **options) -> SiameseModel:
    """Train a Siamese model and save it to ``config.output``; returns the trained model.

    Pass a TrainConfig or its fields as keywords, e.g. ``train(data="pairs.csv", tower="bert")``.
    Works under ``torchrun`` (DDP): every process trains, only the main process evaluates and saves.
    """
    from sentence_transformers import SentenceTransformerTrainer, SentenceTransformerTrainingArguments

    config = config or TrainConfig(**options)
    output = Path(config.output)
    work = partial_dir(output)
    main_process = int(os.environ.get("RANK", "0")) == 0
    if main_process:
        check_output(output, overwrite=config.overwrite)
        if work.exists() and not config.resume:
            shutil.rmtree(work)
    started = time.perf_counter()
    pairs = read_pairs(config.data, text1=config.text1, text2=config.text2, label=config.label,
                       require_label=False, encoding=config.encoding)
    labelled = bool((pairs["label"] >= 0).all())
    config.resolve_loss(labelled)
    pairs = split_pairs(pairs, config)
    train_pairs = pairs[pairs["split"] == "train"]
    if config.max_train_pairs and len(train_pairs) > config.max_train_pairs:
        train_pairs = train_pairs.sample(config.max_train_pairs, random_state=config.seed).sort_index()
    logger.info("pairs: %d train, %d dev, %d test (grouped split, seed %d)", len(train_pairs),
                int((pairs["split"] == "dev").sum()), int((pairs["split"] == "test").sum()), config.seed)

    encoder = build_encoder(config.tower, arch=config.arch, model_name=config.model, max_length=config.max_length,
                            train_texts=(train_pairs["text1"].tolist(), train_pairs["text2"].tolist()),
                            embeddings=config.embeddings, similarity=config.loss_spec.similarity,
                            seed=config.seed, **config.extra)
    rows = training_rows(train_pairs, config.loss_spec, seed=config.seed, symmetric=config.arch == "siamese")
    loss = build_loss(config.loss_spec, encoder)
    train_dataset, train_loss, teacher_seconds = rows, loss, 0.0
    if config.teacher:
        if config.arch == "pseudo":
            raise TextsiamError("--teacher works with --arch siamese only.")
        teacher_started = time.perf_counter()
        distill, teacher_dim = teacher_rows([*train_pairs["text1"], *train_pairs["text2"]], config.teacher)
        teacher_seconds = time.perf_counter() - teacher_started
        train_dataset = {"pairs": rows, "teacher": distill}
        train_loss = {"pairs": loss, "teacher": teacher_loss(encoder, teacher_dim)}
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work / "checkpoints"),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=int(0.1 * len(rows) / config.batch_size * config.epochs),
        seed=config.seed,
        data_seed=config.seed,
        save_strategy="steps",
        save_steps=config.save_steps,
        save_total_limit=2,
        logging_steps=max(10, config.save_steps // 5),
        report_to="none",
        batch_sampler=LengthGroupedBatchSampler,
        router_mapping={c: ROUTES[c] for c in rows.column_names if c in ROUTES} if config.arch == "pseudo" else {},
        dataloader_drop_last=False,
        use_cpu=not _has_cuda(),
        ddp_backend="gloo" if not _has_cuda() and "WORLD_SIZE" in os.environ else None,
        ddp_find_unused_parameters=config.arch == "pseudo",  # a one-column loss leaves the text2 tower idle
    )
    trainer = SentenceTransformerTrainer(model=encoder, args=args, train_dataset=train_dataset, loss=train_loss)
    checkpoint = last_complete_checkpoint(work / "checkpoints") if config.resume else None
    if checkpoint:
        logger.info("resuming from %s", checkpoint)
    elif config.resume:
        logger.info("--resume: no complete checkpoint in %s; starting from the beginning", work / "checkpoints")
    train_started = time.perf_counter()
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    train_seconds = time.perf_counter() - train_started
    if not trainer.is_world_process_zero():
        return SiameseModel(encoder)

    model = SiameseModel(encoder, {
        "textsiam_version": _version(),
        "tower": config.tower, "arch": config.arch, "loss": config.loss, "distance": config.distance,
        "margin": config.loss_spec.effective_margin, "similarity": config.loss_spec.similarity,
        "config": {k: v for k, v in asdict(config).items() if k not in ("overwrite", "resume")},
    })
    dev, test = pairs[pairs["split"] == "dev"], pairs[pairs["split"] == "test"]
    if not labelled:
        dev, test = with_sampled_negatives(dev, seed=config.seed), with_sampled_negatives(test, seed=config.seed)
        model.metadata["evaluation_negatives"] = "sampled: each positive's text1 with another pair's text2"
    dev_scores = model.score(dev["text1"].tolist(), dev["text2"].tolist())
    model.metadata["threshold"] = choose_threshold(dev_scores, dev["label"].to_numpy())
    test_metrics, test_scores = evaluate_pairs(model, test)
    model.metadata.update({
        "metrics": {"test": test_metrics},
        "training": {"pairs": len(train_pairs), "rows": len(rows), "epochs": config.epochs,
                     "seconds": round(train_seconds, 2),
                     "pairs_per_second": round(len(rows) * config.epochs / train_seconds, 1),
                     "teacher_seconds": round(teacher_seconds, 2),
                     "total_seconds": round(time.perf_counter() - started, 2)},
        "split": {"train": train_pairs["row"].astype(int).tolist(),
                  **{name: pairs.loc[pairs["split"] == name, "row"].astype(int).tolist() for name in ("dev", "test")}},
    })
    _save_final(model, output, work, test_scores, test["label"].to_numpy())
    logger.info("test: ROC-AUC %.4f  F1 %.4f  accuracy %.4f at threshold %.4f", test_metrics["roc_auc"],
                test_metrics["f1"], test_metrics["accuracy"], model.threshold)
    return model


def _save_final(model: SiameseModel, output: Path, work: Path, test_scores: np.ndarray,
                test_labels: np.ndarray) -> None:
    """Save into the partial directory, then rename: the output exists only once it is complete."""
    staging = work / "model"
    if staging.exists():
        shutil.rmtree(staging)
    model.save(staging)
    write_report(model.metadata["metrics"]["test"], test_scores, test_labels, staging / "report")
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

