"""Print the figures the thresholds in mlprod.yaml were set from.

Run after `python prepare.py`, from the example folder: `python scripts/measure.py`.
Everything is computed with scikit-learn, scipy and fairlearn directly, not with mlprod,
so the figures can be re-derived independently of the checks they calibrate.
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
from scipy.stats import skew
from sklearn.dummy import DummyClassifier
from sklearn.inspection import permutation_importance
from sklearn.metrics import precision_score, recall_score, roc_auc_score

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from credit.model import FEATURES, NUMERIC, TARGET  # noqa: E402

SEED = 42
THRESHOLD = 0.5
MIN_COHORT_ROWS = 30
AGE_BINS = [18, 26, 36, 51, 100]


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
    """Group labels per cohort of the spec (a `where` cohort is its group against the rest)."""
    age = pd.cut(df["age_in_years"], AGE_BINS, right=False).astype(str)
    young_renters = (df["age_in_years"] < 26) & (df["housing"] == "rent")
    return {
        "sex": df["sex"],
        "age_band": age,
        "young_renters": young_renters.map({True: "in", False: "rest"}),
        "foreign_workers": (df["foreign_worker"] == "yes").map({True: "in", False: "rest"}),
        "long_loans": (df["duration_in_month"] >= 36).map({True: "in", False: "rest"}),
    }


def main() -> None:
    """Measure and print every figure that a threshold in mlprod.yaml depends on."""
    train = pd.read_csv(ROOT / "data/train.csv")
    test = pd.read_csv(ROOT / "data/test.csv")
    current = pd.read_csv(ROOT / "data/current.csv")
    model = joblib.load(ROOT / "models/model.joblib")
    previous = joblib.load(ROOT / "models/registry/0.9.0/model.joblib")
    y = test[TARGET].to_numpy()
    score = model.predict_proba(test)[:, 1]
    yhat = (score >= THRESHOLD).astype(int)

    print("== baseline")
    auc = roc_auc_score(y, score)
    print(f"roc_auc test 1.0.0 {auc:.4f}")
    for strategy in ("prior", "stratified"):
        dummy = DummyClassifier(strategy=strategy, random_state=SEED).fit(train[FEATURES], train[TARGET])
        d = roc_auc_score(y, dummy.predict_proba(test[FEATURES])[:, 1])
        print(f"dummy {strategy:<10} roc_auc {d:.4f}  lift {auc - d:.4f}")
    prev_score = previous.predict_proba(test)[:, 1]
    prev_auc = roc_auc_score(y, prev_score)
    print(f"roc_auc test 0.9.0 {prev_auc:.4f}  drop of 1.0.0 vs 0.9.0 {prev_auc - auc:.4f}")
    print(f"flip rate vs 0.9.0 {np.mean((prev_score >= THRESHOLD) != (score >= THRESHOLD)):.4f}")

    print("== cohorts on test (groups with fewer than 30 rows are not judged)")
    for name, groups in cohorts(test).items():
        judged = []
        for group, idx in groups.groupby(groups).groups.items():
            rows = groups.index.get_indexer(idx)
            yy, hh, ss = y[rows], yhat[rows], score[rows]
            ok = len(rows) >= MIN_COHORT_ROWS
            auc_g = roc_auc_score(yy, ss) if len(set(yy)) == 2 else float("nan")
            rec, prec = recall_score(yy, hh, zero_division=0), precision_score(yy, hh, zero_division=0)
            print(
                f"  {name}={group:<10} rows {len(rows):>3} {'judged' if ok else 'small '} "
                f"roc_auc {auc_g:.3f} recall {rec:.3f} precision {prec:.3f} positives {yy.sum()}"
            )
            if ok:
                judged.append((group, rec, prec, rows))
        if name in ("sex", "age_band") and judged:
            recs, precs = [j[1] for j in judged], [j[2] for j in judged]
            rows = np.concatenate([j[3] for j in judged])
            rec_gap, prec_gap = max(recs) - min(recs), max(precs) - min(precs)
            print(f"  {name}: recall gap {rec_gap:.3f}, precision gap {prec_gap:.3f}")
            for label, sel in (("all groups", slice(None)), ("judged groups", rows)):
                g = groups.to_numpy()[sel]
                dpd = demographic_parity_difference(y[sel], yhat[sel], sensitive_features=g)
                eod = equalized_odds_difference(y[sel], yhat[sel], sensitive_features=g)
                print(f"  {name} ({label}): demographic parity diff {dpd:.3f}, equalized odds diff {eod:.3f}")

    print("== drift train (reference) vs current")
    for column in [*FEATURES, TARGET]:
        line = f"  {column:<55} psi {psi(train[column], current[column]):.4f}"
        if column in NUMERIC:
            line += f"  skew change {abs(skew(current[column]) - skew(train[column])):.3f}"
        print(line)
    pred_psi = psi(pd.Series(score), pd.Series(model.predict_proba(current)[:, 1]))
    print(f"prediction psi test vs current {pred_psi:.4f}")

    print("== infrastructure")
    one = test.iloc[[0]]
    times = []
    for i in range(200):
        row = test.iloc[[i % len(test)]] if i else one
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
    log = pd.read_csv(ROOT / "logs/predictions.csv", parse_dates=["ts"])
    cut = log["ts"].max() - pd.Timedelta(days=7)
    old, new = (
        log.loc[log["ts"] <= cut, "latency_ms"].median(),
        log.loc[log["ts"] > cut, "latency_ms"].median(),
    )
    growth = 100 * (new / old - 1)
    print(
        f"log median latency per row: week before {old:.3f} ms, last week {new:.3f} ms, growth {growth:.1f} %"
    )

    print("== privacy")
    age = pd.cut(current["age_in_years"], AGE_BINS, right=False)
    sizes = current.groupby([age, current["sex"]], observed=True).size()
    print(f"k-anonymity of (age band, sex) on current: k = {sizes.min()} (groups: {sizes.to_dict()})")

    print("== explainability (permutation importance, roc_auc, test)")
    imp = permutation_importance(model, test[FEATURES], y, scoring="roc_auc", n_repeats=5, random_state=SEED)
    for rank, i in enumerate(np.argsort(-imp.importances_mean)[:6], 1):
        print(f"  {rank}. {FEATURES[i]:<55} {imp.importances_mean[i]:.4f}")


if __name__ == "__main__":
    main()
