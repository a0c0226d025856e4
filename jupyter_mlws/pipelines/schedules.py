"""``Schedule`` (Azure ML v1's name): submit a published pipeline (or an endpoint's default version)
on a recurrence, or when the content of a datastore path changes (issue 16, part 5).

Schedules live in the workspace's metadata store and survive restarts. Whatever runs on the workspace
fires them — the dispatcher agent (kept alive while an enabled schedule exists) and every Jupyter
server, each calling :func:`jupyter_mlws.pipelines.scheduler.tick` — and each fire is claimed once,
through the unique key (schedule, fire time), so two of them never run one fire twice.

Time-based schedules follow a :class:`ScheduleRecurrence`; with no ``start_time`` the first fire is at
once (as in v1). Fires missed while nothing ran follow ``catch_up``: ``"latest"`` (the default) runs the
latest missed fire only, ``"all"`` runs every missed fire, ``"none"`` skips them (a fire more than
``MISSED_AFTER_S`` late is missed).

Data-change schedules (``datastore=…, path_on_datastore=…``) poll every ``polling_interval`` minutes
(v1's unit) and fire when the *content* fingerprint of that path changes (sha256 of each file's bytes:
a file rewritten in place with its old mtime put back fires; a ``touch`` does not).
"""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.interfaces.pipeline_publishing import ACTIVE, DISABLED, PipelinePublishingStore, ScheduleRecord
from ..core.names import validate_entity_name
from ..errors import InvalidArgumentError, NotFoundError
from .published import check_parameters
from .recurrence import ScheduleRecurrence

if TYPE_CHECKING:
    from ..core.runs import Run
    from ..core.workspace import Workspace

__all__ = ["CATCH_UP", "Schedule", "content_fingerprint"]

CATCH_UP = ("none", "latest", "all")
#: The fingerprint of a path that holds no file (yet): a file appearing there is a change.
MISSING = "missing"


def _store(workspace: Workspace) -> PipelinePublishingStore:
    return workspace.metadata


def content_fingerprint(workspace: Workspace, datastore_name: str, path: str) -> str:
    """The content digest of the files at ``path`` on the datastore (``MISSING`` if there are none),
    through the datasets feature's fingerprints (its stat cache trusts a file only while its size,
    mtime, inode and ctime are unchanged, so a rewrite with the old mtime put back is read again)."""
    # The datasets feature through the public API, as a user's code would reach it: features use
    # core's services, and another feature only by its public names.
    import jupyter_mlws

    datastore = jupyter_mlws.Datastore.get(workspace, datastore_name)
    try:
        dataset = jupyter_mlws.Dataset.File.from_files(datastore.path(path))
        return str(dataset.manifest.digest)
    except (NotFoundError, InvalidArgumentError):  # no such path, or an empty folder: no files (yet)
        return MISSING


def _wake_agent(workspace: Workspace) -> None:
    """Make sure something fires the schedule when no Jupyter server runs: the dispatcher agent of the
    workspace's local target (it stays up while enabled schedules exist)."""
    targets = workspace.compute_targets
    local = targets.get("local")
    if local is not None:
        local.backend().ensure_dispatching()


