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

#: The title of each concern, as the score and the collaboration files show it.
CONCERN_TITLES: dict[str, str] = {
    "pipeline": "whole-pipeline testing",
    "determinism": "determinism after deployment",
    "infrastructure": "infrastructure",
    "bias": "implicit bias and input drift",
    "release": "CI/CD, versioning, release plan",
    "privacy": "privacy, compliance, impact matrix",
    "baseline": "production model vs baseline",
    "reproducibility": "reproducibility",
    "explainability": "explainability",
    "collaboration": "collaboration and regression",
}
