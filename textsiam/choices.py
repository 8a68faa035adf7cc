"""The names a user can choose from (towers, architectures, losses, distances) and their defaults.

This module imports nothing, so the command line can list the choices in ``--help`` without loading torch.
The modules that build the things (towers.py, losses.py, training.py) import the names from here.
"""

from __future__ import annotations

TOWERS = ("bert", "lstm", "static")
ARCHS = ("siamese", "pseudo")

LOSSES = ("contrastive", "online-contrastive", "triplet", "batch-hard-triplet", "cosine", "in-batch-negatives",
          "bce", "cosent")
DEFAULT_LOSS = "online-contrastive"  # for labelled pairs; files without labels train with in-batch-negatives
# Towers whose labelled pairs train with another loss by default. The lstm with cosent beat online-contrastive on
# both data sets (QQP 0.846 vs 0.838 ROC-AUC; LCQMC dev halves 0.903 / 0.816 accuracy vs 0.899 / 0.813); the static
# tower did not on QQP (distilled 0.844 vs 0.864, from scratch 0.825 vs 0.837), so it keeps online-contrastive.
TOWER_LOSSES = {"lstm": "cosent"}
# Losses that learn from a float score per pair: their labels may also be graded similarity (0-1, or 0-5 as in
# STS-B), and the trained model is compared by cosine similarity.
GRADED_LOSSES = ("cosine", "cosent")

DISTANCES = ("cosine", "euclidean", "manhattan")
# What the decision threshold maximises on dev: F1 suits duplicates rarer than non-duplicates (the usual case);
# accuracy weighs both errors alike and suits data with about as many of each. ``auto`` (the default) picks accuracy
# when dev is balanced (each class at least BALANCED_SHARE of it), else F1. On LCQMC's 50/50 dev halves the
# max-accuracy cut gave static 0.804 / 0.810 accuracy (vs 0.791 / 0.806 at the max-F1 cut) for an F1 change of
# +0.001 / -0.004; on QQP (40% duplicates) it would cost 0.02 F1, so QQP keeps F1.
THRESHOLD_METRICS = ("auto", "f1", "accuracy")
BALANCED_SHARE = 0.45
DEFAULT_MARGINS = {"cosine": 0.5, "euclidean": 1.0, "manhattan": 5.0}
# Texts per encoding batch when the caller gives none (``SiameseModel.batch_size``). A static tower (a table
# lookup per token) spends its time on per-batch overhead, so it gets large batches; an attention tower is
# fastest on small ones (all-MiniLM-L6-v2, 2 threads, 2,000 QQP questions: 306 texts/s at 32, 270 at 64, 230 at
# 128, 173 at 256); the lstm keeps 64.
ENCODE_BATCH_SIZES = {"static": 1024, "attention": 32, "other": 64}
# Pairs dedup goes on to find and write by default. Each costs about 40 bytes while searching and 100+ bytes in
# pairs.csv; 20 million kept 1,000,000 rows within 3 GB (docs/dedup.md). ``--max-pairs`` changes it.
MAX_PAIRS = 20_000_000

# Defaults that suit each tower on a CPU: a pretrained transformer needs one gentle epoch,
# a BiLSTM learns from scratch and wants more epochs, bigger batches and a larger step.
TOWER_DEFAULTS: dict[str, dict[str, float]] = {
    "bert": {"epochs": 1, "batch_size": 32, "learning_rate": 5e-5, "max_length": 64},
    # lstm: at most 720k pair passes by default (8 epochs of QQP's 27k pairs, 3 of LCQMC's 239k): with the
    # lstm's 128 units and max pooling (round 6) 3 LCQMC epochs trained in 747 s on one thread, 0.910 / 0.827
    # (ROC-AUC / accuracy on the dev halves); the round-5 lstm (150 units, mean) needed 823 s for 2.6 epochs,
    # 0.900 / 0.812. An --epochs given by the user is kept as it is.
    "lstm": {"epochs": 8, "batch_size": 128, "learning_rate": 2e-3, "max_length": 48, "max_pair_passes": 720_000},
    "static": {"epochs": 5, "batch_size": 64, "learning_rate": 2e-2, "max_length": 256},
}


def default_loss(tower: str) -> str:
    """The loss labelled pairs train with when the user chooses none."""
    return TOWER_LOSSES.get(tower, DEFAULT_LOSS)
