"""A vote-intention model on the 1988 Chile plebiscite survey, mlprod's multiclass example."""

from .model import CLASSES, FEATURES, load_model
from .pipeline import build_features, ingest, predict, train

__all__ = ["CLASSES", "FEATURES", "build_features", "ingest", "load_model", "predict", "train"]
