"""Small real projects of every task for card and notebook tests, built in a temporary folder.

`regression_project` fits a linear regression on scikit-learn's bundled diabetes table (442
rows, no download); `multiclass_project` fits a logistic regression on the bundled wine table
(178 rows, three classes; the labels are written as strings). Each writes data, a joblib model,
its loader module and an `mlprod.yaml` with cohorts, fairness, drift, baseline and
explainability sections.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LOADER = '''"""Loads the fitted model of this test project."""

from pathlib import Path

import joblib

ROOT = Path(__file__).resolve().parent


def load(path=None):
    return joblib.load(ROOT / (path or "models/model.joblib"))
'''

REGRESSION_SPEC = """version: 1
project: {{name: {name}, task: regression}}
data:
  target: y
  id_column: row_id
  features: [{features}]
  datasets:
    train: {{path: data/train.csv}}
    test: {{path: data/test.csv}}
    reference: {{path: data/train.csv}}
    current: {{path: data/current.csv}}
model:
  load: {module}:load
  artifact: {{path: models/model.joblib}}
cohorts:
  - {{name: sex, by: sex}}
fairness:
  dataset: test
  min_cohort_rows: 20
  protected: [sex]
  max_gap: {{mae: 40.0}}
  min: {{r2: 0.05}}
drift:
  target: {{method: ks, max: 0.5}}
  numeric: {{method: psi, max: 5.0}}
baseline:
  dataset: test
  min_lift: 0.0
explainability:
  dataset: test
  top_k: 3
"""


def _split(df: pd.DataFrame, root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    (root / "data").mkdir(parents=True)
    (root / "models").mkdir()
    rng = np.random.default_rng(0)
    test_mask = rng.random(len(df)) < 0.3
    train, test = df[~test_mask], df[test_mask]
    train.to_csv(root / "data" / "train.csv", index=False)
    test.to_csv(root / "data" / "test.csv", index=False)
    current = test.copy()
    current.to_csv(root / "data" / "current.csv", index=False)
    return train, test


def regression_project(root: Path, module: str = "diab_model") -> list[str]:
    """A diabetes regression project at `root`; returns its feature names."""
    import joblib
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression

    raw = load_diabetes(as_frame=True, scaled=False).frame
    features = ["age", "bmi", "bp", "s5"]
    df = pd.DataFrame({"row_id": range(len(raw)), **{f: raw[f] for f in features}})
    df["sex"] = np.where(raw["sex"] == 1, "a", "b")
    df["y"] = raw["target"]
    train, _ = _split(df, root)
    model = LinearRegression().fit(train[features], train["y"])
    joblib.dump(model, root / "models" / "model.joblib")
    (root / f"{module}.py").write_text(LOADER, encoding="utf-8")
    spec = REGRESSION_SPEC.format(name="diabetes", features=", ".join(features), module=module)
    (root / "mlprod.yaml").write_text(spec, encoding="utf-8")
    return features


MULTICLASS_SPEC = """version: 1
project: {{name: {name}, task: multiclass_classification}}
data:
  target: y
  id_column: row_id
  features: [{features}]
  datasets:
    train: {{path: data/train.csv}}
    test: {{path: data/test.csv}}
    reference: {{path: data/train.csv}}
    current: {{path: data/current.csv}}
model:
  load: {module}:load
  artifact: {{path: models/model.joblib}}
cohorts:
  - {{name: alcohol_band, by: alcohol, bins: [0, 13, 20]}}
fairness:
  dataset: test
  min_cohort_rows: 10
  protected: [alcohol_band]
  max_gap: {{recall_macro: 0.9}}
  min: {{accuracy: 0.5}}
baseline:
  dataset: test
collaboration:
  regression: {{previous: models/previous.joblib, dataset: test, max_flip_rate: 0.5}}
"""


def multiclass_project(root: Path, module: str = "wine_model") -> list[str]:
    """A three-class wine project at `root` (string labels, a previous version); returns its features."""
    import joblib
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    raw = load_wine(as_frame=True).frame
    features = ["alcohol", "malic_acid", "ash", "magnesium"]
    df = pd.DataFrame({"row_id": range(len(raw)), **{f: raw[f] for f in features}})
    df["y"] = np.array(["barolo", "grignolino", "barbera"])[raw["target"].to_numpy()]
    train, _ = _split(df, root)
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(train[features], train["y"])
    joblib.dump(model, root / "models" / "model.joblib")
    previous = make_pipeline(StandardScaler(), LogisticRegression(C=0.01, max_iter=1000))
    previous.fit(train[features[:2]].assign(**{f: 0.0 for f in features[2:]}), train["y"])
    joblib.dump(previous, root / "models" / "previous.joblib")
    (root / f"{module}.py").write_text(LOADER, encoding="utf-8")
    spec = MULTICLASS_SPEC.format(name="wine", features=", ".join(features), module=module)
    (root / "mlprod.yaml").write_text(spec, encoding="utf-8")
    return features


RUNNER = """
import json, sys
from mlprod.checks import monitoring as mon
shown = []
mon.show = shown.append  # figures are counted, not displayed
nb = json.load(open(sys.argv[1], encoding="utf-8"))
scope = {}
for cell in nb["cells"]:
    if cell["cell_type"] == "code":
        exec("".join(cell["source"]), scope)
print(json.dumps([type(f).__name__ for f in shown]))
"""


def run_notebook(root: Path, name: str) -> list[str]:
    """Execute a generated notebook's code cells in a fresh process at `root`; the figures shown."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, str(root / "monitoring" / name)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
