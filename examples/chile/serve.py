"""Serve the vote-intention model over HTTP: the endpoint mlprod's serving checks call.

    pip install fastapi uvicorn        # the server; mlprod's checks need httpx (mlprod[checks])
    uvicorn serve:app --host 127.0.0.1 --port 8080

Two protocols (see mlprod's docs/serving.md):
- records: POST /predict with a JSON array of row objects -> {"predictions": [[pA, pN, pU, pY], ...]};
  GET /health answers 200 when the model is loaded.
- kserve_v2 (Open Inference Protocol): POST /v2/models/chile/infer with one input tensor
  per feature column -> one output tensor `predict_proba` of shape [rows, 4] (classes A, N, U, Y);
  GET /v2/health/ready.

Bad requests (not JSON, a missing feature, a wrongly typed value) get 400 or 422 with a
message saying what is wrong, never a 500 or a prediction. The model is the registry's
version CHILE_MODEL_VERSION (default 1.0.0, models/registry/<version>/model.joblib).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from typing import Any

import pandas as pd
from chile.model import CATEGORICAL, FEATURES, NUMERIC, load_model
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

MODEL_NAME = "chile"
MAX_ROWS = 10_000


class BadRequest(ValueError):
    """The request is wrong: answered 4xx with this message."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def validate_rows(rows: Any) -> pd.DataFrame:
    """Rows (a list of objects) as a DataFrame of the model's features, or BadRequest saying why."""
    if not isinstance(rows, list) or not rows:
        raise BadRequest("the body must be a non-empty JSON array of row objects")
    if len(rows) > MAX_ROWS:
        raise BadRequest(f"at most {MAX_ROWS} rows a request", status=413)
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise BadRequest(f"row {i} is not an object")
        missing = [f for f in FEATURES if f not in row]
        if missing:
            raise BadRequest(f"row {i} lacks feature(s) {', '.join(missing)}")
        for name in NUMERIC:
            value = row[name]
            ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not ok:
                raise BadRequest(f"row {i}: {name} must be a finite number, got {value!r}")
        for name in CATEGORICAL:
            if not isinstance(row[name], str):
                raise BadRequest(f"row {i}: {name} must be a string, got {row[name]!r}")
    return pd.DataFrame([{f: row[f] for f in FEATURES} for row in rows], columns=FEATURES)


def kserve_rows(body: Any) -> list[dict[str, Any]]:
    """The rows of an Open Inference Protocol request with one input tensor per feature."""
    if not isinstance(body, dict) or not isinstance(body.get("inputs"), list):
        raise BadRequest('the body must be an inference request with an "inputs" list')
    columns: dict[str, list[Any]] = {}
    for tensor in body["inputs"]:
        if not isinstance(tensor, dict) or not isinstance(tensor.get("data"), list):
            raise BadRequest("every input needs a name and a data list")
        name = str(tensor.get("name"))
        expected = "BYTES" if name in CATEGORICAL else ("INT64", "FP64", "FP32", "INT32")
        if tensor.get("datatype") not in expected:
            raise BadRequest(f"input {name} has datatype {tensor.get('datatype')!r}, expected {expected}")
        columns[name] = tensor["data"]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise BadRequest("inputs have different lengths")
    n = lengths.pop() if lengths else 0
    return [{name: values[i] for name, values in columns.items()} for i in range(n)]


def create_app(model: Any = None, *, validate: Callable[[Any], pd.DataFrame] = validate_rows) -> FastAPI:
    """The app; `model` defaults to the registry's CHILE_MODEL_VERSION."""
    if model is None:
        version = os.environ.get("CHILE_MODEL_VERSION", "1.0.0")
        model = load_model(f"models/registry/{version}/model.joblib")
    app = FastAPI(title="chile vote-intention model", docs_url=None, redoc_url=None, openapi_url=None)

    async def body_of(request: Request) -> Any:
        try:
            return json.loads(await request.body())
        except ValueError as exc:
            raise BadRequest(f"the body is not JSON: {exc}", status=400) from exc

    @app.exception_handler(BadRequest)
    async def bad_request(request: Request, exc: BadRequest) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.get("/health")
    @app.get("/v2/health/ready")
    async def health() -> dict[str, str]:
        return {"status": "ready"}

    @app.post("/predict")
    async def predict(request: Request) -> dict[str, Any]:
        X = validate(await body_of(request))
        return {"predictions": model.predict_proba(X).tolist()}

    @app.post(f"/v2/models/{MODEL_NAME}/infer")
    async def infer(request: Request) -> dict[str, Any]:
        X = validate(kserve_rows(await body_of(request)))
        proba = model.predict_proba(X)
        return {
            "model_name": MODEL_NAME,
            "outputs": [
                {
                    "name": "predict_proba",
                    "shape": list(proba.shape),
                    "datatype": "FP64",
                    "data": proba.ravel().tolist(),
                }
            ],
        }

    return app


def __getattr__(name: str) -> Any:
    # `uvicorn serve:app` loads the model when it asks for `app`, not when tests import this module.
    if name == "app":
        return create_app()
    raise AttributeError(name)
