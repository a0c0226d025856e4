"""``PipelineRun`` and ``StepRun`` (issue 16): runs, as in v1, with what a pipeline adds — its steps,
its graph, and for each step whether it was reused and why."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.runs import Run
from ..core.status import RunStatus
from ..errors import ActivityFailedException, InvalidArgumentError, NotFoundError
from .driver import graph, step_reuse

if TYPE_CHECKING:
    from .published import PublishedPipeline

__all__ = ["PipelineRun", "StepRun", "StepRunOutput"]

_POLL_S = 0.05


class PipelineRun(Run):
    """A submitted pipeline (run type ``azureml.PipelineRun``): its steps are its child runs."""

    def get_steps(self) -> list[StepRun]:
        """The step runs, in the order the pipeline runs them (upstream first)."""
        spec = self._queries.job_spec(self.id)
        order = [s["name"] for s in spec["definition"]["steps"]]
        ids = spec["steps"]
        return [StepRun(self.experiment, ids[name]) for name in order]

    def find_step_run(self, name: str) -> list[StepRun]:
        """The step runs of the step called ``name`` (a list, as in v1; empty if there is none)."""
        return [s for s in self.get_steps() if s.name == name]

    def get_graph(self) -> dict[str, Any]:
        """``{"run_id", "status", "nodes": [{"id", "name", "status", "reuse", "error", …}], "edges":
        [{"source", "target", "data"}]}`` with each step's live state."""
        return graph(self._workspace, self.id)

    def get_pipeline_runtime(self) -> float | None:
        """Seconds from start to end (so far, while it runs)."""
        record = self._queries.run(self.id)
        if record.start_time is None:
            return None
        return (record.end_time or time.time()) - record.start_time

    def cancel(self) -> None:
        """Cancel the pipeline: steps not started are canceled, running ones stopped, nothing more starts."""
        from .driver import advance

        super().cancel()
        record = self._queries.run(self.id)
        if record.status == RunStatus.CANCELED or record.status == RunStatus.CANCEL_REQUESTED:
            # Nobody may be driving it yet (Queued, or completing its submit): end its steps here too.
            if record.status == RunStatus.CANCELED:
                from .driver import PipelineDriver

                PipelineDriver().abandon(self._workspace, self.id, "canceled")
            else:
                advance(self._workspace, self.id)
        self._record = self._queries.run(self.id)

    def wait_for_completion(  # type: ignore[override]
        self,
        show_output: bool = True,
        timeout_seconds: float | None = None,
        raise_on_error: bool = True,
        **kwargs: Any,
    ) -> str:
        """Block until the pipeline ended; answers its status. ``show_output`` prints each step's
        status change (and whether it was reused). A failed pipeline raises unless
        ``raise_on_error=False`` (v1)."""
        timeout = kwargs.pop("timeout", timeout_seconds)
        if kwargs:
            raise InvalidArgumentError(f"wait_for_completion() got unknown keyword(s) {sorted(kwargs)}")
        seen: dict[str, str] = {}
        record = self._wait_driven(
            timeout, (lambda: self._print_changes(seen)) if show_output else None, "pipeline run"
        )
        if show_output:
            print(f"PipelineRun {self.id}: {record.status.value}", file=sys.stdout, flush=True)
        if raise_on_error and record.status == RunStatus.FAILED:
            message = (record.error or {}).get("message") or "a step failed"
            raise ActivityFailedException(f"pipeline run {self.id} failed: {message}")
        return record.status.value

    def _print_changes(self, seen: dict[str, str]) -> None:
        try:
            nodes = graph(self._workspace, self.id)["nodes"]
        except Exception:
            return
        for node in nodes:
            state = node["status"]
            if seen.get(node["name"]) == state:
                continue
            seen[node["name"]] = state
            extra = ""
            reuse = node.get("reuse")
            if state == "Completed" and reuse and reuse["reused"]:
                extra = f" (reused {reuse['from']})"
            elif state in ("Failed", "Canceled") and node.get("error"):
                extra = f": {node['error']}"
            print(f"  step {node['name']!r}: {state}{extra}", file=sys.stdout, flush=True)

    def publish_pipeline(
        self,
        name: str,
        description: str | None = None,
        version: str | None = None,
        continue_on_step_failure: bool | None = None,
    ) -> PublishedPipeline:
        """Publish the pipeline this run ran (v1)."""
        from .published import PublishedPipeline

        spec = self._queries.job_spec(self.id)
        definition = spec["definition"]
        # The code this run's steps ran is what is published (each step run's snapshot), as in v1.
        for step in definition["steps"]:
            record = self._queries.run(spec["steps"][step["name"]])
            if record.snapshot_id:
                step["snapshot_id"] = record.snapshot_id
        return PublishedPipeline._create(
            self._workspace, name, description, version, definition, continue_on_step_failure
        )


class StepRun(Run):
    """One step of a pipeline run (a child run of its ``PipelineRun``)."""

    @property
    def name(self) -> str:
        """The step's name."""
        return str(self._queries.run(self.id).display_name or self.id)

    @property
    def reused(self) -> bool:
        reuse = step_reuse(self._workspace, self.id)
        return bool(reuse and reuse["reused"])

    def get_details(self) -> dict[str, Any]:
        """v1's details plus ``reuse``: ``{"reused", "from", "reason"}`` (None until it was decided)."""
        details = super().get_details()
        details["reuse"] = step_reuse(self._workspace, self.id)
        reused = (details["reuse"] or {}).get("from")
        if reused:
            details["reused_from"] = reused
        return details

    def get_outputs(self) -> dict[str, StepRunOutput]:
        """The step's outputs by name (stored once it completed)."""
        try:
            outputs = self._workspace.metadata.get_step_run(self.id).outputs or {}
        except NotFoundError:
            outputs = {}
        return {name: StepRunOutput(self, name, manifest) for name, manifest in outputs.items()}

    def get_output_data(self, name: str) -> StepRunOutput:
        """The output ``name`` (a ``PipelineData`` the step wrote); ``.download(path)`` copies it."""
        outputs = self.get_outputs()
        if name not in outputs:
            known = ", ".join(sorted(outputs)) or "none (yet)"
            raise NotFoundError(f"step run {self.id} has no output {name!r}; its outputs: {known}")
        return outputs[name]

    def get_job_log(self) -> str:
        return self.get_stdout_log()

    def get_stdout_log(self) -> str:
        from ..core.layout import DRIVER_LOG

        try:
            data, _ = self._queries.read_log(self.id, 0, DRIVER_LOG)
        except NotFoundError:
            return ""
        return data.decode("utf-8", errors="replace")


class StepRunOutput:
    """A stored output of a step run (v1's ``PortDataReference``)."""

    def __init__(self, step_run: StepRun, name: str, manifest_id: str) -> None:
        self.step_run = step_run
        self.name = name
        self.manifest_id = manifest_id

    @property
    def path_on_datastore(self) -> str:
        return f"pipeline-data/{self.manifest_id}"

    def download(self, local_path: str = ".", overwrite: bool = False, show_progress: bool = False) -> str:
        """Copy the output's files into ``local_path/<name>``; answers that folder."""
        target = Path(local_path) / self.name
        if target.exists() and any(target.iterdir()) and not overwrite:
            raise InvalidArgumentError(f"{target} is not empty; pass overwrite=True or another local_path")
        self.step_run._workspace.services.snapshots.restore(self.manifest_id, target)
        return str(target)

    def __repr__(self) -> str:
        return f"StepRunOutput(step_run={self.step_run.id!r}, name={self.name!r})"
