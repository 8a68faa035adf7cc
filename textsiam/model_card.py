"""write_model_card(): add textsiam's decision (threshold, metrics, calibration, training) to a model's README.md.

sentence-transformers writes a README.md (the model card) with every saved model; it knows the embeddings but not
the decision made with them. textsiam's section goes right after the card's YAML header, between two markers, so
writing it again replaces only that section and the rest of the card stays as sentence-transformers wrote it.
"""

from __future__ import annotations

import math
import shlex
from pathlib import Path
from typing import Any

from .calibration import COSINE_DISTANCES

CARD = "README.md"
BEGIN, END = "<!-- textsiam: begin -->", "<!-- textsiam: end -->"
METRICS = (("roc_auc", "ROC-AUC"), ("f1", "F1"), ("precision", "precision"), ("recall", "recall"),
           ("accuracy", "accuracy"), ("average_precision", "average precision"), ("brier", "Brier score"),
           ("ece", "ECE"))
EXAMPLE = ("How do I learn Python?", "What is the best way to learn Python?")


def write_model_card(model_dir: str | Path, metadata: dict[str, Any]) -> None:
    """Add (or refresh) textsiam's section in ``model_dir/README.md``, keeping everything else in the card."""
    card = Path(model_dir) / CARD
    text = card.read_text(encoding="utf-8") if card.exists() else ""
    if BEGIN in text and END in text:  # written before: drop the old section only
        head, rest = text.split(BEGIN, 1)
        text = head.rstrip("\n") + "\n" + rest.split(END, 1)[1].lstrip("\n")
    section = f"{BEGIN}\n{card_section(metadata, model_dir)}\n{END}\n"
    front_matter_end = text.find("\n---\n", 4) if text.startswith("---\n") else -1
    if front_matter_end >= 0:
        split_at = front_matter_end + len("\n---\n")
        text = text[:split_at] + "\n" + section + "\n" + text[split_at:].lstrip("\n")
    else:
        text = section + ("\n" + text if text else "")
    card.write_text(text, encoding="utf-8")


def card_section(metadata: dict[str, Any], model_dir: str | Path = "MODEL_DIR") -> str:
    """The Markdown of textsiam's section: the decision, how well it does, how it was trained, how to apply it."""
    threshold = metadata.get("threshold")
    similarity = str(metadata.get("similarity") or "cosine")
    where = str((metadata.get("config") or {}).get("output") or model_dir)
    maximised = {"f1": "F1", "accuracy": "accuracy"}.get(metadata.get("threshold_metric", "f1"), "F1")
    lines = ["# textsiam pair model", ""]
    if threshold is None:
        lines += ["This model has no saved decision threshold; choose one on labelled pairs "
                  "(`textsiam evaluate --threshold`).", ""]
    else:
        lines += [f"Two texts are **duplicates when their {similarity} similarity is ≥ {float(threshold)!r}**. "
                  f"The threshold was chosen on the dev split (the {maximised} maximum) and is part of the model: "
                  "apply it unchanged.", ""]
    lines += ["| | |", "|---|---|",
              f"| threshold | {'none' if threshold is None else repr(float(threshold))} |",
              f"| similarity function | {similarity} (`model.similarity`) |",
              *calibration_rows(metadata.get("calibration")), ""]
    lines += metrics_lines(metadata)
    lines += training_lines(metadata)
    lines += usage_lines(where, threshold, pseudo=metadata.get("arch") == "pseudo")
    return "\n".join(lines)


def calibration_rows(calibration: dict[str, Any] | None) -> list[str]:
    if not calibration:
        return ["| calibration | none: the model gives scores, not probabilities |"]
    similarity = str(calibration.get("similarity", "cosine"))
    distance = (COSINE_DISTANCES[str(calibration.get("distance", "cosine"))] if similarity == "cosine"
                else f"−({similarity} similarity)")
    return [f"| calibration | p(duplicate) = sigmoid(−w·d + b), d = {distance}, fitted on the dev split |",
            f"| w, b | {float(calibration['w']):.6g}, {float(calibration['b']):.6g} |"]


