"""A detector's schedule fires (``core.registry.schedule_targets["drift"]``): the pipelines' schedule
driver claims each fire once and calls :func:`fire`, which submits the check of the interval that
ended ``latency`` days before the fire time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.interfaces.pipeline_publishing import DISABLED, PipelinePublishingStore
from ..errors import InvalidStateError, NotFoundError
from .detector import DataDriftDetector, interval_of_fire

if TYPE_CHECKING:
    from ..core.interfaces.pipeline_publishing import ScheduleRecord
    from ..core.workspace import Workspace

__all__ = ["fire"]


def fire(workspace: Workspace, record: ScheduleRecord, fire_time: int) -> str:
    name = str(record.parameters["detector"])
    try:
        detector: DataDriftDetector | None = DataDriftDetector.get_by_name(workspace, name)
    except NotFoundError:
        detector = None
    if detector is None or detector.schedule_id != record.id:
        # The schedule outlived its detector (deleted, or made again under that name with its own
        # schedule): it stops here, once, with the reason on this fire.
        store: PipelinePublishingStore = workspace.metadata
        store.update_schedule(record.id, {"status": DISABLED})
        raise InvalidStateError(f"drift detector {name!r} no longer owns schedule {record.id}; it is disabled")
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
