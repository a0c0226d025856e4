"""``HyperDriveRun`` (v1's name): a sweep run, whose children are its trials, ranked by the primary
metric; and :func:`submit_sweep`, what ``exp.submit(HyperDriveConfig(...))`` does."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.jobs import create_job_run
from ..core.runs import Run
from ..core.status import TERMINAL_STATUSES, RunStatus
from ..errors import ActivityFailedException, InvalidArgumentError, InvalidStateError
from .config import HYPERDRIVE_RUN_TYPE
from .driver import HYPERPARAMETERS_PROPERTY, stop_trials, trial_index
from .views import sweep_children

if TYPE_CHECKING:
    from ..core.experiment import Experiment
    from .config import HyperDriveConfig

__all__ = ["HyperDriveRun", "submit_sweep"]


def submit_sweep(
    experiment: Experiment, config: HyperDriveConfig, tags: Mapping[str, Any] | None = None
) -> HyperDriveRun:
    """Create the sweep run (its snapshot taken, its environment registered, its trials' target
    checked now, so a mistake shows here and not in the agent) and hand it to the agent."""
    from ..core.jobs import target_backend

    spec = config.sweep_spec()
    target_backend(experiment.workspace, spec["child"]["compute_target"]).check()
    run, backend = create_job_run(
        experiment,
        spec,
        tags=tags,
        # a script given as content (a notebook cell's, by %%submit --sweep) is in the sweep's snapshot
        extra_files=getattr(config.run_config, "extra_files", None),
        run_id=config.custom_run_id,
        display_name=getattr(config.run_config, "display_name", None),  # %%submit --sweep names it (issue 22)
        properties={"azureml.runsource": "hyperdrive", "primary_metric_config": json.dumps(spec["primary_metric"])},
    )
    backend.submit(run.id)
    return HyperDriveRun(experiment, run.id)


class HyperDriveRun(Run):
    """A sweep (run type ``hyperdrive``): its child runs are its trials."""

    def __init__(self, experiment: Experiment, run_id: str, hyperdrive_config: Any = None, **kwargs: Any) -> None:
        super().__init__(experiment, run_id, **kwargs)
        if self._record.run_type != HYPERDRIVE_RUN_TYPE:
            raise InvalidArgumentError(
                f"run {run_id!r} is a {self._record.run_type!r} run, not a sweep; use Run(experiment, run_id)"
            )
        self.hyperdrive_config = hyperdrive_config

    @property
    def _sweep_spec(self) -> dict[str, Any]:
        return self._queries.job_spec(self.id)

    @property
    def primary_metric(self) -> str:
        return str(self._sweep_spec["primary_metric"]["name"])

    def _trials(self) -> list[Run]:
        records = [r for r in self._queries.children(self.id) if trial_index(self.id, r.run_id) is not None]
        records.sort(key=lambda r: trial_index(self.id, r.run_id) or 0)
        return [Run(self._experiment, r.run_id, _record=r) for r in records]

    # A trial is a plain run, not a sweep: the base class would answer HyperDriveRuns.
    def get_children(self, recursive: bool = False) -> list[Run]:  # type: ignore[override]
        """The trials (and anything else parented here), as plain runs: a trial is not a sweep."""
        return [Run(self._experiment, r.run_id, _record=r) for r in self._queries.children(self.id, recursive)]

    def get_children_sorted_by_primary_metric(
        self, top: int = 0, reverse: bool = False, discard_no_metric: bool = False
    ) -> list[dict[str, Any]]:
        """v1's ranking: ``[{"run_id", "hyperparameters", "best_primary_metric", "status"}]``, best first
        (``reverse`` flips it); a trial's value is the best of its series; trials without the metric
        come last (or not at all with ``discard_no_metric``); ``top`` > 0 keeps that many."""
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise InvalidArgumentError(f"top must be a whole number >= 0 (0: all), got {top!r}")
        goal = self._sweep_spec["primary_metric"]["goal"]
        rows = [
            {
                "run_id": c["run_id"],
                "hyperparameters": c["hyperparameters"],
                "best_primary_metric": c["best_primary_metric"],
                "status": c["status"],
            }
            for c in sweep_children(self._workspace, self.id, goal)
        ]
        with_metric = [r for r in rows if r["best_primary_metric"] is not None]
        with_metric.sort(key=lambda r: r["best_primary_metric"], reverse=(goal == "maximize") != reverse)
        ranked = (
            with_metric if discard_no_metric else with_metric + [r for r in rows if r["best_primary_metric"] is None]
        )
        return ranked[:top] if top else ranked

    def get_best_run_by_primary_metric(
        self, include_failed: bool = True, include_canceled: bool = True, include_resume_from_runs: bool = True
    ) -> Run | None:
        """The trial with the best primary metric (v1's defaults count failed and canceled trials:
        a trial stopped early may still be the best so far); None when no trial logged it."""
        excluded = set()
        if not include_failed:
            excluded.add(RunStatus.FAILED.value)
        if not include_canceled:
            excluded.add(RunStatus.CANCELED.value)
        for row in self.get_children_sorted_by_primary_metric(discard_no_metric=True):
            if row["status"] not in excluded:
                return Run(self._experiment, row["run_id"])
        return None

    def get_hyperparameters(self) -> dict[str, dict[str, Any]]:
        """``{trial run id: {argument: value}}`` for every trial launched."""
        return {
            run.id: json.loads(self._queries.properties(run.id).get(HYPERPARAMETERS_PROPERTY, "{}"))
            for run in self._trials()
        }

    def get_metrics(self, name: str | None = None, recursive: bool = False) -> dict[str, Any]:
        """``{trial run id: {metric: value}}`` for every trial (v1's HyperDriveRun.get_metrics)."""
        return {run.id: self._queries.metrics(run.id, name) for run in self._trials()}

    def get_diagnostics(self) -> dict[str, Any]:
        """The sweep's view: its trials, their values and metric, and the controller's decisions."""
        from .views import sweep_view

        return sweep_view(self._workspace, self.id)

    def fail(self, error: BaseException | str | None = None, error_details: Any = None) -> None:
        raise InvalidStateError("a sweep cannot be failed by hand (v1); cancel() it instead")

    # v1's HyperDriveRun.cancel answers whether it canceled (Run.cancel answers nothing).
    def cancel(self) -> bool:  # type: ignore[override]
        """Cancel the sweep: no more trials start, and the ones not ended are stopped. False if it
        had ended already (v1)."""
        if self._queries.run(self.id).status in TERMINAL_STATUSES:
            return False
        super().cancel()
        record = self._queries.run(self.id)
        if record.status == RunStatus.CANCELED:  # nobody was driving it yet: stop its trials here
            stop_trials(self._workspace, self.id, "the sweep was canceled")
        self._record = self._queries.run(self.id)
        return True

    # v1's HyperDriveRun signature (wait_post_processing; answers the details, as v1 does).
    def wait_for_completion(  # type: ignore[override]
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout_seconds: float | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        """Block until the sweep ended; ``show_output`` prints each trial's status changes. A failed
        sweep raises unless ``raise_on_error=False``. Answers ``get_details()`` (v1)."""
        timeout = kwargs.pop("timeout", timeout_seconds)
        if kwargs:
            raise InvalidArgumentError(f"wait_for_completion() got unknown keyword(s) {sorted(kwargs)}")
        seen: dict[str, str] = {}
        show = (lambda: self._print_changes(seen)) if show_output else None
        record = self._wait_driven(timeout, show, "sweep")
        if show_output:
            print(f"HyperDriveRun {self.id}: {record.status.value}", file=sys.stdout, flush=True)
        if raise_on_error and record.status == RunStatus.FAILED:
            message = (record.error or {}).get("message") or "the sweep failed"
            raise ActivityFailedException(f"sweep {self.id} failed: {message}")
        return self.get_details()

    def _print_changes(self, seen: dict[str, str]) -> None:
        for record in self._queries.children(self.id):
            state = record.status.value
            if seen.get(record.run_id) == state:
                continue
            seen[record.run_id] = state
            print(f"{record.run_id}: {state}", file=sys.stdout, flush=True)
