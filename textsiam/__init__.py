"""textsiam: sentence-pair similarity with Siamese networks.

The public API is imported lazily, so ``import textsiam`` (and the CLI's start-up) stays fast until a
function that needs torch or sentence-transformers is used.
"""

from importlib import import_module
from typing import Any

from .errors import TextsiamError

__version__ = "0.1.0"
_API = {
    "train": "training", "TrainConfig": "training", "evaluate": "evaluation", "load": "model",
    "SiameseModel": "model", "predict_file": "prediction", "dedup": "deduplication", "match_file": "matching",
    "retrieve": "matching", "match": "matching", "export_int8": "export",
}
__all__ = ["TextsiamError", *_API]


def __getattr__(name: str) -> Any:
    if name in _API:
        return getattr(import_module(f".{_API[name]}", __name__), name)
    raise AttributeError(f"module 'textsiam' has no attribute {name!r}")
