"""`mlprod evaluate` and the model card on the credit example, end to end.

Numbers are checked against scikit-learn computed here from the artifact and the data,
and the card against evaluation.json (front matter through huggingface_hub, tables parsed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import joblib
import pandas as pd
import pytest
from cardkit import front_matter, table_under
from cardrun import TODAY, mlprod
from huggingface_hub import ModelCard
from sklearn.metrics import precision_score, recall_score, roc_auc_score

pytestmark = pytest.mark.slow  # one prepare + evaluate per session (~25 s), more in the stale test

FEATURES_FROM = "credit.model"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _evaluation(root: Path) -> dict:
    return json.loads((root / ".mlprod" / "evaluation.json").read_text(encoding="utf-8"))


def _reference_scores(root: Path, model_rel: str = "models/model.joblib") -> tuple[pd.DataFrame, object]:
    from mlprod.schema import load_spec

    spec = load_spec(root / "mlprod.yaml").spec
    test = pd.read_csv(root / "data" / "test.csv")
    model = joblib.load(root / model_rel)
    scores = model.predict_proba(test[list(spec.data.features)])[:, 1]
    return test, scores


def test_evaluation_json_records_provenance_deterministically(evaluated_credit: Path) -> None:
    path = evaluated_credit / ".mlprod" / "evaluation.json"
    text = path.read_text(encoding="utf-8")
    ev = json.loads(text)
    assert text == json.dumps(ev, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert ev["format"] == 1 and ev["date"] == TODAY and ev["mlprod_version"]
    assert ev["model"]["sha256"] == _sha(evaluated_credit / "models" / "model.joblib")
    for name in ("train", "test", "current"):
        assert ev["datasets"][name]["sha256"] == _sha(evaluated_credit / "data" / f"{name}.csv")
    assert ev["datasets"]["test"]["rows"] == len(pd.read_csv(evaluated_credit / "data" / "test.csv"))
    assert ev["latency"] is None and ev["errors"] == {}
    floats = re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)
    assert floats and all(len(f.lstrip("-0.").replace(".", "").split("e")[0]) <= 6 for f in floats)


def test_numbers_equal_scikit_learn(evaluated_credit: Path) -> None:
    ev = _evaluation(evaluated_credit)
    test, scores = _reference_scores(evaluated_credit)
    y = test["default"].to_numpy()
    assert ev["overall"]["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y, scores), rel=1e-5)
    assert ev["overall"]["metrics"]["recall"] == pytest.approx(recall_score(y, scores >= 0.5), rel=1e-5)
    sex = next(c for c in ev["cohorts"] if c["name"] == "sex")
    for group in sex["groups"]:
        mask = (test["sex"] == group["label"]).to_numpy()
        assert group["n"] == int(mask.sum())
        assert group["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(y[mask], scores[mask]), rel=1e-5)
        assert group["metrics"]["precision"] == pytest.approx(
            precision_score(y[mask], scores[mask] >= 0.5), rel=1e-5
        )
    gaps = {(f["cohort"], f["kind"], f["metric"]): f["value"] for f in ev["fairness"]}
    recalls = [g["metrics"]["recall"] for g in sex["groups"]]
    assert gaps[("sex", "max_gap", "recall")] == pytest.approx(max(recalls) - min(recalls), abs=2e-6)
    prior = next(s for s in ev["baseline"]["strategies"] if s["strategy"] == "prior")
    assert prior["value"] == 0.5
    _, old = _reference_scores(evaluated_credit, "models/registry/0.9.0/model.joblib")
    assert ev["baseline"]["previous"]["value"] == pytest.approx(roc_auc_score(y, old), rel=1e-5)


def test_card_parses_with_huggingface_and_matches_evaluation(evaluated_credit: Path) -> None:
    ev = _evaluation(evaluated_credit)
    text = (evaluated_credit / "MODEL_CARD.md").read_text(encoding="utf-8")
    card = ModelCard(text)
    meta = card.data.to_dict()
    assert "mlprod" in meta["tags"]
    results = meta["model-index"][0]["results"][0]
    assert results["dataset"]["name"] == ev["overall"]["dataset"]
    front = {m["type"]: m["value"] for m in results["metrics"]}
    assert front == ev["overall"]["metrics"]
    assert front_matter(text)["model-index"][0]["name"] == "credit_default"
    overall = {r["Metric"]: float(r["Value"]) for r in table_under(text, "### Overall")}
    assert overall["ROC AUC"] == round(ev["overall"]["metrics"]["roc_auc"], 3)
    rows = table_under(text, "### Per-cohort metrics")
    expected = [(c["name"], g) for c in ev["cohorts"] for g in c["groups"]]
    assert len(rows) == len(expected)
    for row, (cohort, group) in zip(rows, expected, strict=True):
        assert row["Cohort"].rstrip(" *") == cohort and row["Group"] == group["label"]
        assert int(row["Rows"]) == group["n"] and row["Judged"] == ("yes" if group["judged"] else "no")
        value = group["metrics"]["roc_auc"]
        assert row["ROC AUC"] == ("n/a" if value is None else f"{value:.3f}")
    fairness = table_under(text, "### Fairness")
    assert [float(r["Value"]) for r in fairness] == [round(f["value"], 3) for f in ev["fairness"]]
    # every measured table says when and on which model
    short = ev["model"]["sha256"][:12]
    assert text.count(f"*Measured on {TODAY} with model sha256 `{short}`") == 8  # dates unescaped
    assert "No evaluation yet" not in text and "stale" not in text


def test_html_page_is_standalone_with_chart(evaluated_credit: Path) -> None:
    page = (evaluated_credit / "card.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<table>" in page
    match = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert match, "the per-cohort chart is embedded"
    assert base64.b64decode(match.group(1)).startswith(b"\x89PNG\r\n\x1a\n")
    assert page.index("At a glance</h2>") < match.start() < page.index("Model details</h2>")
    assert "<script" not in page and "http://" not in page.replace("http-equiv", "")


def test_new_model_makes_card_stale_until_evaluate(evaluated_credit: Path, credit_copy: Path) -> None:
    root = credit_copy
    assert mlprod(root, "generate").returncode == 0  # the other generated files are current too
    old_card = (root / "MODEL_CARD.md").read_text(encoding="utf-8")
    old_ev = _evaluation(root)
    assert mlprod(root, "generate", "--check").returncode == 0
    shutil.copyfile(root / "models/registry/0.9.0/model.joblib", root / "models/model.joblib")
    new_sha = _sha(root / "models/model.joblib")
    check = mlprod(root, "generate", "--check")
    assert check.returncode == 1
    assert "MODEL_CARD.md" in check.stderr and "evaluation is stale" in check.stdout
    assert old_ev["model"]["sha256"] in check.stdout and new_sha in check.stdout

    proc = mlprod(root, "evaluate", "--no-latency")
    assert proc.returncode == 0, proc.stderr
    assert "load model" in proc.stdout and " s" in proc.stdout  # progress lines with timings
    assert mlprod(root, "generate", "--check").returncode == 0
    ev = _evaluation(root)
    text = (root / "MODEL_CARD.md").read_text(encoding="utf-8")
    assert ev["model"]["sha256"] == new_sha and new_sha in text and "stale" not in text
    test, scores = _reference_scores(root)
    assert ev["overall"]["metrics"]["roc_auc"] == pytest.approx(
        roc_auc_score(test["default"], scores), rel=1e-5
    )
    front = {
        m["type"]: m["value"]
        for m in ModelCard(text).data.to_dict()["model-index"][0]["results"][0]["metrics"]
    }
    assert front["roc_auc"] == ev["overall"]["metrics"]["roc_auc"] != old_ev["overall"]["metrics"]["roc_auc"]

    # back to the original model: a second evaluation gives the same bytes (deterministic)
    shutil.copyfile(evaluated_credit / "models/model.joblib", root / "models/model.joblib")
    assert mlprod(root, "evaluate", "--no-latency").returncode == 0
    assert (root / ".mlprod/evaluation.json").read_bytes() == (
        evaluated_credit / ".mlprod/evaluation.json"
    ).read_bytes()
    assert (root / "MODEL_CARD.md").read_text(encoding="utf-8") == old_card


def test_invalid_spec_exits_2(tmp_path: Path) -> None:
    (tmp_path / "mlprod.yaml").write_text("version: 1\nproject: {name: Bad Name}\n", encoding="utf-8")
    proc = mlprod(tmp_path, "evaluate")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / ".mlprod").exists()
