"""A detector's schedule fires (``core.registry.schedule_targets["drift"]``): the pipelines' schedule
driver claims each fire once and calls :func:`fire`, which submits the check of the interval that
ended ``latency`` days before the fire time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .detector import DataDriftDetector, interval_of_fire

if TYPE_CHECKING:
    from ..core.interfaces.pipeline_publishing import ScheduleRecord
    from ..core.workspace import Workspace

__all__ = ["fire"]


def fire(workspace: Workspace, record: ScheduleRecord, fire_time: int) -> str:
    detector = DataDriftDetector.get_by_name(workspace, str(record.parameters["detector"]))
    interval = interval_of_fire(fire_time, detector.frequency, detector.latency)
    run = detector._submit(
        [interval],
        "scheduled",
        None,
        None,
        None,
        properties={"azureml.scheduleid": record.id, "mlws.scheduleFireTime": str(fire_time)},
    )
    return str(run.id)
