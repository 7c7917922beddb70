"""Baseline: the model beats scikit-learn's dummy strategies, and does not drop against the previous version.

`min_lift` and `max_drop` are absolute differences of the metric (DESIGN.md). For error
metrics (rmse, mae, log_loss, brier, false positive/negative rate) lower is better, so the
lift is `dummy - model` and the drop is `model - previous`.

Beating a dummy must be shown by the data, not by chance: besides `lift >= min_lift`, the
95% paired bootstrap interval of the lift (rows resampled with replacement, seeded) must
lie above 0. A model whose scores are noise ties the dummies within that interval and
fails, whatever `min_lift` validate accepts.
"""

from __future__ import annotations

from typing import Any

from .metrics import HIGHER_IS_BETTER, compute_metric
from .results import CheckResult, at_most, distinct, is_missing

CONCERN = "baseline"
#: Paired bootstrap resamples of the chance guard (a fixed seed: the same interval every run).
BOOTSTRAP_RESAMPLES = 200
CLASSIFIER_STRATEGIES = ("prior", "stratified", "most_frequent", "uniform")
REGRESSOR_STRATEGIES = ("mean", "median")


def higher_is_better(metric: str) -> bool:
    """False for error metrics (lower is better)."""
    return HIGHER_IS_BETTER.get(metric, True)


def dummy_scores(
    strategy: str,
    X_train: Any,
    y_train: Any,
    X_eval: Any,
    seed: int | None = None,
    *,
    classes: Any = None,
    k: int = 3,
) -> Any:
    """Scores of a scikit-learn dummy model fitted on the train set and applied to X_eval.

    Classifier strategies (prior, stratified, most_frequent, uniform) give the probability of
    class 1 (y_train should be 0/1, see metrics.to_binary); mean/median give regressor predictions.
    With `classes` (multiclass: the model's classes), a `ClassProba` over those classes (a
    class the train set lacks gets probability 0).
    """
    import numpy as np
    from sklearn.dummy import DummyClassifier, DummyRegressor

    from mlprod.errors import UsageError

    n_eval = len(X_eval)
    # Dummies ignore X; a column of zeros avoids sklearn validating wide or text features.
    Xt, Xe = np.zeros((len(y_train), 1)), np.zeros((n_eval, 1))
    if strategy in CLASSIFIER_STRATEGIES and classes is not None:
        return _multiclass_dummy(strategy, Xt, y_train, Xe, seed, classes, k)
    if strategy in CLASSIFIER_STRATEGIES:
        model = DummyClassifier(strategy=strategy, random_state=seed).fit(Xt, np.asarray(y_train))
        proba = model.predict_proba(Xe)
        classes = list(model.classes_)
        col = classes.index(1) if 1 in classes else min(1, proba.shape[1] - 1)
        if len(classes) == 1:  # a single-class train set: probability 1 for that class
            return np.full(n_eval, 1.0 if classes[0] == 1 else 0.0)
        return proba[:, col].astype(float)
    if strategy in REGRESSOR_STRATEGIES:
        return (
            DummyRegressor(strategy=strategy)
            .fit(Xt, np.asarray(y_train, dtype=float))
            .predict(Xe)
            .astype(float)
        )
    raise UsageError(
        f"unknown dummy strategy {strategy!r} "
        f"(known: {', '.join(CLASSIFIER_STRATEGIES + REGRESSOR_STRATEGIES)})"
    )


def _multiclass_dummy(
    strategy: str, Xt: Any, y_train: Any, Xe: Any, seed: int | None, classes: Any, k: int
) -> Any:
    import numpy as np
    from sklearn.dummy import DummyClassifier

    from .metrics_multiclass import ClassProba, label_text

    y = np.asarray([label_text(v) for v in np.asarray(y_train, dtype=object).ravel()])
    model = DummyClassifier(strategy=strategy, random_state=seed).fit(Xt, y)
    proba = model.predict_proba(Xe)
    texts = [label_text(c) for c in classes]
    out = np.zeros((len(Xe), len(texts)))
    for j, c in enumerate(model.classes_):
        if str(c) in texts:
            out[:, texts.index(str(c))] = proba[:, j]
    if strategy == "uniform":  # uniform over the model's classes, not only those seen in training
        # Equal probabilities would make every row "predict" the first class (argmax of a tie);
        # a 1e-9 tilt towards a class drawn uniformly (with the seed) gives the label metrics
        # scikit-learn's uniform `predict`, and the probability metrics 1/C within 1e-9.
        drawn = np.random.default_rng(seed).integers(0, len(texts), len(Xe))
        out[:] = 1.0 / len(texts)
        out[np.arange(len(Xe)), drawn] += 1e-9
        out /= out.sum(axis=1, keepdims=True)
    return ClassProba(out, list(classes), k=k)


