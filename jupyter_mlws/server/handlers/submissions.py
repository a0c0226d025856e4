"""``POST submissions``: run a script or a notebook under the server root as a job."""

from __future__ import annotations

from typing import Any

from ...core.compute import ComputeTarget
from ...core.environment import Environment
from ...core.experiment import Experiment
from ...core.layout import default_experiment_name
from ...core.names import validate_entity_name
from ...core.run_config import NotebookRunConfig, ScriptRunConfig
from ...core.runs import Run
from ...errors import InvalidArgumentError, NotFoundError
from ..base import MlwsHandler
from ..requests import SubmitJob
from ..serialize import run_reply

__all__ = ["SubmissionsHandler"]


class SubmissionsHandler(MlwsHandler):
    async def post(self) -> None:
        job = self.parse(SubmitJob)
        script = self.confined(job.entry, "script")
        source = script.parent
        if job.source_directory:
            source = self.confined(job.source_directory, "source_directory")
        if source not in script.parents:
            raise InvalidArgumentError("the script must be inside source_directory")
        experiment = job.experiment or default_experiment_name(source)
        validate_entity_name("experiment", experiment)
        target = job.compute_target or self.state.default_compute_target
        relative = script.relative_to(source).as_posix()
        config: ScriptRunConfig | NotebookRunConfig
        if script.suffix == ".ipynb":
            config = NotebookRunConfig(
                source_directory=source,
                notebook=relative,
                parameters=job.parameters,
                compute_target=target,
                environment=job.environment,
                kernel_name=job.kernel_name,
                allow_unknown_parameters=job.allow_unknown_parameters,
                max_run_duration_seconds=job.max_run_duration_seconds,
            )
        else:
            config = ScriptRunConfig(
                source_directory=source,
                script=relative,
                arguments=job.arguments,
                compute_target=target,
                environment=job.environment,
                max_run_duration_seconds=job.max_run_duration_seconds,
            )
        environment = config.job_spec()["environment"]  # validate before a workspace is created for it
        existing = self.workspace()
        if existing is not None:
            ComputeTarget(existing, config.target)  # 404 naming the attached targets
            if environment is not None:
                Environment.get(existing, environment["name"], environment["version"])  # 404 if not registered
        elif config.target != "local":
            raise NotFoundError(
                f"compute target {config.target!r} is not attached (this server has no workspace yet; "
                "only 'local' exists)"
            )
        elif environment is not None:
            raise NotFoundError(
                f"environment {environment['name']!r} is not registered (this server has no workspace yet)"
            )
        ws = self.state.require()

        def submit() -> dict[str, Any]:
            run: Run = Experiment(ws, experiment).submit(config, tags=job.tags)
            return run_reply(ws, run.id)

        await self.reply(submit, status=201)
