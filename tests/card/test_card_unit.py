"""The model card unit, its escaping, and `evaluate()` on a tiny project (fast, in process)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import yaml
from cardkit import front_matter, pipe_counts, table_under, tables
from helpers import credit_spec_text
from huggingface_hub import ModelCard
from injection_corpus import CORPUS, corpus_spec_text
from mlprod.generator.base import Context
from mlprod.generator.engine import finish
from mlprod.generator.units._card_html import card_html
from mlprod.generator.units._cardfmt import contact, num
from mlprod.generator.units.model_card import render_model_card
from mlprod.schema import parse_spec_text, spec_hash
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import recall_score, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlprod import __version__
from mlprod.checks.evaluation import evaluate, round_sig
from mlprod.checks.formats import dumps_json


def _card(spec_text: str, root: Path) -> str:
    ctx = Context(parse_spec_text(spec_text), spec_hash(spec_text), __version__, root, "mlprod.yaml")
    [art] = render_model_card(ctx)
    return finish(art, ctx)


def _evaluation_with(s: str) -> dict:
    """A small evaluation of format 1 whose every string is `s`."""
    group = {"label": s, "name": s, "n": 40, "judged": True, "metrics": {"roc_auc": 0.7, s: 0.5}}
    return {
        "format": 1,
        "date": s,
        "mlprod_version": s,
        "model": {"artifact": "models/model.joblib", "sha256": s, "type": s},
        "datasets": {"test": {"path": s, "rows": 200, "sha256": s}},
        "overall": {"dataset": s, "rows": 200, "threshold": 0.5, "metrics": {"roc_auc": 0.7, s: 0.1}},
        "cohorts": [
            {
                "name": s,
                "dataset": s,
                "min_rows": 30,
                "protected": True,
                "unbinned": 2,
                "groups": [{**group, "selection_rate": 0.1, "flags": [s]}],
            }
        ],
        "fairness": [{"cohort": s, "kind": s, "metric": s, "value": 0.1, "limit": 0.2, "passed": True}],
        "baseline": {
            "metric": s,
            "dataset": s,
            "min_lift": 0.1,
            "model": 0.7,
            "strategies": [{"strategy": s, "value": 0.5, "lift": 0.2, "passed": True}],
            "previous": {"artifact": s, "sha256": s, "value": 0.6, "drop": -0.1, "passed": True},
        },
        "drift": {
            "reference": s,
            "current": s,
            "target": {"method": s, "value": 0.1},
            "features": [{"feature": s, "kind": s, "method": s, "statistic": 0.1, "passed": False}],
            "by_cohort": {"judged": 1, "not_judged": 0, "drifted": [s]},
        },
        "importances": {
            "method": s,
            "dataset": s,
            "top_k": 1,
            "values": [{"feature": s, "importance": 0.1}],
            "expect_top": {s: True},
        },
        "reason_codes": {
            "dataset": s,
            "reference": s,
            "checked_rows": 5,
            "passed": True,
            "examples": [{"id": s, "score": 0.3, "codes": [{"feature": s, "contribution": -0.1}]}],
        },
        "latency": {"dataset": s, "batch_size": 1, "runs": 5, "p50_ms": 1.0, "p95_ms": 2.0, "budget": {}},
        "results": [{"message": s, "passed": False, "judged": True}],
        "errors": {s: s},
    }


# --- the card without and with an evaluation ---------------------------------------------------


def test_card_without_evaluation_says_so(tmp_path: Path) -> None:
    text = _card(credit_spec_text(), tmp_path)
    assert "No evaluation yet: run `mlprod evaluate`" in text
    card = ModelCard(text)
    assert "model-index" not in card.data.to_dict() and "mlprod" in card.data.to_dict()["tags"]
    for heading in (
        "Model details",
        "Intended use",
        "Factors",
        "Metrics",
        "Evaluation data",
        "Training data",
        "Quantitative analyses",
        "Ethical considerations",
        "Caveats and recommendations",
    ):
        assert f"\n## {heading}\n" in text
    impact = table_under(text, "## Ethical considerations")
    assert [r["Stakeholder"] for r in impact] == ["applicants", "applicants", "bank"]
    assert "Every change needs 1 approving review." in text
    assert text.count("automated (generated tests)") == 10


def test_manual_concern_is_a_checklist_item(tmp_path: Path) -> None:
    spec = yaml.safe_load(credit_spec_text())
    spec["privacy"]["mode"] = "manual"
    spec["privacy"]["signoff"] = {"by": "Jane Analyst", "on": "2026-11-20", "note": "DPIA reviewed"}
    spec["explainability"]["mode"] = "manual"
    del spec["reproducibility"]
    text = _card(yaml.safe_dump(spec, sort_keys=False), tmp_path)
    assert "- [x] Privacy, compliance, impact matrix: signed off by Jane Analyst on 2026-11-20" in text
    assert "- [ ] Explainability: checked by hand, not signed off yet" in text
    rows = {r["Id"]: r["Status"] for r in table_under(text, "## Production checklist: the ten concerns")}
    assert rows["`reproducibility`"] == "not declared" and rows["`privacy`"] == "manual"


def test_stale_when_artifact_hash_differs(tmp_path: Path) -> None:
    (tmp_path / ".mlprod").mkdir()
    ev = _evaluation_with("x") | {"model": {"artifact": "models/model.joblib", "sha256": "a" * 64}}
    (tmp_path / ".mlprod/evaluation.json").write_text(json.dumps(ev), encoding="utf-8")
    assert "stale" not in _card(credit_spec_text(), tmp_path)  # no artifact: nothing to compare
    (tmp_path / "models").mkdir()
    (tmp_path / "models/model.joblib").write_bytes(b"new model")
    text = _card(credit_spec_text(), tmp_path)
    import hashlib

    assert "The evaluation is stale" in text
    assert "a" * 64 in text and hashlib.sha256(b"new model").hexdigest() in text
    (tmp_path / ".mlprod/evaluation.json").write_text("{not json", encoding="utf-8")
    assert "No usable evaluation" in _card(credit_spec_text(), tmp_path)


@pytest.mark.parametrize("index", range(len(CORPUS)))
def test_hostile_text_stays_text(index: int, tmp_path: Path) -> None:
    s = CORPUS[index]
    (tmp_path / ".mlprod").mkdir()
    (tmp_path / ".mlprod/evaluation.json").write_text(json.dumps(_evaluation_with(s)), encoding="utf-8")
    text = _card(corpus_spec_text(credit_spec_text(), s), tmp_path)
    assert (
        "<script>" not in text
        and "\nevil: true" not in text
        and "javascript:" not in text.replace("javascript:alert", "")
    )
    meta = front_matter(text)
    assert set(meta) <= {"tags", "pipeline_tag", "library_name", "model-index"}
    ModelCard(text)
    for lines in tables(text.split("\n---\n", 1)[1]):
        counts = {pipe_counts(line) for line in lines}
        assert len(counts) == 1, f"a table row was broken by {s!r}:\n" + "\n".join(lines)
    page = card_html(text, _evaluation_with(s))
    assert "<script" not in page
    assert not re.search(r'href="(?!https?://|mailto:)', page)


# --- helpers ---------------------------------------------------------------------------------


def test_contacts_link_only_validated_addresses() -> None:
    assert contact("risk-ds@example.com") == "[risk-ds@example.com](mailto:risk-ds@example.com)"
    assert contact("https://example.com/team").endswith("](https://example.com/team)")
    for bad in ("javascript:alert(1)", "https://x.y/a) [z](javascript:alert(1)", "a@b.com>\n<script>"):
        assert "](" not in contact(bad) and "<" not in contact(bad)


def test_numbers_and_rounding() -> None:
    assert num(0.77583333) == "0.776" and num(None) == "n/a" and num(float("nan")) == "n/a" and num(3) == "3"
    assert num(-0.0001) == "0.000"
    data = round_sig({"a": 0.123456789, "b": [1 / 3, float("nan")], "c": np.float64(2.0) / 3, "d": True})
    assert data == {"a": 0.123457, "b": [0.333333, None], "c": 0.666667, "d": True}


# --- evaluate() on a tiny project ---------------------------------------------------------------

TINY_MODULE = "tinycard_model"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], n), "g": rng.choice(["p", "q"], n)}
    )
    df["y"] = (df["a"] + (df["b"] == "x") + rng.normal(scale=0.8, size=n) > 0.5).astype(int)
    (root / "data").mkdir()
    df.iloc[:250].to_csv(root / "data/train.csv", index=False)
    df.iloc[250:].to_csv(root / "data/test.csv", index=False)
    pre = ColumnTransformer([("num", StandardScaler(), ["a"]), ("cat", OneHotEncoder(), ["b"])])
    model = make_pipeline(pre, LogisticRegression()).fit(df.iloc[:250][["a", "b"]], df.iloc[:250]["y"])
    joblib.dump(model, root / "model.joblib")
    (root / f"{TINY_MODULE}.py").write_text(
        "import joblib\n\n\ndef load():\n    return joblib.load('model.joblib')\n", encoding="utf-8"
    )
    yield root
    sys.modules.pop(TINY_MODULE, None)


def _tiny_config() -> dict:
    project = {
        "task": "binary_classification",
        "target": "y",
        "positive_label": 1,
        "features": ["a", "b"],
        "datasets": {"train": "data/train.csv", "test": "data/test.csv"},
        "model": {
            "load": f"{TINY_MODULE}:load",
            "artifact": "model.joblib",
            "predict": "predict_proba",
            "threshold": 0.5,
        },
        "stages": {},
        "sample_rows": 50,
        "seed": 0,
    }
    return {
        "project": project,
        "eval_dataset": "test",
        "train_dataset": "train",
        "cohorts": [{"name": "g", "by": "g"}],
        "fairness": {
            "dataset": "test",
            "min_cohort_rows": 5,
            "protected": ["g"],
            "max_gap": {"recall": 0.5},
            "min": {"roc_auc": 0.99},
            "demographic_parity_difference": 0.5,
        },
        "baseline": {"metric": "roc_auc", "dataset": "test", "strategies": ["prior"], "min_lift": 0.0},
        "drift": {"reference": "train", "current": "missing"},
        "prediction_drift": None,
        "explainability": {
            "method": "permutation",
            "dataset": "test",
            "top_k": 1,
            "expect_top": ["a"],
            "reason_codes": {"rows": 5, "top_k": 2},
        },
        "infrastructure": {
            "latency": {"batch_size": 1, "runs": 3, "warmup": 1, "p50_ms": 1e4, "p95_ms": 1e4},
            "batch": {"rows": 10, "max_ms": 1e5},
            "memory": {"max_mb": 1e4},
        },
    }


def test_evaluate_measures_with_the_checks(tiny: Path) -> None:
    steps: list[str] = []
    ev = evaluate(tiny, _tiny_config(), progress=lambda step, seconds: steps.append(step))
    assert steps[:3] == ["load model", "load data", "overall metrics"]
    test = pd.read_csv(tiny / "data/test.csv")
    scores = joblib.load(tiny / "model.joblib").predict_proba(test[["a", "b"]])[:, 1]
    assert ev["overall"]["metrics"]["roc_auc"] == pytest.approx(roc_auc_score(test["y"], scores))
    [cohort] = ev["cohorts"]
    for g in cohort["groups"]:
        mask = (test["g"] == g["label"]).to_numpy()
        assert g["metrics"]["recall"] == pytest.approx(recall_score(test["y"][mask], scores[mask] >= 0.5))
        assert g["flags"] == ["roc_auc < 0.99"]  # the minimum is judged per group
    assert {f["kind"] for f in ev["fairness"]} == {"max_gap", "demographic_parity_difference"}
    assert ev["baseline"]["strategies"][0]["value"] == 0.5
    # a section that cannot be measured is recorded, the others still are
    assert "missing" in ev["errors"]["drift"] and ev["drift"] == {"error": ev["errors"]["drift"]}
    assert ev["importances"]["values"][0]["feature"] == "a" and ev["importances"]["expect_top"] == {"a": True}
    # reason codes: the score minus the score with the feature at its reference value
    first = ev["reason_codes"]["examples"][0]
    codes = {c["feature"]: c["contribution"] for c in first["codes"]}
    row = test[["a", "b"]].iloc[[0]].copy()
    row["a"] = pd.read_csv(tiny / "data/train.csv")["a"].median()
    want = scores[0] - joblib.load(tiny / "model.joblib").predict_proba(row)[0, 1]
    assert codes["a"] == pytest.approx(want)
    lat = ev["latency"]
    assert lat["p50_ms"] > 0 and lat["batch"]["rows"] == 10 and lat["memory"]["mb"] >= 0
    assert ev["summary"]["failed"] == 2  # the two roc_auc minimums
    json.loads(dumps_json(round_sig(ev)))


def test_evaluate_command_reports_a_refused_card(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlprod.cli import main

    spec = {
        "version": 1,
        "project": {"name": "tiny", "task": "binary_classification", "description": "tiny | <b>card</b>"},
        "data": {
            "target": "y",
            "features": ["a", "b"],
            "datasets": {"train": {"path": "data/train.csv"}, "test": {"path": "data/test.csv"}},
        },
        "model": {"load": f"{TINY_MODULE}:load", "artifact": {"path": "model.joblib"}},
        "cohorts": [{"name": "g", "by": "g"}],
        "outputs": {"model_card": "docs/CARD.md"},
    }
    (tiny / "mlprod.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    assert main(["evaluate", "--spec", str(tiny / "mlprod.yaml"), "--no-latency"]) == 0
    card = (tiny / "docs/CARD.md").read_text(encoding="utf-8")
    ev = json.loads((tiny / ".mlprod/evaluation.json").read_text(encoding="utf-8"))
    assert ev["model"]["sha256"] in card and "tiny \\| &lt;b&gt;card&lt;/b&gt;" in card
    # a hand-edited generated file: the evaluation is written, the card refresh is refused (exit 3)
    (tiny / "docs/CARD.md").write_text(card + "my notes\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["evaluate", "--spec", str(tiny / "mlprod.yaml"), "--no-latency"]) == 3
    err = capsys.readouterr().err
    assert (
        "evaluation.json was written, but the model card was not refreshed" in err and "docs/CARD.md" in err
    )
