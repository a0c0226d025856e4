"""``DataDriftDetector`` (Azure ML v1's name): compares a baseline dataset with a time-series target
dataset — or a deployed service's captured inputs — one interval at a time.

A detector is a definition in the metadata store (``DriftStore``). Each check is a run in the experiment
``<name>-drift``: ``run(target_date)`` and ``backfill(start, end)`` make a parent run (run type
``mlws.datadrift``) that the dispatcher agent drives (``driver.py``), with one child run per interval
holding the measures as metrics, a table per feature and plotly figures (``check.py``). A schedule
(``enable_schedule``) fires one check per interval through the pipelines' scheduler, each exactly once.

Datasets are kept by reference: a baseline by name and version, a target by name at its latest version
(a service's captured inputs and a re-registered folder grow by new versions). A dataset given
unregistered is registered as ``<name>-baseline`` / ``<name>-target`` first, so a check reads the very
files the detector was made with.
"""

from __future__ import annotations

import builtins
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.compute import ComputeTarget
from ..core.entities import SUBMITTED_FROM
from ..core.experiment import Experiment
from ..core.interfaces.drift import DriftDetectorRecord, DriftStore
from ..core.interfaces.pipeline_publishing import ACTIVE, DISABLED, PipelinePublishingStore, ScheduleRecord
from ..core.jobs import target_backend
from ..core.names import validate_entity_name
from ..core.runs import Run
from ..core.services.liveness import HOSTNAME
from ..core.status import RunStatus
from ..errors import InvalidArgumentError, NotFoundError
from .alerts import AlertConfiguration
from .intervals import Interval, check_frequency, interval_containing, intervals_starting_in, iso, next_start
from .measures import MAX_FEATURES
from .results import (
    CAPTURE_NON_FEATURES,
    CAPTURE_TIMESTAMP,
    DETECTOR_ID_PROPERTY,
    DETECTOR_PROPERTY,
    drift_output,
    experiment_name,
    figures_of,
)

if TYPE_CHECKING:
    import datetime as dt

    from ..core.workspace import Workspace
    from ..data.dataset import TabularDataset

__all__ = ["DRIFT_RUN_TYPE", "DataDriftDetector"]

DRIFT_RUN_TYPE = "mlws.datadrift"
CHECK_TARGET = "local"  # a check is driven by the local target's agent, as a pipeline run is


def _store(workspace: Workspace) -> DriftStore:
    return workspace.metadata


def _schedules(workspace: Workspace) -> PipelinePublishingStore:
    return workspace.metadata


def _dataset_api() -> Any:
    # The datasets feature through its public facade, as a user's code reaches it.
    from ..data.dataset import Dataset

    return Dataset


def _recurrence_api() -> Any:
    # A detector's schedule is one of the pipelines' schedules: their recurrence computes its fire times.
    from ..pipelines.recurrence import ScheduleRecurrence

    return ScheduleRecurrence


