"""The servers the serving tests start: the credit example's app, healthy or with one seeded defect.

`uvicorn --factory apps:make_app` builds the app named by SERVE_DEFECT in the project
folder CREDIT_ROOT (a prepared copy of examples/credit):
- (unset): examples/credit/serve.py as it is;
- float32: casts numeric inputs to float32 and rounds probabilities to 3 decimals
  (training/serving skew: golden replay must fail);
- stall: stalls all processing for 300 ms every 2 s (open-loop p99 must fail, p50 pass);
- bad_row: no input validation, so a bad row reaches the model and the server answers 500
  (robustness must fail);
- mlflow_labels / mlflow_proba: a stub of MLflow's scoring server (`/ping`, `/invocations`
  with `dataframe_split`) serving the sklearn flavour's default class labels, or the
  probabilities a model logged with pyfunc_predict_fn="predict_proba" serves.
"""

import asyncio
import os
import sys
import time
from typing import Any

STALL_EVERY_S = 2.0
STALL_FOR_S = 0.3


class Float32Rounded:
    """The deployed model behind a skewed serving path."""

    def __init__(self, model: Any, numeric: list[str]) -> None:
        self.model, self.numeric = model, numeric

    def predict_proba(self, X: Any) -> Any:
        import numpy as np

        X = X.copy()
        X[self.numeric] = X[self.numeric].astype(np.float32)
        return np.round(self.model.predict_proba(X), 3)


def _stall_middleware(app: Any) -> None:
    @app.middleware("http")
    async def stall(request: Any, call_next: Any) -> Any:
        # Every request waits while the server is in a stall window (all processing stops).
        phase = time.monotonic() % STALL_EVERY_S
        if phase < STALL_FOR_S:
            await asyncio.sleep(STALL_FOR_S - phase)
        return await call_next(request)


def _mlflow_stub(model: Any, labels: bool) -> Any:
    import pandas as pd
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {}

    @app.post("/invocations")
    async def invocations(request: Request) -> Any:
        body = await request.json()
        split = body.get("dataframe_split") if isinstance(body, dict) else None
        if not isinstance(split, dict):
            return JSONResponse({"error_code": "BAD_REQUEST", "message": "no dataframe_split"}, 400)
        X = pd.DataFrame(split.get("data"), columns=split.get("columns"))
        try:
            out = model.predict(X) if labels else model.predict_proba(X)
        except Exception as exc:  # MLflow answers a schema problem with 400 and a message
            return JSONResponse({"error_code": "BAD_REQUEST", "message": str(exc)}, 400)
        return {"predictions": out.tolist()}

    return app


def make_app() -> Any:
    root = os.environ["CREDIT_ROOT"]
    sys.path.insert(0, root)
    os.chdir(root)
    import serve
    from credit.model import NUMERIC, load_model

    defect = os.environ.get("SERVE_DEFECT", "")
    model = load_model()
    if defect == "float32":
        return serve.create_app(Float32Rounded(model, NUMERIC))
    if defect == "bad_row":
        import pandas as pd
        from credit.model import FEATURES

        return serve.create_app(model, validate=lambda rows: pd.DataFrame(rows).reindex(columns=FEATURES))
    if defect in ("mlflow_labels", "mlflow_proba"):
        return _mlflow_stub(model, labels=defect == "mlflow_labels")
    app = serve.create_app(model)
    if defect == "stall":
        _stall_middleware(app)
    return app
