"""Small builders the metadata store contract modules share (a run, metric points, a model version)."""

from __future__ import annotations

import time

from jupyter_mlws.core.entities import FileRecord, MetricPoint
from jupyter_mlws.core.interfaces import ModelRegistryStore, RunStore
from jupyter_mlws.core.status import RunStatus

DIGEST = "ab" * 32


def add_run(store: RunStore, run_id: str = "r1", experiment: str = "exp", **kw: object) -> str:
    exp = store.get_or_create_experiment(experiment)
    store.create_run(
        run_id=run_id,
        experiment_id=exp.id,
        status=kw.pop("status", RunStatus.RUNNING),  # type: ignore[arg-type]
        run_type="interactive",
        created_time=kw.pop("created_time", time.time()),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )
    return run_id


def points(*values: float, name: str = "m") -> list[MetricPoint]:
    return [MetricPoint(name, v, i, 1000.0 + i) for i, v in enumerate(values)]


def register_model(store: ModelRegistryStore, name: str = "m", **kw: object) -> int:
    record = store.register_model_version(
        name=name,
        files=[FileRecord("model.pkl", DIGEST, 3)],
        created_time=time.time(),
        **kw,  # type: ignore[arg-type]
    )
    return record.version
