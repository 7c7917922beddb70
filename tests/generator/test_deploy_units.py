"""The deploy unit: Kubernetes HPA and Prometheus latency alerts, checked structurally."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import credit_spec_text, minimal_spec_text
from injection_corpus import CORPUS, corpus_spec_text
from mlprod.generator.base import Context, Kind
from mlprod.generator.units.deploy import LATENCY_METRIC, deploy, k8s_name
from mlprod.schema import parse_spec_text

from mlprod.errors import SpecError

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# histogram_quantile(<q>, sum by (le) (rate(<metric>_bucket{model="<m>"}[<w>]))) > <seconds>
EXPR = re.compile(
    r"^histogram_quantile\((?P<q>[0-9.]+), sum by \(le\) \(rate\((?P<metric>[a-z_]+)_bucket"
    r'\{model="(?P<model>[a-z][a-z0-9_]*)"\}\[(?P<window>\d+[smh])\]\)\)\) > (?P<thr>[0-9.e+-]+)$'
)


def edit(text: str, change: Any) -> str:
    data = yaml.safe_load(text)
    change(data)
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=False, width=10_000)


def run(text: str) -> dict[str, Any]:
    ctx = Context(parse_spec_text(text), "0" * 64, "0.1.0", Path("."), "mlprod.yaml")
    arts = deploy(ctx)
    for a in arts:
        assert (a.kind, a.concern, a.managed) == (Kind.YAML, "infrastructure", False)
    return {a.path: yaml.safe_load(a.content) for a in arts}


def test_hpa_structure() -> None:
    hpa = run(credit_spec_text())["deploy/hpa.yaml"]
    assert hpa["apiVersion"] == "autoscaling/v2" and hpa["kind"] == "HorizontalPodAutoscaler"
    name = hpa["metadata"]["name"]
    assert DNS1123.match(name) and len(name) <= 63 and name == "credit-default"
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 8)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}},
        }
    ]
    assert set(hpa) == {"apiVersion", "kind", "metadata", "spec"}


@pytest.mark.parametrize(
    ("ident", "label"), [("credit_default", "credit-default"), ("a__b_", "a-b"), ("x" * 80, "x" * 63)]
)
def test_k8s_name(ident: str, label: str) -> None:
    assert k8s_name(ident) == label and DNS1123.match(label)


def test_alerts_structure() -> None:
    alerts = run(credit_spec_text())["monitoring/alerts.yml"]
    (group,) = alerts["groups"]
    assert group["name"] and len(group["rules"]) == 2
    budgets = {"MlprodLatencyP50High": (0.5, 15), "MlprodLatencyP95High": (0.95, 50)}
    for rule in group["rules"]:
        assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}
        assert re.match(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$", rule["alert"])
        m = EXPR.match(rule["expr"])
        assert m, rule["expr"]
        q, budget_ms = budgets[rule["alert"]]
        assert float(m["q"]) == q and m["metric"] == LATENCY_METRIC and m["model"] == "credit_default"
        assert math.isclose(float(m["thr"]) * 1000.0, budget_ms)
        assert re.match(r"^\d+[smh]$", rule["for"])
        assert rule["labels"]["model"] == "credit_default"


def test_fractional_budget_and_metric_docs() -> None:
    text = edit(
        credit_spec_text(), lambda d: d["infrastructure"]["latency"].update(p50_ms=0.3, p95_ms=1234.5)
    )
    rules = run(text)["monitoring/alerts.yml"]["groups"][0]["rules"]
    matches = [EXPR.match(r["expr"]) for r in rules]
    thresholds = [float(m["thr"]) for m in matches if m is not None]
    assert thresholds == [pytest.approx(0.0003), pytest.approx(1.2345)]
    docs = Path(__file__).resolve().parents[2] / "docs" / "monitoring-metrics.md"
    assert f"`{LATENCY_METRIC}`" in docs.read_text(encoding="utf-8")


def test_only_when_declared() -> None:
    assert run(minimal_spec_text()) == {}
    only_latency = edit(credit_spec_text(), lambda d: d["infrastructure"].pop("scaling"))
    assert set(run(only_latency)) == {"monitoring/alerts.yml"}
    only_scaling = edit(credit_spec_text(), lambda d: d["infrastructure"].pop("latency"))
    assert set(run(only_scaling)) == {"deploy/hpa.yaml"}


@pytest.mark.parametrize("s", CORPUS, ids=range(len(CORPUS)))
def test_injection_corpus_does_not_change_manifests(s: str) -> None:
    try:
        got = run(corpus_spec_text(credit_spec_text(), s))
    except SpecError:
        pytest.skip("the schema rejects this value")
    assert got == run(credit_spec_text())
