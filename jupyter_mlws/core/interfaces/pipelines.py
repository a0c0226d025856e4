"""The reuse index of pipeline steps (issue 16): which step run was keyed how, and what it produced."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..entities import BlobReference
from .base import MetadataInterface

__all__ = ["PipelineStepStore", "StepRunRecord"]


@dataclass(frozen=True)
class StepRunRecord:
    """One pipeline step run. ``reuse_key`` is None for a step that may not be reused (``allow_reuse=
    False``) or whose key could not be computed; ``parts`` is what went into the key (JSON), kept to
    say which part differs next time; ``outputs`` (``{output name: manifest id}``) is set once the
    step completed; ``reused_from`` names the earlier run whose outputs a reused step answers."""

    run_id: str
    step_name: str
    reuse_key: str | None
    parts: Mapping[str, Any]
    created_time: float
    outputs: Mapping[str, str] | None = None
    reused_from: str | None = None
    parent_run_id: str | None = field(default=None, compare=False)
    experiment_id: int | None = field(default=None, compare=False)


class PipelineStepStore(MetadataInterface):
    """Pipeline step runs by reuse key. Implemented for SQL by ``PipelineStepsMixin``
    (``stores/metadata/sql/pipelines.py``)."""

    @abstractmethod
    def add_step_run(self, record: StepRunRecord) -> None:
        """Record a step run (``record.run_id`` exists); the same run again replaces its row."""

    @abstractmethod
    def set_step_outputs(self, run_id: str, outputs: Mapping[str, str]) -> None:
        """The outputs a completed step run produced (NotFoundError if the run has no row)."""

    @abstractmethod
    def get_step_run(self, run_id: str) -> StepRunRecord:
        """The row of a step run; NotFoundError if there is none."""

    @abstractmethod
    def step_output_references(self) -> list[BlobReference]:
        """The snapshot manifests step runs recorded as their outputs."""

    @abstractmethod
    def find_reusable_step_runs(self, reuse_key: str, limit: int = 10) -> list[StepRunRecord]:
        """Completed step runs with this key and recorded outputs, newest first."""

    @abstractmethod
    def latest_step_run(self, step_name: str, experiment_id: int, before_parent: str) -> StepRunRecord | None:
        """The newest run of a step of this name in this experiment that belongs to a pipeline run other
        than ``before_parent`` (what a miss is explained against), or None."""

    @abstractmethod
    def list_step_runs(self, parent_run_id: str) -> list[StepRunRecord]:
        """The step rows of one pipeline run's children, in creation order."""