def lift(model_value: float, dummy_value: float, metric: str) -> float:
    """How much better the model is than the dummy, positive when better (direction-aware)."""
    return model_value - dummy_value if higher_is_better(metric) else dummy_value - model_value


def lift_interval(
    model_scores: Any,
    dummy_scores: Any,
    y_eval: Any,
    metric: str,
    *,
    threshold: float = 0.5,
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """95% percentile interval of the lift over paired bootstrap resamples of the rows.

    Resamples where either metric is undefined (one class only) are left out; NaNs when
    none is defined.
    """
    import numpy as np

    # asanyarray keeps a multiclass ClassProba (its classes) through the row resampling
    y, m, d = np.asarray(y_eval), np.asanyarray(model_scores), np.asanyarray(dummy_scores)
    rng = np.random.default_rng(seed)
    lifts = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        a = compute_metric(metric, y[idx], m[idx], threshold=threshold)
        b = compute_metric(metric, y[idx], d[idx], threshold=threshold)
        if not (is_missing(a) or is_missing(b)):
            lifts.append(lift(float(a), float(b), metric))
    if not lifts:
        return float("nan"), float("nan")
    lo, hi = np.percentile(lifts, [2.5, 97.5])
    return float(lo), float(hi)


def check_beats_dummies(
    model_scores: Any,
    y_eval: Any,
    dummy_scores_by_strategy: dict[str, Any],
    metric: str,
    min_lift: float,
    *,
    threshold: float = 0.5,
) -> list[CheckResult]:
    """One result per strategy: the model's metric beats the dummy's by at least `min_lift`."""
    model_value = compute_metric(metric, y_eval, model_scores, threshold=threshold)
    out = []
    for strategy in sorted(dummy_scores_by_strategy):
        dummy_value = compute_metric(metric, y_eval, dummy_scores_by_strategy[strategy], threshold=threshold)
        details = {"metric": metric, "model": model_value, "dummy": dummy_value, "strategy": strategy}
        if is_missing(model_value) or is_missing(dummy_value):
            which = "the model's" if is_missing(model_value) else f"the {strategy} dummy's"
            out.append(
                CheckResult(
                    CONCERN,
                    "beats_dummy",
                    False,
                    f"{metric} lift over {strategy} could not be measured ({which} {metric} is NaN)",
                    None,
                    float(min_lift),
                    strategy,
                    details,
                )
            )
            continue
        gain = lift(model_value, dummy_value, metric)
        ok = gain >= min_lift
        rel = ">=" if ok else "<"
        verb = "beats" if ok else "does not beat"
        shown, bound = distinct(gain, min_lift)
        msg = f"{metric} {model_value:.3g} {verb} {strategy} {dummy_value:.3g} by {shown} {rel} {bound}"
        if not higher_is_better(metric):
            msg += " (lower is better)"
        if ok:
            lo, hi = lift_interval(
                model_scores, dummy_scores_by_strategy[strategy], y_eval, metric, threshold=threshold
            )
            details["lift_interval"] = [lo, hi]
            if not lo > 0:  # also when NaN: not shown
                ok = False
                msg = (
                    f"{metric} {model_value:.3g} does not beat {strategy} {dummy_value:.3g} beyond chance: "
                    f"the lift {shown}'s 95% bootstrap interval [{lo:.3g}, {hi:.3g}] over {len(y_eval)} "
                    "rows does not lie above 0"
                )
        out.append(
            CheckResult(CONCERN, "beats_dummy", ok, msg, float(gain), float(min_lift), strategy, details)
        )
    return out


def check_previous(
    model_metric: float,
    previous_metric: float,
    max_drop: float,
    metric: str,
    *,
    previous: str = "previous version",
) -> CheckResult:
    """The model's metric drops at most `max_drop` against the previous version's."""
    details = {"metric": metric, "model": model_metric, "previous": previous_metric}
    if is_missing(model_metric) or is_missing(previous_metric):
        return at_most(
            CONCERN,
            "previous_drop",
            None,
            float(max_drop),
            f"{metric} drop against {previous}",
            subject=previous,
            details=details,
        )
    drop = -lift(float(model_metric), float(previous_metric), metric)
    res = at_most(
        CONCERN,
        "previous_drop",
        drop,
        float(max_drop),
        f"{metric} drop against {previous} ({previous_metric:.3g} -> {model_metric:.3g})",
        subject=previous,
        details=details,
    )
    return res


__all__ = [
    "check_beats_dummies",
    "check_previous",
    "dummy_scores",
    "higher_is_better",
    "lift",
    "lift_interval",
]