class Schedule:
    """A schedule of a published pipeline. Make one with :meth:`create`."""

    def __init__(self, workspace: Workspace, record: ScheduleRecord) -> None:
        self._workspace = workspace
        self._record = record

    # -- making and finding ----------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        workspace: Workspace,
        name: str,
        pipeline_id: str | None,
        experiment_name: str,
        recurrence: ScheduleRecurrence | None = None,
        description: str | None = None,
        pipeline_parameters: Mapping[str, Any] | None = None,
        wait_for_provisioning: bool = True,
        wait_timeout: int = 3600,
        datastore: Any = None,
        polling_interval: int = 5,
        data_path_parameter_name: str | None = None,
        continue_on_step_failure: bool | None = None,
        path_on_datastore: str | None = None,
        catch_up: str = "latest",
        pipeline_endpoint_id: str | None = None,
    ) -> Schedule:
        """A schedule that submits ``pipeline_id`` (or the default version of ``pipeline_endpoint_id``)
        in ``experiment_name`` on ``recurrence``, or when the content at ``path_on_datastore`` on
        ``datastore`` changes. ``wait_for_provisioning`` and ``wait_timeout`` are accepted for v1 code:
        a schedule is active as soon as it is made."""
        store = _store(workspace)
        name = validate_entity_name("schedule", name)
        experiment_name = validate_entity_name("experiment", experiment_name)
        if (pipeline_id is None) == (pipeline_endpoint_id is None):
            raise InvalidArgumentError(
                "a schedule runs one thing: give pipeline_id (a published pipeline) or pipeline_endpoint_id"
            )
        if pipeline_id is not None:
            published = store.get_published_pipeline(str(pipeline_id))
        else:
            endpoint = store.get_pipeline_endpoint(endpoint_id=str(pipeline_endpoint_id))
            published = store.get_published_pipeline(endpoint.versions[endpoint.default_version])
        what = f"published pipeline {published.name!r} ({published.id})"
        parameters = check_parameters(published.definition, pipeline_parameters, what)
        if catch_up not in CATCH_UP:
            raise InvalidArgumentError(f"catch_up must be one of {', '.join(map(repr, CATCH_UP))}, got {catch_up!r}")
        if continue_on_step_failure is not None and not isinstance(continue_on_step_failure, bool):
            raise InvalidArgumentError("continue_on_step_failure must be True, False or None")
        now = time.time()
        if (recurrence is None) == (datastore is None):
            raise InvalidArgumentError(
                "give a schedule either recurrence=ScheduleRecurrence(…) (time-based) or datastore=… with "
                "path_on_datastore=… (fires when that data changes), not both and not neither"
            )
        values: dict[str, Any] = {}
        if recurrence is not None:
            if not isinstance(recurrence, ScheduleRecurrence):
                raise InvalidArgumentError(
                    f"recurrence must be a ScheduleRecurrence, got {type(recurrence).__name__}: "
                    "ScheduleRecurrence(frequency='Hour', interval=1)"
                )
            if path_on_datastore is not None or data_path_parameter_name is not None:
                raise InvalidArgumentError("path_on_datastore and data_path_parameter_name need datastore=…")
            values.update(recurrence=recurrence.to_dict(), anchor_time=recurrence.anchor(now))
        else:
            datastore_name = datastore if isinstance(datastore, str) else getattr(datastore, "name", None)
            if not isinstance(datastore_name, str):
                raise InvalidArgumentError(
                    "datastore must be a Datastore (Datastore.get(ws, name)) or its name, got "
                    f"{type(datastore).__name__}"
                )
            if isinstance(polling_interval, bool) or not isinstance(polling_interval, int) or polling_interval < 1:
                raise InvalidArgumentError(
                    f"polling_interval is in minutes (as in v1) and must be a whole number of at least 1, "
                    f"got {polling_interval!r}"
                )
            if data_path_parameter_name is not None:
                check_parameters(published.definition, {data_path_parameter_name: None}, what)
            path = (path_on_datastore or "").strip("/")
            values.update(
                datastore_name=datastore_name,
                path_on_datastore=path,
                polling_interval=polling_interval,
                data_path_parameter_name=data_path_parameter_name,
                anchor_time=int(now),
                # The content now is the baseline: a later change fires, the present content does not.
                fingerprint=content_fingerprint(workspace, datastore_name, path),
                next_poll_time=now + polling_interval * 60,
            )
        record = ScheduleRecord(
            id=str(uuid.uuid4()),
            name=name,
            description=description,
            pipeline_id=None if pipeline_id is None else str(pipeline_id),
            pipeline_endpoint_id=None if pipeline_endpoint_id is None else str(pipeline_endpoint_id),
            experiment_name=experiment_name,
            parameters=parameters,
            continue_on_step_failure=continue_on_step_failure,
            status=ACTIVE,
            catch_up=catch_up,
            created_time=now,
            **values,
        )
        store.add_schedule(record)
        _wake_agent(workspace)
        return cls(workspace, record)

    @classmethod
    def create_for_pipeline_endpoint(
        cls, workspace: Workspace, name: str, pipeline_endpoint_id: str, experiment_name: str, **kwargs: Any
    ) -> Schedule:
        """v1's way to schedule an endpoint: its default version at each fire."""
        return cls.create(workspace, name, None, experiment_name, pipeline_endpoint_id=pipeline_endpoint_id, **kwargs)

    @classmethod
    def get(cls, workspace: Workspace, id: str) -> Schedule:
        return cls(workspace, _store(workspace).get_schedule(str(id)))

    @classmethod
    def list(
        cls,
        workspace: Workspace,
        active_only: bool = True,
        pipeline_id: str | None = None,
        pipeline_endpoint_id: str | None = None,
    ) -> builtins.list[Schedule]:
        records = _store(workspace).list_schedules(active_only, pipeline_id, pipeline_endpoint_id)
        # A drift detector's schedule (issue 20) is the detector's business, not a pipeline schedule.
        return [cls(workspace, r) for r in records if r.target_kind is None]

    @classmethod
    def get_all(cls, workspace: Workspace, active_only: bool = True) -> builtins.list[Schedule]:
        """v1's older name of :meth:`list`."""
        return cls.list(workspace, active_only)

    @classmethod
    def get_schedules_for_pipeline_id(cls, workspace: Workspace, pipeline_id: str) -> builtins.list[Schedule]:
        return cls.list(workspace, active_only=False, pipeline_id=pipeline_id)

    @classmethod
    def get_schedules_for_pipeline_endpoint_id(
        cls, workspace: Workspace, pipeline_endpoint_id: str
    ) -> builtins.list[Schedule]:
        return cls.list(workspace, active_only=False, pipeline_endpoint_id=pipeline_endpoint_id)

    # -- attributes ------------------------------------------------------------------------------------
    @property
    def id(self) -> str:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def description(self) -> str | None:
        return self._record.description

    @property
    def pipeline_id(self) -> str | None:
        return self._record.pipeline_id

    @property
    def pipeline_endpoint_id(self) -> str | None:
        return self._record.pipeline_endpoint_id

    @property
    def experiment_name(self) -> str:
        return self._record.experiment_name

    @property
    def status(self) -> str:
        """``"Active"`` or ``"Disabled"``."""
        return self._record.status

    @property
    def recurrence(self) -> ScheduleRecurrence | None:
        data = self._record.recurrence
        return None if data is None else ScheduleRecurrence.from_dict(data)

    @property
    def pipeline_parameters(self) -> dict[str, Any]:
        return dict(self._record.parameters)

    @property
    def catch_up(self) -> str:
        return self._record.catch_up

    @property
    def continue_on_step_failure(self) -> bool | None:
        return self._record.continue_on_step_failure

    @property
    def datastore_name(self) -> str | None:
        return self._record.datastore_name

    @property
    def path_on_datastore(self) -> str | None:
        return self._record.path_on_datastore

    @property
    def polling_interval(self) -> int | None:
        return self._record.polling_interval

    @property
    def data_path_parameter_name(self) -> str | None:
        return self._record.data_path_parameter_name

    @property
    def created_time(self) -> float:
        return self._record.created_time

    @property
    def last_fire_time(self) -> int | None:
        return self._record.last_fire_time

    def next_fire_time(self, now: float | None = None) -> float | None:
        """When it fires next (epoch seconds): the next recurrence time not yet handled, or for a
        data-change schedule its next poll; None when disabled."""
        if self.status != ACTIVE:
            return None
        recurrence = self.recurrence
        if recurrence is None:
            return self._record.next_poll_time
        found = recurrence.next_fire_time(self._record.anchor_time, self._record.last_fire_time)
        if found is None:
            return None
        if now is not None and found < now and self.catch_up == "none":
            return recurrence.next_fire_time(self._record.anchor_time, int(now))
        return float(found)

    def __repr__(self) -> str:
        return f"Schedule(name={self.name!r}, id={self.id!r}, status={self.status!r})"

    def _refresh(self) -> None:
        self._record = _store(self._workspace).get_schedule(self.id)

    # -- changes ---------------------------------------------------------------------------------------
    def disable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Stop firing until :meth:`enable`."""
        self._record = _store(self._workspace).update_schedule(self.id, {"status": DISABLED})

    def enable(self, wait_for_provisioning: bool = False, wait_timeout: int = 3600) -> None:
        """Fire again, from now on: fires due while it was disabled are not caught up."""
        store = _store(self._workspace)
        store.skip_schedule_fires(self.id, int(time.time()))
        self._record = store.update_schedule(self.id, {"status": ACTIVE})
        _wake_agent(self._workspace)

    def update(
        self,
        name: str | None = None,
        description: str | None = None,
        recurrence: ScheduleRecurrence | None = None,
        pipeline_parameters: Mapping[str, Any] | None = None,
        status: str | None = None,
        wait_for_provisioning: bool = False,
        wait_timeout: int = 3600,
        datastore: Any = None,
        polling_interval: int | None = None,
        data_path_parameter_name: str | None = None,
        continue_on_step_failure: bool | None = None,
        path_on_datastore: str | None = None,
        catch_up: str | None = None,
    ) -> None:
        """Change what is given; the rest stays."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = validate_entity_name("schedule", name)
        if description is not None:
            changes["description"] = description
        if recurrence is not None:
            if self._record.recurrence is None:
                raise InvalidArgumentError("a data-change schedule cannot take a recurrence: create a new schedule")
            if not isinstance(recurrence, ScheduleRecurrence):
                raise InvalidArgumentError(f"recurrence must be a ScheduleRecurrence, got {type(recurrence).__name__}")
            changes["recurrence"] = recurrence.to_dict()
            changes["anchor_time"] = recurrence.anchor(time.time())
        if pipeline_parameters is not None:
            store = _store(self._workspace)
            pipeline_id = self._record.pipeline_id
            if pipeline_id is None:
                endpoint = store.get_pipeline_endpoint(endpoint_id=self._record.pipeline_endpoint_id)
                pipeline_id = endpoint.versions[endpoint.default_version]
            published = store.get_published_pipeline(pipeline_id)
            what = f"published pipeline {published.name!r} ({published.id})"
            changes["parameters"] = check_parameters(published.definition, pipeline_parameters, what)
        if continue_on_step_failure is not None:
            changes["continue_on_step_failure"] = bool(continue_on_step_failure)
        if catch_up is not None:
            if catch_up not in CATCH_UP:
                raise InvalidArgumentError(f"catch_up must be one of {', '.join(map(repr, CATCH_UP))}")
            changes["catch_up"] = catch_up
        data_change = {
            "datastore": datastore,
            "polling_interval": polling_interval,
            "data_path_parameter_name": data_path_parameter_name,
            "path_on_datastore": path_on_datastore,
        }
        given = [k for k, v in data_change.items() if v is not None]
        if given:
            if self._record.datastore_name is None:
                raise InvalidArgumentError(f"{', '.join(given)} apply only to data-change schedules")
            if datastore is not None:
                changes["datastore_name"] = datastore if isinstance(datastore, str) else datastore.name
            if polling_interval is not None:
                if isinstance(polling_interval, bool) or not isinstance(polling_interval, int) or polling_interval < 1:
                    raise InvalidArgumentError("polling_interval is in minutes and must be at least 1")
                changes["polling_interval"] = polling_interval
            if data_path_parameter_name is not None:
                changes["data_path_parameter_name"] = data_path_parameter_name
            if path_on_datastore is not None:
                changes["path_on_datastore"] = path_on_datastore.strip("/")
            if "datastore_name" in changes or "path_on_datastore" in changes:
                changes["fingerprint"] = content_fingerprint(
                    self._workspace,
                    changes.get("datastore_name", self._record.datastore_name),
                    changes.get("path_on_datastore", self._record.path_on_datastore or ""),
                )
        if changes:
            self._record = _store(self._workspace).update_schedule(self.id, changes)
        if status is not None:
            if status == ACTIVE:
                self.enable()
            elif status == DISABLED:
                self.disable()
            else:
                raise InvalidArgumentError(f"status must be {ACTIVE!r} or {DISABLED!r}, got {status!r}")

    # -- runs ------------------------------------------------------------------------------------------
    def get_pipeline_runs(self) -> builtins.list[Run]:
        """The runs this schedule started, newest first."""
        fires = _store(self._workspace).list_schedule_fires(self.id, limit=1000)
        return [self._workspace.get_run(f.run_id) for f in fires if f.run_id is not None]

    def get_last_pipeline_run(self) -> Run | None:
        """The newest run this schedule started, or None."""
        for fire in _store(self._workspace).list_schedule_fires(self.id, limit=1000):
            if fire.run_id is not None:
                return self._workspace.get_run(fire.run_id)
        return None

    def summary(self, now: float | None = None) -> dict[str, Any]:
        """What the REST API and the CLI show."""
        fires = _store(self._workspace).list_schedule_fires(self.id, limit=1)
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "status": self.status,
            "pipeline_id": self.pipeline_id,
            "pipeline_endpoint_id": self.pipeline_endpoint_id,
            "experiment_name": self.experiment_name,
            "recurrence": None if self._record.recurrence is None else dict(self._record.recurrence),
            "datastore_name": self.datastore_name,
            "path_on_datastore": self.path_on_datastore,
            "polling_interval": self.polling_interval,
            "catch_up": self.catch_up,
            "created_time": self.created_time,
            "next_fire_time": self.next_fire_time(now),
            "last_run_id": fires[0].run_id if fires else None,
        }
