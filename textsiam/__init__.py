"""textsiam: sentence-pair similarity with Siamese networks."""

from .errors import TextsiamError
from .evaluation import evaluate
from .model import SiameseModel, load
from .prediction import predict_file
from .training import TrainConfig, train

__all__ = ["SiameseModel", "TextsiamError", "TrainConfig", "evaluate", "load", "predict_file", "train"]
__version__ = "0.1.0"
