"""SQL side of :class:`~jupyter_mlws.core.interfaces.pipelines.PipelineStepStore` (issue 16)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from ....core.entities import BlobReference
from ....core.interfaces.pipelines import PipelineStepStore, StepRunRecord
from ....core.status import RunStatus
from ....errors import NotFoundError
from .base import SqlStoreBase
from .schema import pipeline_step_runs, runs

__all__ = ["PipelineStepsMixin"]

_parents = runs.alias("parents")
_COLUMNS = (
    runs.c.run_id,
    pipeline_step_runs.c.step_name,
    pipeline_step_runs.c.reuse_key,
    pipeline_step_runs.c.parts,
    pipeline_step_runs.c.created_time,
    pipeline_step_runs.c.outputs,
    pipeline_step_runs.c.reused_from,
    _parents.c.run_id,
    runs.c.experiment_id,
)
_JOINED = pipeline_step_runs.join(runs, runs.c.key == pipeline_step_runs.c.run_key).outerjoin(
    _parents, _parents.c.key == runs.c.parent_key
)


def _record(row: Sequence[Any]) -> StepRunRecord:
    return StepRunRecord(
        run_id=row[0],
        step_name=row[1],
        reuse_key=row[2],
        parts=json.loads(row[3]),
        created_time=row[4],
        outputs=json.loads(row[5]) if row[5] is not None else None,
        reused_from=row[6],
        parent_run_id=row[7],
        experiment_id=row[8],
    )


class PipelineStepsMixin(SqlStoreBase, PipelineStepStore):
    def add_step_run(self, record: StepRunRecord) -> None:
        values = {
            "step_name": record.step_name,
            "reuse_key": record.reuse_key,
            "parts": json.dumps(record.parts, sort_keys=True),
            "outputs": json.dumps(dict(record.outputs), sort_keys=True) if record.outputs is not None else None,
            "reused_from": record.reused_from,
            "created_time": record.created_time,
        }
        with self.sql.write() as conn:
            key = self.run_key(conn, record.run_id)
            stmt = self.insert(pipeline_step_runs).values(run_key=key, **values)
            conn.execute(stmt.on_conflict_do_update(index_elements=[pipeline_step_runs.c.run_key], set_=values))

    def set_step_outputs(self, run_id: str, outputs: Mapping[str, str]) -> None:
        with self.sql.write() as conn:
            key = self.run_key(conn, run_id)
            done = conn.execute(
                pipeline_step_runs.update()
                .where(pipeline_step_runs.c.run_key == key)
                .values(outputs=json.dumps(dict(outputs), sort_keys=True))
            )
            if not done.rowcount:
                raise NotFoundError(f"run {run_id} is not a pipeline step run")

    def get_step_run(self, run_id: str) -> StepRunRecord:
        with self.sql.read() as conn:
            row = conn.execute(select(*_COLUMNS).select_from(_JOINED).where(runs.c.run_id == run_id)).first()
        if row is None:
            raise NotFoundError(f"run {run_id} is not a pipeline step run")
        return _record(row)

    def find_reusable_step_runs(self, reuse_key: str, limit: int = 10) -> list[StepRunRecord]:
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(
                pipeline_step_runs.c.reuse_key == reuse_key,
                pipeline_step_runs.c.outputs.is_not(None),
                runs.c.status == RunStatus.COMPLETED.value,
            )
            .order_by(pipeline_step_runs.c.run_key.desc())
            .limit(limit)
        )
        with self.sql.read() as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def latest_step_run(self, step_name: str, experiment_id: int, before_parent: str) -> StepRunRecord | None:
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(
                pipeline_step_runs.c.step_name == step_name,
                runs.c.experiment_id == experiment_id,
                _parents.c.run_id != before_parent,
            )
            .order_by(pipeline_step_runs.c.run_key.desc())
            .limit(1)
        )
        with self.sql.read() as conn:
            row = conn.execute(query).first()
        return _record(row) if row is not None else None

    def list_step_runs(self, parent_run_id: str) -> list[StepRunRecord]:
        query = (
            select(*_COLUMNS)
            .select_from(_JOINED)
            .where(_parents.c.run_id == parent_run_id)
            .order_by(pipeline_step_runs.c.run_key)
        )
        with self.sql.read() as conn:
            return [_record(r) for r in conn.execute(query).all()]

    def step_output_references(self) -> list[BlobReference]:
        query = (
            select(runs.c.run_id, pipeline_step_runs.c.outputs)
            .join(runs, runs.c.key == pipeline_step_runs.c.run_key)
            .where(pipeline_step_runs.c.outputs.is_not(None))
        )
        found: list[BlobReference] = []
        with self.sql.read() as conn:
            for run_id, outputs in conn.execute(query):
                for name, digest in sorted((json.loads(outputs) or {}).items()):
                    found.append(BlobReference(str(digest), f"step run {run_id} output {name}"))
        return found
