"""Which data sets `mlprod lock` records.

The lock covers what rebuilds and proves the model: training and test data, artifacts,
the requirements lockfile and the Python version. Monitoring data changes by design (a
routine refresh of `current` must not fail the reproducibility check), so a data set used
*only* as monitoring data is not locked: as `drift.current`,
`determinism.prediction_drift.current`, or a privacy scan target (`privacy.scan.datasets`,
`privacy.k_anonymity.datasets`). `datasets.<name>.locked` overrides either way: `true`
locks a monitoring data set, `false` leaves any data set out.
"""

from __future__ import annotations

from mlprod.schema.models import Spec


def monitoring_uses(spec: Spec) -> set[str]:
    """Data sets the spec reads as monitoring data (current inputs, privacy scans)."""
    used: set[str] = set()
    if spec.drift is not None:
        used.add(spec.drift.current)
    det = spec.determinism
    if det is not None and det.prediction_drift is not None:
        used.add(det.prediction_drift.current)
    priv = spec.privacy
    if priv is not None:
        if priv.scan is not None:
            used.update(priv.scan.datasets)
        if priv.k_anonymity is not None:
            used.update(priv.k_anonymity.datasets)
    return used


def model_uses(spec: Spec) -> set[str]:
    """Data sets that build or prove the model: training, evaluation, reference data.

    `train` and `test` count by name (record, evaluate and the dummy baselines read them).
    """
    used = {n for n in ("train", "test") if n in spec.data.datasets}
    if spec.pipeline is not None:
        used.update(i for st in spec.pipeline.stages for i in st.inputs)
    if spec.drift is not None:
        used.add(spec.drift.reference)
    det = spec.determinism
    if det is not None and det.prediction_drift is not None:
        used.add(det.prediction_drift.reference)
    for section, field in (
        ("fairness", "dataset"),
        ("baseline", "dataset"),
        ("explainability", "dataset"),
    ):
        value = getattr(getattr(spec, section, None), field, None)
        if isinstance(value, str):
            used.add(value)
    rep = spec.reproducibility
    if rep is not None and rep.retrain is not None:
        used.add(rep.retrain.dataset)
    collab = spec.collaboration
    if collab is not None and collab.regression is not None:
        used.add(collab.regression.dataset)
    return used


def is_locked(spec: Spec, name: str) -> bool:
    """Whether `mlprod lock` records data set `name` (see the module docstring)."""
    explicit = spec.data.datasets[name].locked
    if explicit is not None:
        return explicit
    return not (name in monitoring_uses(spec) and name not in model_uses(spec))


def locked_datasets(spec: Spec) -> dict[str, str]:
    """{name: path} of the data sets the lock records, sorted by name."""
    return {
        name: ds.path
        for name, ds in sorted(spec.data.datasets.items())
        if ds.path is not None and is_locked(spec, name)
    }


def unlocked_datasets(spec: Spec) -> list[str]:
    """Names of the data sets the lock leaves out (monitoring data, or `locked: false`)."""
    return [name for name in sorted(spec.data.datasets) if not is_locked(spec, name)]


def unlockable_tables(spec: Spec) -> dict[str, str]:
    """{name: reason} of the `table:` data sets the lock would record but cannot hash."""
    return {
        name: f"table {ds.table} has no file to hash; not lockable"
        for name, ds in sorted(spec.data.datasets.items())
        if ds.table is not None and is_locked(spec, name)
    }
