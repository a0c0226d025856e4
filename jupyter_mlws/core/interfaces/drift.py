"""Data drift detectors (issue 20): what a detector compares and how, by name.

A detector's results are runs (experiment ``<name>-drift``), so the store keeps only its definition
and the id of its schedule while one exists.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .base import MetadataInterface

__all__ = ["DriftDetectorRecord", "DriftStore"]


@dataclass(frozen=True)
class DriftDetectorRecord:
    """One detector. ``definition`` is JSON: baseline and target (dataset references or a service),
    features, frequency, drift threshold, latency, alert configuration, compute target."""

    name: str
    definition: Mapping[str, Any]
    created_time: float
    updated_time: float
    schedule_id: str | None = None


class DriftStore(MetadataInterface):
    """Drift detectors by name. Implemented for SQL by ``DriftMixin`` (``stores/metadata/sql/drift.py``)."""

    @abstractmethod
    def add_drift_detector(self, record: DriftDetectorRecord) -> None:
        """Store a new detector (AlreadyExistsError if the name is taken); emits ``drift.created``."""

    @abstractmethod
    def get_drift_detector(self, name: str) -> DriftDetectorRecord:
        """NotFoundError naming the detector if there is none."""

    @abstractmethod
    def list_drift_detectors(self) -> list[DriftDetectorRecord]:
        """Every detector, by name."""

    @abstractmethod
    def update_drift_detector(
        self, name: str, definition: Mapping[str, Any], updated_time: float, schedule_id: str | None
    ) -> DriftDetectorRecord:
        """Replace a detector's definition and schedule id; emits ``drift.updated``."""

    @abstractmethod
    def delete_drift_detector(self, name: str) -> None:
        """Remove a detector (its runs stay); emits ``drift.deleted``."""
