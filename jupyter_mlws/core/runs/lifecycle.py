"""A run's lifecycle and family: start, complete, fail, cancel, children, details, models."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from ...errors import InvalidArgumentError, MlwsError
from ..names import validate_run_id
from ..status import TERMINAL_STATUSES, RunStatus
from .base import RunBase

if TYPE_CHECKING:
    from ..model import Model
    from .run import Run

__all__ = ["RunLifecycle"]


class RunLifecycle(RunBase):
    _outputs_dir: Path | None = None  # start_logging(outputs=folder): stored when the run completes

    def _transition(self, new: RunStatus, **fields: Any) -> None:
        self._record = self._tracking.transition(self._record, new, **fields)

    def start(self) -> None:
        """Mark a run that was created NotStarted as Running."""
        self._transition(RunStatus.RUNNING, start_time=time.time())

    def complete(self) -> None:
        """Flush every logged point, then mark the run Completed.

        A run started with ``start_logging(outputs=folder)`` first stores that folder's files under
        ``outputs/`` (Azure ML v1 uploads the tracked outputs folder when the run ends)."""
        self._store_outputs()
        self._record = self._tracking.complete(self._record)

    def fail(self, error: BaseException | str | None = None, error_details: Any = None) -> None:
        """Mark the run Failed; ``error`` (an exception or a message) goes into its details.

        A ``start_logging(outputs=folder)`` folder is stored first, as a failed job's outputs are."""
        self._store_outputs()
        self._record = self._tracking.fail(self._record, error, error_details)

    def _store_outputs(self) -> None:
        """Store the ``start_logging(outputs=folder)`` folder under ``outputs/`` as the run ends. A
        folder that cannot be stored must not keep the run Running: a warning says why instead."""
        outputs, self._outputs_dir = self._outputs_dir, None
        if outputs is None or not outputs.is_dir():
            return
        try:
            self._logging.upload_folder(self._id, "outputs", outputs, True)
        except (MlwsError, OSError) as exc:
            warnings.warn(
                f"run {self._id}: the outputs folder {outputs} was not stored ({exc}); "
                "fix the file named and store it with run.upload_folder('outputs', folder)",
                RuntimeWarning,
                stacklevel=3,
            )

    def cancel(self) -> None:
        """Cancel the run from any process.

        An interactive run, or a job nobody has picked up yet, ends Canceled at once; a job that is
        executing is asked to stop (CancelRequested) and its supervisor stops it (SIGTERM, then
        SIGKILL after a grace period) and marks it Canceled.
        """
        if self._record.compute_target is not None:
            # A cancel is a write: settle first a job whose supervisor already died (it ends Failed,
            # and cancelling it is then refused, as it was when status reads reconciled).
            self._workspace.reconcile_jobs([self._id])
        self._record = self._tracking.cancel(self._queries.run(self._id))

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if self.status in TERMINAL_STATUSES:
            return
        if exc is None:
            self.complete()
        else:
            self.fail(exc)

    # -- children -----------------------------------------------------------------------------------------
    def child_run(self, name: str | None = None, run_id: str | None = None) -> Self:
        """Start a child run (Running); ``name`` becomes its display name, ``run_id`` (1-255 letters,
        digits, ``-``, ``_``, ``.``) its id instead of a generated one."""
        if run_id is not None:
            validate_run_id(run_id)
        return type(self).create(self._experiment, display_name=name, parent=self, run_id=run_id)

    def submit_child(self, config: Any, tags: Mapping[str, Any] | None = None, **kwargs: Any) -> Run:
        """Azure ML v1's ``Run.submit_child(config, tags=None)``: submit a job (a ``ScriptRunConfig`` or
        ``NotebookRunConfig``) as a child of this run, in its experiment; returns the child's run."""
        from ..jobs import submit

        return submit(self._experiment, config, tags=tags, parent=cast("Run", self))  # this mixin is a Run

    def create_children(
        self, count: int | None = None, tag_key: str | None = None, tag_values: Sequence[str] | None = None
    ) -> list[Self]:
        """Start several child runs; with ``tag_key``/``tag_values`` one per value, tagged with it."""
        cls = type(self)
        if tag_values is not None:
            if tag_key is None:
                raise InvalidArgumentError("create_children: tag_values need a tag_key")
            return [cls.create(self._experiment, parent=self, tags={tag_key: value}) for value in tag_values]
        if not isinstance(count, int) or count < 1:
            raise InvalidArgumentError(f"create_children needs count >= 1 or tag_values, got count={count!r}")
        return [cls.create(self._experiment, parent=self) for _ in range(count)]

    def get_children(self, recursive: bool = False) -> list[Self]:
        cls = type(self)
        return [cls(self._experiment, r.run_id, _record=r) for r in self._queries.children(self._id, recursive)]

    # -- details ------------------------------------------------------------------------------------------
    def get_details(self) -> dict[str, Any]:
        """Azure ML v1's details: ids, status, times, properties, tags, params, log files, error."""
        self._record = self._queries.run(self._id)
        return self._queries.details(self._id)

    def get_portal_url(self) -> str:
        """Azure ML v1's ``get_portal_url()``: the URL of this run's page in JupyterLab,
        ``<lab>/lab?mlws-run=<run id>`` (see :mod:`jupyter_mlws.core.portal` for how the Lab is found:
        ``MLWS_LAB_URL``, else a running Jupyter server that serves this workspace, else
        ``http://localhost:8888/``). The server's token is never part of it."""
        from ..portal import run_page_url

        return run_page_url(self._workspace.root, self._id)

    def get_details_with_logs(self) -> dict[str, Any]:
        """Azure ML v1's ``get_details_with_logs()``: ``get_details()`` with each log file's text in
        ``logFiles`` (read live while a job runs; at most 1 MB of each, as the log view shows)."""
        details = self.get_details()
        logs: dict[str, str] = {}
        for name in details.get("logFiles", {}):
            data, _ = self._queries.read_log(self._id, 0, name)
            logs[name] = data.decode("utf-8", errors="replace")
        details["logFiles"] = logs
        return details

    def get_environment(self) -> Any:
        """The registered Environment this job ran with; None for the submitting interpreter."""
        if self._record.compute_target is None:
            return None
        ref = self._queries.job_spec(self._id).get("environment")
        if not ref:
            return None
        from ..environment import Environment

        return Environment.get(self._workspace, ref["name"], ref.get("version"))

    def register_model(
        self,
        model_name: str,
        model_path: str = "outputs",
        tags: Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
        description: str | None = None,
        datasets: Sequence[tuple[str, Any]] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        child_paths: Sequence[str] | None = None,
    ) -> Model:
        """Register a model version from this run's file or folder ``model_path``; v1's keywords as in
        :meth:`Model.register`."""
        from ..model import Model

        return Model.register(
            self._workspace,
            model_path=model_path,
            model_name=model_name,
            tags=tags,
            properties=properties,
            description=description,
            run=self,
            datasets=datasets,
            model_framework=model_framework,
            model_framework_version=model_framework_version,
            child_paths=child_paths,
            sample_input_dataset=sample_input_dataset,
            sample_output_dataset=sample_output_dataset,
            resource_configuration=resource_configuration,
        )
