"""The HTTP side of the serving checks: the endpoint from the environment, and the three protocols.

- `records`: POST `<url>/predict` with a JSON array of row objects; answer
  `{"predictions": [...]}`, one entry per row (a list of class probabilities, or a number).
- `mlflow`: POST `<url>/invocations` with `{"dataframe_split": {"columns": [...], "data": [[...]]}}`;
  answer `{"predictions": [...]}` (MLflow's documented scoring-server shapes).
- `kserve_v2`: the Open Inference Protocol, POST `<url>/v2/models/<model_name>/infer` with
  one input tensor per feature column; the first output tensor holds the predictions.

The URL comes from an environment variable and is checked here, at run time: http or https,
a host, no credentials, no query. Every request goes to that URL only (no redirects are
followed, no proxy from the environment is used).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .results import CheckResult

#: Numeric dtypes map to these Open Inference Protocol datatypes; everything else is BYTES.
_KSERVE_TYPES = {"i": "INT64", "u": "INT64", "f": "FP64", "b": "BOOL"}


class ServingError(Exception):
    """A request that did not give predictions: the text says what the server did."""


@dataclass(frozen=True)
class Endpoint:
    """A validated serving endpoint: base URL, protocol and request settings."""

    base: str
    protocol: str = "records"
    model_name: str | None = None
    health_path: str = "/health"
    timeout_s: float = 5.0
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def predict_url(self) -> str:
        if self.protocol == "mlflow":
            return f"{self.base}/invocations"
        if self.protocol == "kserve_v2":
            return f"{self.base}/v2/models/{self.model_name}/infer"
        return f"{self.base}/predict"

    @property
    def health_url(self) -> str:
        return f"{self.base}{self.health_path}"

    def client(self) -> Any:
        import httpx

        return httpx.Client(timeout=self.timeout_s, follow_redirects=False, trust_env=False)


def url_problem(url: str) -> str | None:
    """Why `url` is not a usable base URL, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        return f"is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return "contains credentials: pass them as a header through serving.headers_env instead"
    if parts.query or parts.fragment:
        return "must not carry a query or fragment"
    return None


def resolve_endpoint(
    serving: Mapping[str, Any], concern: str, check: str, environ: Mapping[str, str] | None = None
) -> Endpoint | CheckResult:
    """The endpoint named by the spec's serving section, or the CheckResult that replaces the check.

    Unset URL variable: not judged (skipped with the reason). A bad URL or an unset header
    variable: a failed result naming the variable, never its value.
    """
    env = os.environ if environ is None else environ
    name = serving.get("url_env", "MODEL_URL")
    url = env.get(name, "").strip()
    if not url:
        return CheckResult(
            concern,
            check,
            True,
            f"the serving checks need the deployed model's URL in ${name}, which is not set",
            judged=False,
            subject=name,
        )
    problem = url_problem(url)
    headers: dict[str, str] = {}
    for header, var in sorted(dict(serving.get("headers_env") or {}).items()):
        value = env.get(var)
        if not value:
            problem = problem or f"is set, but ${var} (the {header} header) is not"
        headers[header] = value or ""
    if problem:
        return CheckResult(concern, check, False, f"the serving URL in ${name} {problem}", subject=name)
    return Endpoint(
        base=url.rstrip("/"),
        protocol=serving.get("protocol", "records"),
        model_name=serving.get("model_name"),
        health_path=serving.get("health_path", "/health"),
        timeout_s=float(serving.get("timeout_s", 5.0)),
        headers=headers,
    )


# --- request bodies ------------------------------------------------------------------------


def _records(df: Any) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (native Python values, missing values as null)."""
    return list(df.astype(object).where(df.notna(), None).to_dict(orient="records"))


def encode(endpoint: Endpoint, df: Any, dtypes: Mapping[str, str] | None = None) -> Any:
    """The request body for the rows of `df` in the endpoint's protocol.

    `dtypes` overrides a column's KServe datatype (used to send a deliberately wrong type).
    """
    rows = _records(df)
    columns = [str(c) for c in df.columns]
    if endpoint.protocol == "mlflow":
        return {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}}
    if endpoint.protocol == "kserve_v2":
        inputs = []
        for c in columns:
            datatype = (dtypes or {}).get(c) or _KSERVE_TYPES.get(df[c].dtype.kind, "BYTES")
            inputs.append(
                {"name": c, "shape": [len(rows)], "datatype": datatype, "data": [r[c] for r in rows]}
            )
        return {"inputs": inputs}
    return rows


def decode(endpoint: Endpoint, body: Any, rows: int) -> Any:
    """The answer's predictions as a 1-D float array of scores (column 1 of binary probabilities)."""
    import numpy as np

    if endpoint.protocol == "kserve_v2":
        try:
            out = body["outputs"][0]
            values = np.asarray(out["data"], dtype=float).reshape([int(s) for s in out["shape"]])
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise ServingError(f"the answer is not an inference response with outputs ({exc})") from exc
    else:
        if not isinstance(body, dict) or not isinstance(body.get("predictions"), list):
            raise ServingError('the answer has no "predictions" list')
        preds = [list(p.values()) if isinstance(p, dict) else p for p in body["predictions"]]
        try:
            values = np.asarray(preds, dtype=float)
        except (TypeError, ValueError) as exc:
            raise ServingError(f"the predictions are not numbers ({exc})") from exc
    if values.ndim == 2 and values.shape[1] in (1, 2):
        values = values[:, -1]
    if values.ndim != 1 or values.size != rows:
        raise ServingError(f"{values.size} predictions of shape {values.shape} for {rows} rows")
    return values


def predict(endpoint: Endpoint, client: Any, df: Any, chunk: int = 100) -> Any:
    """Scores of the served model for the rows of `df`, `chunk` rows a request."""
    import numpy as np

    parts = []
    for lo in range(0, len(df), chunk):
        part = df.iloc[lo : lo + chunk]
        status, body = post(endpoint, client, encode(endpoint, part))
        if not 200 <= status < 300:
            raise ServingError(f"{endpoint.predict_url} answered {status}: {str(body)[:200]}")
        parts.append(decode(endpoint, body, len(part)))
    return np.concatenate(parts) if parts else np.asarray([], dtype=float)


def post(endpoint: Endpoint, client: Any, payload: Any) -> tuple[int, Any]:
    """POST `payload` as JSON to the predict URL: (status, parsed JSON or text)."""
    import httpx

    try:
        response = client.post(endpoint.predict_url, json=payload, headers=endpoint.headers)
    except httpx.HTTPError as exc:
        raise ServingError(f"no answer from {endpoint.predict_url}: {type(exc).__name__}: {exc}") from exc
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def health_problem(endpoint: Endpoint, client: Any) -> str | None:
    """None when GET <health_path> answers 200, else what happened."""
    import httpx

    try:
        response = client.get(endpoint.health_url, headers=endpoint.headers)
    except httpx.HTTPError as exc:
        return f"no answer from {endpoint.health_url}: {type(exc).__name__}: {exc}"
    if response.status_code != 200:
        return f"{endpoint.health_url} answered {response.status_code}, not 200"
    return None
