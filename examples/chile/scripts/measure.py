"""Print the figures the thresholds in mlprod.yaml were set from.

Run after `python prepare.py`, from the example folder: `python scripts/measure.py`.
Everything is computed with scikit-learn, scipy and fairlearn directly, not with mlprod,
so the figures can be re-derived independently of the checks they calibrate.
Multiclass fairness is measured per class, one class against the rest, and reported as
the largest value over the classes.
"""

from __future__ import annotations

import sys
import time
import tracemalloc
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from fairlearn.metrics import demographic_parity_difference, equalized_odds_difference
from scipy.stats import chi2_contingency, skew
from sklearn.dummy import DummyClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, cross_val_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chile.model import CLASSES, FEATURES, NUMERIC, TARGET  # noqa: E402
from chile.pipeline import make_model  # noqa: E402

SEED = 42
MIN_COHORT_ROWS = 30
AGE_BINS = [18, 30, 45, 60, 71]


def psi(reference: pd.Series, current: pd.Series, bins: int = 10, eps: float = 1e-4) -> float:
    """Population stability index; quantile bins of the reference for numbers, one per value otherwise."""
    if pd.api.types.is_numeric_dtype(reference) and reference.nunique() > bins:
        edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
        edges[0], edges[-1] = -np.inf, np.inf
        p = np.histogram(reference, edges)[0] / len(reference)
        q = np.histogram(current, edges)[0] / len(current)
    else:
        values = sorted(set(reference.astype(str)) | set(current.astype(str)))
        p = reference.astype(str).value_counts(normalize=True).reindex(values, fill_value=0).to_numpy()
        q = current.astype(str).value_counts(normalize=True).reindex(values, fill_value=0).to_numpy()
    p, q = np.clip(p, eps, None), np.clip(q, eps, None)
    return float(np.sum((q - p) * np.log(q / p)))


def cohorts(df: pd.DataFrame) -> dict[str, pd.Series]:
    """Group labels per cohort of the spec."""
    return {
        "sex": df["sex"],
        "age_band": pd.cut(df["age"], AGE_BINS, right=False).astype(str),
        "education": df["education"],
    }