def _threshold(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < float(value) < 1:
        raise InvalidArgumentError(
            "drift_threshold must be a number between 0 and 1 (a drift magnitude of 0-100 divided by 100), "
            f"got {value!r}"
        )
    return float(value)


#: A monthly schedule fires on the same day of every month: day 1 + latency exists in each month only
#: up to 27 days of latency (February), so longer ones would check early or skip a month.
MAX_MONTH_LATENCY = 27


def _latency(value: Any, frequency: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidArgumentError(f"latency is a whole number of days (0 or more), got {value!r}")
    if frequency == "Month" and value > MAX_MONTH_LATENCY:
        raise InvalidArgumentError(
            f"latency {value} is too long for a monthly detector (at most {MAX_MONTH_LATENCY} days, so each "
            "month's check falls in the next month); use a weekly or daily frequency for longer delays"
        )
    return value


def _schedule_id(name: str, created_time: float) -> str:
    """A detector's schedule id, the same in every process: two that enable it at once make one schedule."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"mlws-drift-schedule:{name}:{created_time!r}").hex


def _service_names(services: Any) -> builtins.list[str]:
    if isinstance(services, str):
        return [services]
    if isinstance(services, Sequence) and all(isinstance(s, str) for s in services):
        return list(services)
    raise InvalidArgumentError(f"services is a list of deployed service names, got {services!r}")


def _compute_name(workspace: Workspace, compute_target: Any) -> str | None:
    if compute_target is None:
        return None
    name = compute_target if isinstance(compute_target, str) else getattr(compute_target, "name", None)
    if not isinstance(name, str):
        raise InvalidArgumentError(
            f"compute_target is a ComputeTarget or its name, got {type(compute_target).__name__}"
        )
    ComputeTarget(workspace, name)  # ComputeTargetNotFoundError names the targets there are
    return name


def _features(value: Any) -> builtins.list[str] | None:
    if value is None:
        return None
    if isinstance(value, str) or not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
        raise InvalidArgumentError(f"feature_list is a list of column names, got {value!r}")
    if not value:
        raise InvalidArgumentError("feature_list is empty; leave it out to use every column the datasets share")
    if len(value) > MAX_FEATURES:
        raise InvalidArgumentError(
            f"feature_list names {len(value)} features; a detector compares at most {MAX_FEATURES}: choose the ones "
            "that matter"
        )
    return list(dict.fromkeys(value))


def _tabular(dataset: Any, what: str) -> TabularDataset:
    from ..data.dataset import TabularDataset

    if not isinstance(dataset, TabularDataset):
        raise InvalidArgumentError(
            f"{what} must be a TabularDataset (Dataset.Tabular.from_*_files or a registered tabular dataset), "
            f"got {type(dataset).__name__}"
        )
    return dataset


def _training_dataset(workspace: Workspace, ref: str, model: str) -> Any:
    """The dataset a model version recorded: ``name:version:digest`` (a registered version), else an id."""
    name, _, rest = ref.partition(":")
    version = rest.partition(":")[0]
    if name and version.isdigit():
        return _dataset_api().get_by_name(workspace, name, int(version))
    if ref.startswith("unregistered:"):
        raise InvalidArgumentError(
            f"model {model} recorded an unregistered training dataset; pass baseline_dataset=... instead"
        )
    return _dataset_api().get_by_id(workspace, ref)


def _columns(dataset: TabularDataset) -> builtins.list[str]:
    schema = dataset.schema
    if schema is None:
        return builtins.list(dataset.take(1).to_pandas_dataframe().columns)
    return [c["name"] for c in schema]


def _registered(dataset: TabularDataset, workspace: Workspace, name: str, what: str) -> TabularDataset:
    """The dataset itself if registered, else registered as ``name`` (a new version if that exists)."""
    if dataset.is_registered:
        return dataset
    registered = dataset.register(
        workspace, name, description=f"the {what} of drift detector {name.rsplit('-', 1)[0]}", create_new_version=True
    )
    return _tabular(registered, what)


def _check_features(
    features: builtins.list[str] | None, baseline: Sequence[str], target: Sequence[str], skip: Sequence[str]
) -> None:
    """The named features exist on both sides; without a list, the shared columns number at most MAX_FEATURES."""
    if features is None:
        shared = [c for c in baseline if c in target and c not in skip]
        if not shared:
            raise InvalidArgumentError(
                f"the baseline ({', '.join(baseline)}) and the target ({', '.join(target)}) share no feature column; "
                "compare datasets of the same columns"
            )
        if len(shared) > MAX_FEATURES:
            raise InvalidArgumentError(
                f"the datasets share {len(shared)} feature columns; a detector compares at most {MAX_FEATURES}: "
                "pass feature_list=[...] with the ones that matter"
            )
        return
    for side, columns in (("baseline", baseline), ("target", target)):
        missing = [f for f in features if f not in columns]
        if missing:
            raise InvalidArgumentError(
                f"feature_list names {', '.join(map(repr, missing))}, which the {side} dataset does not have; "
                f"its columns: {', '.join(columns)}"
            )


class DataDriftDetector:
    """A data drift monitor. Make one with :meth:`create_from_datasets` (or :meth:`create_from_model`
    for a deployed service), find one with :meth:`get_by_name`."""

    def __init__(self, workspace: Workspace, record: DriftDetectorRecord) -> None:
        self._workspace = workspace
        self._record = record

    # -- making and finding ----------------------------------------------------------------------------
    @classmethod
    def create_from_datasets(
        cls,
        workspace: Workspace,
        name: str,
        baseline_dataset: Any,
        target_dataset: Any,
        compute_target: Any = None,
        frequency: str = "Week",
        feature_list: Sequence[str] | None = None,
        alert_config: AlertConfiguration | None = None,
        drift_threshold: float = 0.2,
        latency: int = 0,
    ) -> DataDriftDetector:
        """A detector comparing ``baseline_dataset`` with each ``frequency`` interval of
        ``target_dataset`` (which must have a timestamp column: ``with_timestamp_columns``)."""
        definition = cls._common(workspace, name, compute_target, frequency, feature_list, alert_config)
        definition.update(
            drift_threshold=_threshold(drift_threshold), latency=_latency(latency, definition["frequency"])
        )
        baseline = _tabular(baseline_dataset, "baseline_dataset")
        target = _tabular(target_dataset, "target_dataset")
        timestamp = target.timestamp_columns[0]
        if timestamp is None:
            raise InvalidArgumentError(
                "target_dataset has no timestamp column, so it cannot be split into intervals; set one with "
                "target_dataset.with_timestamp_columns(timestamp='<column>')"
            )
        target_columns = _columns(target)
        _check_features(definition["features"], _columns(baseline), target_columns, (timestamp,))
        baseline = _registered(baseline, workspace, f"{name}-baseline", "baseline")
        target = _registered(target, workspace, f"{name}-target", "target")
        definition.update(
            drift_type="DatasetBased",
            baseline={"name": baseline.name, "version": baseline.version},
            target={"name": target.name, "version": "latest", "timestamp": timestamp},
        )
        return cls._add(workspace, name, definition)

    @classmethod
    def create_from_model(
        cls,
        workspace: Workspace,
        name: str,
        model_name: str,
        model_version: int,
        services: Sequence[str] | str,
        compute_target: Any = None,
        frequency: str = "Day",
        feature_list: Sequence[str] | None = None,
        alert_config: AlertConfiguration | None = None,
        drift_threshold: float = 0.2,
        latency: int = 0,
        baseline_dataset: Any = None,
    ) -> DataDriftDetector:
        """A detector of a deployed service's inputs: the target is the service's captured inputs
        (dataset ``<service>-inputs``, timestamp ``$time``; deploy with data collection on), the
        baseline ``baseline_dataset`` or else the model version's ``training`` dataset."""
        from ..core.model import Model

        definition = cls._common(workspace, name, compute_target, frequency, feature_list, alert_config)
        definition.update(
            drift_threshold=_threshold(drift_threshold), latency=_latency(latency, definition["frequency"])
        )
        service_names = _service_names(services)
        if len(service_names) != 1:
            raise InvalidArgumentError(
                f"services names the one deployed service whose inputs are monitored, got {services!r}; "
                "make one detector per service"
            )
        service = service_names[0]
        workspace.metadata.get_webservice(service)  # NotFoundError naming the service
        model = Model(workspace, model_name, version=model_version)
        if baseline_dataset is None:
            training = [d for purpose, d in model.datasets if purpose == "training"]
            if not training:
                raise InvalidArgumentError(
                    f"model {model_name}:{model_version} was registered without a training dataset; pass "
                    "baseline_dataset=... (or register the model with datasets=[('training', dataset)])"
                )
            baseline_dataset = _training_dataset(workspace, training[0], f"{model_name}:{model_version}")
        baseline = _registered(
            _tabular(baseline_dataset, "baseline_dataset"), workspace, f"{name}-baseline", "baseline"
        )
        definition.update(
            drift_type="ModelBased",
            model={"name": model_name, "version": int(model_version)},
            service=service,
            baseline={"name": baseline.name, "version": baseline.version},
            target={"name": f"{service}-inputs", "version": "latest", "timestamp": CAPTURE_TIMESTAMP},
        )
        # The service's columns are known once it captured inputs: the baseline's stand in for them.
        baseline_columns = _columns(baseline)
        features = definition["features"]
        _check_features(features, baseline_columns, features or baseline_columns, CAPTURE_NON_FEATURES)
        return cls._add(workspace, name, definition)

    @classmethod
    def _common(
        cls,
        workspace: Workspace,
        name: str,
        compute_target: Any,
        frequency: str,
        feature_list: Sequence[str] | None,
        alert_config: AlertConfiguration | None,
    ) -> dict[str, Any]:
        validate_entity_name("drift detector", name)
        if alert_config is not None and not isinstance(alert_config, AlertConfiguration):
            raise InvalidArgumentError(
                f"alert_config is an AlertConfiguration(email_addresses=[...], webhook_url=...), got "
                f"{type(alert_config).__name__}"
            )
        try:
            _store(workspace).get_drift_detector(name)
        except NotFoundError:
            pass
        else:
            raise InvalidArgumentError(
                f"a drift detector named {name!r} already exists; get it with DataDriftDetector.get_by_name(ws, "
                f"{name!r}), update it, or delete it first"
            )
        return {
            "compute_target": _compute_name(workspace, compute_target),
            "frequency": check_frequency(frequency),
            "features": _features(feature_list),
            "alert_config": (alert_config or AlertConfiguration()).to_dict(),
        }

    @classmethod
    def _add(cls, workspace: Workspace, name: str, definition: dict[str, Any]) -> DataDriftDetector:
        # Its checks carry this id: a detector made again under the same name starts with no results.
        definition["id"] = uuid.uuid4().hex
        now = time.time()
        _store(workspace).add_drift_detector(DriftDetectorRecord(name, definition, now, now))
        return cls.get_by_name(workspace, name)

    @classmethod
    def get_by_name(cls, workspace: Workspace, name: str) -> DataDriftDetector:
        return cls(workspace, _store(workspace).get_drift_detector(name))

    @classmethod
    def list(
        cls, workspace: Workspace, baseline_dataset: Any = None, target_dataset: Any = None
    ) -> builtins.list[DataDriftDetector]:
        """Every detector (v1: optionally those of a baseline and/or target dataset), by name."""
        found = [cls(workspace, r) for r in _store(workspace).list_drift_detectors()]
        for side, dataset in (("baseline", baseline_dataset), ("target", target_dataset)):
            if dataset is not None:
                wanted = dataset if isinstance(dataset, str) else getattr(dataset, "name", None)
                found = [d for d in found if d._record.definition[side]["name"] == wanted]
        return found

    # -- attributes --------------------------------------------------------------------------------------
    @property
    def workspace(self) -> Workspace:
        return self._workspace

    @property
    def name(self) -> str:
        return self._record.name

    @property
    def _definition(self) -> Mapping[str, Any]:
        return self._record.definition

    @property
    def baseline_dataset(self) -> TabularDataset:
        ref = self._definition["baseline"]
        return _tabular(_dataset_api().get_by_name(self._workspace, ref["name"], ref["version"]), "baseline")

    @property
    def target_dataset(self) -> TabularDataset:
        ref = self._definition["target"]
        dataset = _tabular(_dataset_api().get_by_name(self._workspace, ref["name"], ref["version"]), "target")
        if dataset.timestamp_columns[0] != ref["timestamp"]:
            dataset = dataset.with_timestamp_columns(timestamp=ref["timestamp"])
        return dataset

    @property
    def service(self) -> str | None:
        return self._definition.get("service")

    @property
    def compute_target(self) -> str | None:
        return self._definition.get("compute_target")

    @property
    def frequency(self) -> str:
        return str(self._definition["frequency"])

    @property
    def interval(self) -> int:
        return 1  # v1's interval: every `frequency`

    @property
    def feature_list(self) -> builtins.list[str] | None:
        features = self._definition.get("features")
        return list(features) if features is not None else None

    @property
    def drift_threshold(self) -> float:
        return float(self._definition["drift_threshold"])

    @property
    def latency(self) -> int:
        return int(self._definition["latency"])

    @property
    def alert_config(self) -> AlertConfiguration:
        return AlertConfiguration.from_dict(self._definition.get("alert_config"))

    @property
    def drift_type(self) -> str:
        return str(self._definition.get("drift_type", "DatasetBased"))

    @property
    def created_time(self) -> float:
        return self._record.created_time

    @property
    def modified_time(self) -> float:
        return self._record.updated_time

    @property
    def schedule_id(self) -> str:
        """The id of its schedule (one per detector, the same in every process)."""
        return _schedule_id(self.name, self._record.created_time)

    @property
    def detector_id(self) -> str:
        """What its checks carry (``mlws.drift.detector_id``): a detector made again starts afresh."""
        return str(self._definition.get("id", ""))

    def _schedule(self) -> ScheduleRecord | None:
        try:
            return _schedules(self._workspace).get_schedule(self.schedule_id)
        except NotFoundError:
            return None

    @property
    def enabled(self) -> bool:
        """Whether its schedule runs."""
        schedule = self._schedule()
        return schedule is not None and schedule.status == ACTIVE

    @property
    def state(self) -> str:
        """v1's states: ``"Enabled"`` (scheduled) or ``"Disabled"``."""
        return "Enabled" if self.enabled else "Disabled"

    def __repr__(self) -> str:
        return (
            f"DataDriftDetector(name={self.name!r}, baseline={self._definition['baseline']['name']!r}, "
            f"target={self._definition['target']['name']!r}, frequency={self.frequency!r}, "
            f"drift_threshold={self.drift_threshold}, state={self.state!r})"
        )

    def _refresh(self) -> None:
        self._record = _store(self._workspace).get_drift_detector(self.name)

    # -- changing ------------------------------------------------------------------------------------------
    def update(
        self,
        services: Any = None,
        compute_target: Any = None,
        feature_list: Sequence[str] | None = None,
        schedule_start: Any = None,
        alert_config: AlertConfiguration | None = None,
        drift_threshold: float | None = None,
        wait_for_completion: bool = True,
        *,
        frequency: str | None = None,
        latency: int | None = None,
    ) -> DataDriftDetector:
        """Change what is given (v1's signature; ``services`` and ``schedule_start`` are v1's and only
        checked); answers the detector. A changed frequency or latency moves its schedule."""
        if services is not None:
            wanted = _service_names(services)
            if wanted != ([self.service] if self.service else []):
                raise InvalidArgumentError(
                    "a detector monitors the service it was made for; make a new detector for another service"
                )
        self._refresh()
        definition = dict(self._definition)
        if compute_target is not None:
            definition["compute_target"] = _compute_name(self._workspace, compute_target)
        if feature_list is not None:
            features = _features(feature_list)
            target_columns = (
                features if self.service else _columns(self.target_dataset)
            )  # a service's columns are known once it captured inputs
            _check_features(features, _columns(self.baseline_dataset), target_columns or [], ())
            definition["features"] = features
        if alert_config is not None:
            if not isinstance(alert_config, AlertConfiguration):
                raise InvalidArgumentError(
                    "alert_config is an AlertConfiguration(email_addresses=[...], webhook_url=...)"
                )
            definition["alert_config"] = alert_config.to_dict()
        if drift_threshold is not None:
            definition["drift_threshold"] = _threshold(drift_threshold)
        if frequency is not None:
            definition["frequency"] = check_frequency(frequency)
        if latency is not None or frequency is not None:
            definition["latency"] = _latency(
                latency if latency is not None else definition["latency"], definition["frequency"]
            )
        moved = (definition["frequency"], definition["latency"]) != (self.frequency, self.latency)
        self._record = _store(self._workspace).update_drift_detector(
            self.name, definition, time.time(), self.schedule_id
        )
        if moved and self.enabled:
            self._reschedule()
        return self

    def delete(self, wait_for_completion: bool = True) -> None:
        """Remove the detector and its schedule; its runs stay."""
        self._refresh()
        self.disable_schedule()
        _store(self._workspace).delete_drift_detector(self.name)

    # -- checking ------------------------------------------------------------------------------------------
    def run(
        self,
        target_date: Any,
        services: Any = None,
        compute_target: Any = None,
        create_compute_target: bool = False,
        feature_list: Sequence[str] | None = None,
        drift_threshold: float | None = None,
    ) -> Run:
        """Check the interval that contains ``target_date``; answers the run (wait with
        ``run.wait_for_completion()``)."""
        interval = interval_containing(target_date, self.frequency)
        if services is not None and _service_names(services) != ([self.service] if self.service else []):
            raise InvalidArgumentError(
                f"detector {self.name!r} monitors {self.service or 'no service'}; make a detector per service"
            )
        features = _features(feature_list)
        if features is not None:
            baseline = _columns(self.baseline_dataset)
            _check_features(features, baseline, baseline if self.service else _columns(self.target_dataset), ())
        return self._submit([interval], "run", compute_target, features, drift_threshold)

    def backfill(
        self, start_date: Any, end_date: Any, compute_target: Any = None, create_compute_target: bool = False
    ) -> Run:
        """Check every interval that starts in ``[start_date, end_date)``: one child run each."""
        intervals = intervals_starting_in(start_date, end_date, self.frequency)
        return self._submit(intervals, "backfill", compute_target, None, None)

    def _submit(
        self,
        intervals: Sequence[Interval],
        kind: str,
        compute_target: Any,
        features: builtins.list[str] | None,
        drift_threshold: float | None,
        properties: Mapping[str, str] | None = None,
    ) -> Run:
        """The parent run of a check, handed to the agent's driver."""
        self._refresh()
        definition = dict(self._definition)
        if features is not None:
            definition["features"] = features
        if drift_threshold is not None:
            definition["drift_threshold"] = _threshold(drift_threshold)
        target = _compute_name(self._workspace, compute_target) or definition.get("compute_target")
        spec = {
            "kind": DRIFT_RUN_TYPE,
            "detector": self.name,
            "definition": definition,
            "intervals": [[iso(s), iso(e)] for s, e in intervals],
            "check_kind": kind,
            "compute_target": target,
        }
        first, last = intervals[0][0], intervals[-1][1]
        experiment = Experiment(self._workspace, experiment_name(self.name))
        run = Run.create(
            experiment,
            status=RunStatus.QUEUED,
            run_type=DRIFT_RUN_TYPE,
            display_name=f"{kind} {first.date().isoformat()}/{last.date().isoformat()}",
            properties={
                "azureml.runsource": DRIFT_RUN_TYPE,
                DETECTOR_PROPERTY: self.name,
                DETECTOR_ID_PROPERTY: self.detector_id,
                SUBMITTED_FROM: HOSTNAME,  # the agent of this machine drives it (a team workspace's too)
                **(properties or {}),
            },
            compute_target=CHECK_TARGET,
            job_spec=spec,
        )
        try:
            target_backend(self._workspace, CHECK_TARGET).submit(run.id)
        except BaseException as exc:  # never left Queued with nobody to drive it
            message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
            self._workspace.services.tracking.try_transition(
                run.id, RunStatus.QUEUED, RunStatus.FAILED, end_time=time.time(), error={"message": message}
            )
            raise
        return run

    # -- schedule ------------------------------------------------------------------------------------------
    def _schedule_record(self, now: float) -> ScheduleRecord:
        """Fires at each interval's end plus ``latency`` days, from the end of the current interval on."""
        import datetime as dt

        _start, end = interval_containing(dt.datetime.fromtimestamp(now, dt.UTC), self.frequency)
        first = end + dt.timedelta(days=self.latency)
        recurrence = _recurrence_api()(frequency=self.frequency, interval=1, start_time=first)
        return ScheduleRecord(
            id=self.schedule_id,
            name=f"drift-{self.name}",
            experiment_name=experiment_name(self.name),
            status=ACTIVE,
            catch_up="all",  # every interval is checked once, even those that ended while nothing ran
            created_time=now,
            anchor_time=int(first.timestamp()),
            recurrence=recurrence.to_dict(),
            parameters={"detector": self.name},
            description=f"data drift checks of detector {self.name}",
            target_kind="drift",
        )

    def enable_schedule(self, create_compute_target: bool = False, wait_for_completion: bool = True) -> None:
        """Check each interval once, ``latency`` days after it ends, from the current interval on
        (whatever runs the workspace fires it: the dispatcher agent or a Jupyter server)."""
        self._refresh()
        existing = self._schedule()
        if existing is not None and existing.status == ACTIVE:
            return
        now = time.time()
        record = self._schedule_record(now)
        schedules = _schedules(self._workspace)
        if existing is None:
            try:
                schedules.add_schedule(record)
            except Exception:
                # Another process enabled it at the same moment: the id is the same, so one schedule
                # exists; anything else is a real error.
                if self._schedule() is None:
                    raise
        else:
            # Enabled again: intervals that ended while it was off are not checked now (backfill them).
            schedules.update_schedule(
                record.id,
                {"status": ACTIVE, "recurrence": record.recurrence, "anchor_time": record.anchor_time},
            )
            schedules.skip_schedule_fires(record.id, int(now))
        if self._record.schedule_id != record.id:
            self._record = _store(self._workspace).update_drift_detector(
                self.name, self._definition, self._record.updated_time, record.id
            )
        _wake_agent(self._workspace)

    def disable_schedule(self, wait_for_completion: bool = True) -> None:
        if self._schedule() is not None:
            _schedules(self._workspace).update_schedule(self.schedule_id, {"status": DISABLED})

    def _reschedule(self) -> None:
        record = self._schedule_record(time.time())
        _schedules(self._workspace).update_schedule(
            record.id, {"recurrence": record.recurrence, "anchor_time": record.anchor_time}
        )

    def next_check_time(self) -> dt.datetime | None:
        """When the schedule fires next (None when it is off)."""
        import datetime as dt

        record = self._schedule()
        if record is None or record.status != ACTIVE or record.recurrence is None:
            return None
        fire = _recurrence_api().from_dict(record.recurrence).next_fire_time(record.anchor_time, record.last_fire_time)
        return None if fire is None else dt.datetime.fromtimestamp(fire, dt.UTC)

    # -- results -------------------------------------------------------------------------------------------
    def get_output(
        self, start_time: Any = None, end_time: Any = None, run_id: str | None = None
    ) -> tuple[builtins.list[dict[str, Any]], builtins.list[dict[str, Any]]]:
        """``(results, metrics)`` as v1: one result per interval (the latest check of it) that overlaps
        ``[start_time, end_time]``, or those of ``run_id`` (a check or one interval's run)."""
        return drift_output(self._workspace, self.name, self.detector_id, self.drift_type, start_time, end_time, run_id)

    def show(self, start_time: Any = None, end_time: Any = None) -> dict[str, Any]:
        """Plotly figures: the drift magnitude over time, and per interval the feature contributions."""
        return figures_of(self._workspace, self.name, self.detector_id, self.drift_threshold, start_time, end_time)


def _wake_agent(workspace: Workspace) -> None:
    """Something must fire the schedule when no Jupyter server runs: the local target's agent stays up
    while an enabled schedule exists."""
    ComputeTarget(workspace, CHECK_TARGET).backend().ensure_dispatching()


def interval_of_fire(fire_time: int, frequency: str, latency: int) -> Interval:
    """The interval a schedule's fire checks: the one that ended ``latency`` days before it."""
    import datetime as dt

    ended = dt.datetime.fromtimestamp(fire_time, dt.UTC) - dt.timedelta(days=latency)
    start, end = interval_containing(ended - dt.timedelta(seconds=1), frequency)
    assert next_start(start, frequency) == end
    return start, end
