"""mlprod: the production checklist of a machine-learning system, as code."""

__version__ = "0.1.0"

#: Concern ids, in rubric order (see docs/concerns.md).
CONCERNS: tuple[str, ...] = (
    "pipeline",
    "determinism",
    "infrastructure",
    "bias",
    "release",
    "privacy",
    "baseline",
    "reproducibility",
    "explainability",
    "collaboration",
)
