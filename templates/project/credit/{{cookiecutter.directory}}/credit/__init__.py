"""A small credit-default model on the German Credit data, the project mlprod tests in its example."""

from .model import FEATURES, load_model
from .pipeline import build_features, ingest, predict, train

__all__ = ["FEATURES", "build_features", "ingest", "load_model", "predict", "train"]