def figures(name: str, y: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """The spec's multiclass metrics of one model on one data set."""
    yhat = np.asarray(CLASSES)[proba.argmax(axis=1)]
    out = {
        "accuracy": accuracy_score(y, yhat),
        "balanced_accuracy": balanced_accuracy_score(y, yhat),
        "f1_macro": f1_score(y, yhat, average="macro", zero_division=0),
        "f1_weighted": f1_score(y, yhat, average="weighted", zero_division=0),
        "log_loss": log_loss(y, proba, labels=CLASSES),
        "roc_auc_ovr": roc_auc_score(y, proba, multi_class="ovr", average="macro", labels=CLASSES),
    }
    recall = recall_score(y, yhat, labels=CLASSES, average=None, zero_division=0)
    out.update({f"recall[{c}]": r for c, r in zip(CLASSES, recall, strict=True)})
    print(f"{name}: " + ", ".join(f"{k} {v:.4f}" for k, v in out.items()))
    return out


def main() -> None:
    """Measure and print every figure that a threshold in mlprod.yaml depends on."""
    train = pd.read_csv(ROOT / "data/train.csv")
    test = pd.read_csv(ROOT / "data/test.csv")
    current = pd.read_csv(ROOT / "data/current.csv")
    model = joblib.load(ROOT / "models/model.joblib")
    previous = joblib.load(ROOT / "models/registry/0.9.0/model.joblib")
    y = test[TARGET].to_numpy()
    proba = model.predict_proba(test[FEATURES])
    yhat = np.asarray(CLASSES)[proba.argmax(axis=1)]

    print("== choice of C (5-fold cross-validated macro F1 on train, balanced class weights)")
    folds = StratifiedKFold(5, shuffle=True, random_state=SEED)
    for C in (0.03, 0.1, 0.3, 1.0, 3.0):
        cv = cross_val_score(
            make_model(SEED, C=C), train[FEATURES], train[TARGET], cv=folds, scoring="f1_macro"
        )
        print(f"  C {C:<5} f1_macro {cv.mean():.4f}")

    print("== baseline (test)")
    mine = figures("1.0.0", y, proba)
    prev_proba = previous.predict_proba(test[FEATURES])
    figures("0.9.0", y, prev_proba)
    for strategy in ("prior", "most_frequent", "stratified", "uniform"):
        dummy = DummyClassifier(strategy=strategy, random_state=SEED).fit(train[FEATURES], train[TARGET])
        d = figures(f"dummy {strategy}", y, dummy.predict_proba(test[FEATURES]))
        print(f"  lift of 1.0.0 in f1_macro over {strategy}: {mine['f1_macro'] - d['f1_macro']:.4f}")
    prev_hat = np.asarray(CLASSES)[prev_proba.argmax(axis=1)]
    print(f"flip rate vs 0.9.0 {np.mean(prev_hat != yhat):.4f}")
    print(pd.crosstab(pd.Series(prev_hat, name="0.9.0"), pd.Series(yhat, name="1.0.0")))

    print("== cohorts on test (groups with fewer than 30 rows are not judged)")
    for name, groups in cohorts(test).items():
        judged = []
        for group, idx in groups.groupby(groups).groups.items():
            rows = groups.index.get_indexer(idx)
            yy, hh = y[rows], yhat[rows]
            ok = len(rows) >= MIN_COHORT_ROWS
            recalls = recall_score(yy, hh, labels=CLASSES, average=None, zero_division=0)
            per_class = " ".join(f"{c} {r:.3f}" for c, r in zip(CLASSES, recalls, strict=True))
            macro_f1 = f1_score(yy, hh, average="macro", zero_division=0)
            counts = " ".join(f"{c}:{int((yy == c).sum())}" for c in CLASSES)
            print(
                f"  {name}={group:<10} rows {len(rows):>3} {'judged' if ok else 'small '} "
                f"accuracy {accuracy_score(yy, hh):.3f} f1_macro {macro_f1:.3f} "
                f"recall_macro {recalls.mean():.3f} recall {per_class} ({counts})"
            )
            if ok:
                judged.append((group, recalls, macro_f1, rows))
        if judged:
            gaps = np.ptp(np.array([j[1] for j in judged]), axis=0)
            rec_macro_gap = np.ptp([j[1].mean() for j in judged])
            f1_gap = np.ptp([j[2] for j in judged])
            print(
                f"  {name}: recall gap per class "
                + " ".join(f"{c} {g:.3f}" for c, g in zip(CLASSES, gaps, strict=True))
                + f"; recall_macro gap {rec_macro_gap:.3f}; f1_macro gap {f1_gap:.3f}"
            )
            rows = np.concatenate([j[3] for j in judged])
            g = groups.to_numpy()[rows]
            dpd = [
                demographic_parity_difference(y[rows] == c, yhat[rows] == c, sensitive_features=g)
                for c in CLASSES
            ]
            eod = [
                equalized_odds_difference(y[rows] == c, yhat[rows] == c, sensitive_features=g)
                for c in CLASSES
            ]
            print(
                f"  {name} (judged groups): demographic parity diff per class "
                + " ".join(f"{c} {v:.3f}" for c, v in zip(CLASSES, dpd, strict=True))
                + f" (max {max(dpd):.3f}); equalized odds diff per class "
                + " ".join(f"{c} {v:.3f}" for c, v in zip(CLASSES, eod, strict=True))
                + f" (max {max(eod):.3f})"
            )

    print("== drift train (reference) vs current")
    for column in [*FEATURES, "sex", TARGET]:
        line = f"  {column:<12} psi {psi(train[column], current[column]):.4f}"
        if column in NUMERIC:
            line += f"  skew change {abs(skew(current[column]) - skew(train[column])):.3f}"
        print(line)
    table = pd.crosstab(
        pd.concat([train[TARGET], current[TARGET]]),
        np.r_[np.zeros(len(train)), np.ones(len(current))],
    )
    print(f"  target chi-square p-value {chi2_contingency(table)[1]:.4f}")
    pred_psi = psi(
        pd.Series(yhat), pd.Series(np.asarray(CLASSES)[model.predict_proba(current[FEATURES]).argmax(1)])
    )
    print(f"predicted-class psi test vs current {pred_psi:.4f}")

    print("== infrastructure")
    times = []
    for i in range(200):
        row = test.iloc[[i % len(test)]]
        start = time.perf_counter()
        model.predict_proba(row)
        times.append((time.perf_counter() - start) * 1000)
    print(f"one-row latency p50 {np.percentile(times, 50):.2f} ms  p95 {np.percentile(times, 95):.2f} ms")
    batch = test.sample(1000, replace=True, random_state=SEED)
    start = time.perf_counter()
    model.predict_proba(batch)
    print(f"batch of 1000 rows {(time.perf_counter() - start) * 1000:.1f} ms")
    tracemalloc.start()
    model.predict_proba(batch)
    print(f"peak memory of the batch {tracemalloc.get_traced_memory()[1] / 2**20:.2f} MB (tracemalloc)")
    tracemalloc.stop()

    print("== privacy")
    age = pd.cut(current["age"], AGE_BINS, right=False)
    for quasi in (["sex"], ["sex", "education"], ["sex", "region"]):
        sizes = current.groupby([age, *[current[q] for q in quasi]], observed=True).size()
        print(f"k-anonymity of (age band, {', '.join(quasi)}) on current: k = {sizes.min()}")

    print("== explainability (permutation importance, f1_macro, test)")
    imp = permutation_importance(model, test[FEATURES], y, scoring="f1_macro", n_repeats=5, random_state=SEED)
    for rank, i in enumerate(np.argsort(-imp.importances_mean), 1):
        print(f"  {rank}. {FEATURES[i]:<12} {imp.importances_mean[i]:.4f}")


if __name__ == "__main__":
    main()
