"""textsiam: sentence-pair similarity with Siamese networks."""

from .errors import TextsiamError
from .model import SiameseModel, load

__all__ = ["SiameseModel", "TextsiamError", "load"]
__version__ = "0.1.0"
