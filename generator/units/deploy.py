"""Deployment manifests of the infrastructure concern.

- `deploy/hpa.yaml`: a Kubernetes `autoscaling/v2` HorizontalPodAutoscaler from
  `infrastructure.scaling` (only when declared). It scales the Deployment named after the
  project (`project.name` with `_` as `-`, a valid DNS-1123 name).
- `monitoring/alerts.yml`: Prometheus alerting rules for the p50/p95 latency budgets of
  `infrastructure.latency` (only when declared), over the histogram
  `mlprod_prediction_latency_seconds` that the serving code exports (docs/monitoring-metrics.md).
"""

from __future__ import annotations

import re
from typing import Any

from mlprod.generator.base import Artifact, Context, Kind, unit
from mlprod.generator.ci_common import dump_yaml
from mlprod.schema.models import Spec

HPA = "deploy/hpa.yaml"
ALERTS = "monitoring/alerts.yml"
#: The metric the alerts read (a Prometheus histogram in seconds, label `model`).
LATENCY_METRIC = "mlprod_prediction_latency_seconds"
#: How long a budget must be exceeded before the alert fires, and the rate window.
FOR = "10m"
WINDOW = "5m"


def k8s_name(name: str) -> str:
    """A DNS-1123 label from a project identifier (`[a-z][a-z0-9_]*`)."""
    label = re.sub(r"[^a-z0-9-]", "-", name.lower())[:63].strip("-")
    return re.sub(r"-{2,}", "-", label) or "mlprod-model"


def render_hpa(spec: Spec) -> str | None:
    """The HPA manifest text, or None when `infrastructure.scaling` is not declared."""
    infra = spec.infrastructure
    if infra is None or infra.scaling is None:
        return None
    s = infra.scaling
    name = k8s_name(spec.project.name)
    manifest: dict[str, Any] = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/managed-by": "mlprod"},
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": s.min_replicas,
            "maxReplicas": s.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": s.target_cpu_percent},
                    },
                }
            ],
        },
    }
    return dump_yaml(manifest)


def _seconds(ms: float) -> str:
    """A budget in milliseconds as a PromQL number of seconds (shortest exact repr)."""
    return repr(float(ms) / 1000.0)


def _ms(value: float) -> str:
    """A budget for prose: `15` rather than `15.0`, exact rather than rounded."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def latency_expr(model: str, quantile: float, budget_ms: float) -> str:
    """PromQL: the `quantile` of prediction latency over `WINDOW` is above the budget."""
    selector = f'{LATENCY_METRIC}_bucket{{model="{model}"}}'
    return f"histogram_quantile({quantile}, sum by (le) (rate({selector}[{WINDOW}]))) > {_seconds(budget_ms)}"


def render_alerts(spec: Spec) -> str | None:
    """The Prometheus rules file text, or None when `infrastructure.latency` is not declared."""
    infra = spec.infrastructure
    if infra is None or infra.latency is None:
        return None
    lat = infra.latency
    model = spec.project.name  # an identifier: safe inside a PromQL string and a label
    rules = []
    for label, quantile, budget in (("P50", 0.5, lat.p50_ms), ("P95", 0.95, lat.p95_ms)):
        rules.append(
            {
                "alert": f"MlprodLatency{label}High",
                "expr": latency_expr(model, quantile, budget),
                "for": FOR,
                "labels": {"severity": "warning", "model": model},
                "annotations": {
                    "summary": f"{label.lower()} prediction latency of {model} above {_ms(budget)} ms",
                    "description": (
                        f"The {label.lower()} of {LATENCY_METRIC} over {WINDOW} has been above the "
                        f"budget infrastructure.latency.{label.lower()}_ms = {_ms(budget)} ms for {FOR}."
                    ),
                },
            }
        )
    return dump_yaml({"groups": [{"name": f"mlprod-{model}-latency", "rules": rules}]})


@unit("deploy")
def deploy(ctx: Context) -> list[Artifact]:
    """The HPA and the latency alert rules, each only when its section is declared."""
    out: list[Artifact] = []
    hpa = render_hpa(ctx.spec)
    if hpa is not None:
        out.append(Artifact(HPA, hpa, Kind.YAML, concern="infrastructure"))
    alerts = render_alerts(ctx.spec)
    if alerts is not None:
        out.append(Artifact(ALERTS, alerts, Kind.YAML, concern="infrastructure"))
    return out