def metrics_lines(metadata: dict[str, Any]) -> list[str]:
    """A table of the held-out metrics, saying which split they come from."""
    metrics = metadata.get("metrics") or {}
    split = "test" if "test" in metrics else next(iter(metrics), None)
    if split is None:
        return []
    values = metrics[split]
    shown = [(name, label) for name, label in METRICS if name in values]
    source = (metadata.get("data") or {}).get(split) or (metadata.get("config") or {}).get("data")
    lines = [f"## Held-out metrics ({split} split{f': {source}' if source else ''}, "
             f"{int(values.get('n', 0)):,} pairs, at the threshold)", "",
             "| " + " | ".join(label for _, label in shown) + " |",
             "|" + "---|" * len(shown),
             "| " + " | ".join(_number(values[name]) for name, _ in shown) + " |", ""]
    if split == "test":
        lines += ["The test pairs were never used for training or for choosing the threshold; the split is grouped, "
                  "so no text is on both sides of it.", ""]
    if metadata.get("evaluation_negatives"):
        lines += [f"Negatives for evaluation were {metadata['evaluation_negatives']}.", ""]
    return lines


def training_lines(metadata: dict[str, Any]) -> list[str]:
    config = metadata.get("config") or {}
    training = metadata.get("training") or {}
    loss = metadata.get("loss") or config.get("loss")
    loss_detail = ", ".join(f"{key} {metadata[key]}" for key in ("distance", "margin") if metadata.get(key) is not None)
    rows = [("data", (metadata.get("data") or {}).get("train") or config.get("data")),
            ("pairs trained on", f"{training['pairs']:,}" if "pairs" in training else None),
            ("tower", " ".join(str(v) for v in (metadata.get("tower"), config.get("model") if
                                                metadata.get("tower") == "bert" else None) if v)),
            ("architecture", metadata.get("arch")),
            ("loss", f"{loss} ({loss_detail})" if loss and loss_detail else loss),
            ("epochs, batch size, learning rate", ", ".join(str(config[k]) for k in ("epochs", "batch_size",
                                                                                   "learning_rate") if k in config)),
            ("seed", config.get("seed")),
            ("textsiam version", metadata.get("textsiam_version"))]
    rows = [(name, value) for name, value in rows if value not in (None, "")]
    if not rows:
        return []
    return ["## Training", "", "| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows), ""]


def usage_lines(where: str, threshold: float | None, *, pseudo: bool) -> list[str]:
    """How to apply the threshold with plain sentence-transformers, and the textsiam way."""
    cut = "THRESHOLD" if threshold is None else repr(float(threshold))
    if pseudo:  # one tower per side: questions through route text1, answers through text2
        encode = [f"a = model.encode([{EXAMPLE[0]!r}], task='text1')",
                  f"b = model.encode([{EXAMPLE[1]!r}], task='text2')"]
    else:
        encode = [f"a, b = model.encode([{EXAMPLE[0]!r}, {EXAMPLE[1]!r}])[:, None]"]
    return ["## Using the decision", "", "With sentence-transformers alone:", "", "```python",
            "from sentence_transformers import SentenceTransformer", "",
            f"model = SentenceTransformer({where!r})", *encode,
            "score = model.similarity(a, b).item()",
            f"print(score, score >= {cut})  # True: a duplicate", "```", "",
            "With textsiam (threshold and calibration applied for you):", "", "```python", "import textsiam", "",
            f"model = textsiam.load({where!r})",
            f"print(model.predict([{EXAMPLE[0]!r}], [{EXAMPLE[1]!r}]))  # [1]: a duplicate",
            "```", "", f"or on a file: `textsiam predict {shlex.quote(where)} pairs.csv --output scored.csv`.", ""]


def _number(value: Any) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{float(value):.4f}"
