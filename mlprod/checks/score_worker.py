"""`python -m mlprod.checks.score_worker`: score rows of a data set in a fresh process.

Reads one JSON object on stdin ({root, config, dataset, positions}), loads the project's
deployed model as the generated tests do, and prints the scores of those rows as one JSON
list on the last line of stdout. Used by the process-invariance check (invariance.py).
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    """Score the requested rows; print them as JSON."""
    from mlprod.checks.project import Project

    request = json.loads(sys.stdin.read())
    project = Project(request["root"], request["config"])
    X = project.X(request["dataset"]).iloc[request["positions"]]
    import numpy as np

    # a multiclass probability matrix is sent row by row, flattened
    scores = [float(v) for v in np.asarray(project.predict_fn()(X), dtype=float).ravel()]
    print(json.dumps(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
