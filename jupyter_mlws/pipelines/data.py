"""Data that flows between pipeline steps (issue 16): ``PipelineData`` and v1's newer
``OutputFileDatasetConfig``, pipeline parameters, and the ``pipeline_data`` job input/output type that
moves them.

A step that lists a ``PipelineData`` in its ``outputs`` writes into an empty folder (its argument is
that folder's path); when the step's process exits 0 the folder is stored content-addressed (a
snapshot without ignore rules: unchanged files cost nothing) and its manifest id becomes the step's
output. A step that reads it gets the same files, restored into its job folder (a mounted input is
write-protected). The manifest id is what downstream reuse keys hold: a step whose upstream re-ran
but wrote the same bytes is still reused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, InvalidStateError

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .steps import PipelineStep

__all__ = [
    "OutputFileDatasetConfig",
    "PipelineData",
    "PipelineDataInput",
    "PipelineDataType",
    "PipelineParameter",
]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,254}$")
PLACEHOLDER_PREFIX = "PipelineData:"


def _data_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgumentError(
            f"{what} name {name!r} is invalid: use letters, digits and '_', starting with a letter or '_' "
            "(the step gets it as an input name, as in Azure ML v1)"
        )
    return name


class PipelineData:
    """Intermediate data of a pipeline: a folder one step writes and later steps read (v1).

    ``PipelineData(name, datastore=None, output_name=None, output_mode="mount", …)``: list it in the
    producing step's ``outputs`` and pass it in its ``arguments`` (there it is the folder to write);
    pass it to later steps in ``inputs``/``arguments`` (there it is the folder to read). ``datastore``
    and the other v1 keywords are accepted; the data itself is kept content-addressed in the workspace.
    """

    def __init__(
        self,
        name: str,
        datastore: Any = None,
        output_name: str | None = None,
        output_mode: str = "mount",
        output_path_on_compute: str | None = None,
        output_overwrite: bool | None = None,
        data_type: str | None = None,
        is_directory: bool | None = None,
        pipeline_output_name: str | None = None,
        training_output: Any = None,
    ) -> None:
        self._name = _data_name(name, "PipelineData")
        self.datastore = datastore
        self._output_name = _data_name(output_name, "PipelineData output") if output_name else self._name
        if output_mode not in ("mount", "upload"):
            raise InvalidArgumentError(
                f"PipelineData {name!r}: output_mode is 'mount' or 'upload', got {output_mode!r}"
            )
        self.output_mode = output_mode
        self.pipeline_output_name = pipeline_output_name
        self._producer: PipelineStep | None = None
        self._other_producers: list[PipelineStep] = []  # steps that list it as an output too (invalid)
        self._register: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def output_name(self) -> str:
        return self._output_name

    def as_input(self, input_name: str | None = None) -> PipelineDataInput:
        """This data as a step input called ``input_name`` (default: the data's name)."""
        return PipelineDataInput(self, _data_name(input_name or self._name, "input"), "mount")

    def as_mount(self, input_name: str | None = None) -> PipelineDataInput:
        """Read-only in the reading step (the default)."""
        return PipelineDataInput(self, _data_name(input_name or self._name, "input"), "mount")

    def as_download(
        self, input_name: str | None = None, path_on_compute: str | None = None, overwrite: bool = False
    ) -> PipelineDataInput:
        """A writable copy in the reading step."""
        return PipelineDataInput(self, _data_name(input_name or self._name, "input"), "download")

    def __repr__(self) -> str:
        producer = self._producer.name if self._producer is not None else None
        return f"{type(self).__name__}(name={self._name!r}, producer={producer!r})"


class PipelineDataInput:
    """A ``PipelineData`` as an input of a step, with its input name and mode."""

    def __init__(self, data: PipelineData, input_name: str, mode: str) -> None:
        self.data = data
        self.input_name = input_name
        self.mode = mode

    @property
    def name(self) -> str:
        return self.input_name

    def __repr__(self) -> str:
        return f"PipelineDataInput(data={self.data.name!r}, input_name={self.input_name!r}, mode={self.mode!r})"


class OutputFileDatasetConfig(PipelineData):
    """v1's newer output: ``OutputFileDatasetConfig(name=None, destination=None)``, a folder a step
    writes; ``.register_on_complete(name)`` registers it as a file dataset (a new version when its
    content changed) when the step completes. ``destination=(datastore, "path")`` is where registered
    files are uploaded (default: the workspace's default datastore, under the step run's id)."""

    _count = 0

    def __init__(
        self,
        name: str | None = None,
        destination: Any = None,
        source: str | None = None,
        partition_format: str | None = None,
    ) -> None:
        if name is None:
            OutputFileDatasetConfig._count += 1
            name = f"output_{OutputFileDatasetConfig._count}"
        super().__init__(name)
        self.destination = destination
        if source is not None or partition_format is not None:
            raise InvalidArgumentError(
                f"OutputFileDatasetConfig {name!r}: source= and partition_format= are not supported; the step writes "
                "into the folder it is given as its argument"
            )

    def register_on_complete(
        self, name: str, description: str | None = None, tags: Mapping[str, str] | None = None
    ) -> OutputFileDatasetConfig:
        """Register what the step wrote as the file dataset ``name`` once the step completes."""
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(f"register_on_complete(name=...) takes a dataset name, got {name!r}")
        self._register = {"name": name, "description": description, "tags": dict(tags or {})}
        return self

    def as_upload(self, overwrite: bool = False, source_globs: Any = None) -> OutputFileDatasetConfig:
        """Accepted for v1 code: outputs are always stored when the step completes."""
        return self

    def read_delimited_files(self, *args: Any, **kwargs: Any) -> OutputFileDatasetConfig:
        raise InvalidArgumentError(
            f"OutputFileDatasetConfig {self.name!r}: read_delimited_files() is not supported; pass the output to the "
            "next step (as_input()) and read the files there, or register it and use Dataset.Tabular on it"
        )


class PipelineParameter:
    """A value chosen per pipeline run: ``PipelineParameter(name, default_value)`` in a step's
    ``arguments`` (or a notebook step's ``parameters``) is replaced by the submitted value (v1's
    ``pipeline_parameters={name: value}``) or the default."""

    def __init__(self, name: str, default_value: Any) -> None:
        self.name = _data_name(name, "PipelineParameter")
        if default_value is None:
            raise InvalidArgumentError(f"PipelineParameter {name!r} needs a default_value (v1 requires one)")
        self.default_value = default_value

    def __repr__(self) -> str:
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"


class PipelineDataType:
    """The ``pipeline_data`` job input and output type (``core.registry.job_input_types``).

    An input is described ``{"type", "name", "data", "producer_run", "placeholder", "read_only"}``:
    staged by restoring the producer step run's stored output; an output ``{"type", "name",
    "placeholder", "register"?, "destination"?}``: collected into the workspace when the step ends."""

    def describe(self, value: Any) -> dict[str, Any] | None:
        if isinstance(value, PipelineData | PipelineDataInput):
            raise InvalidArgumentError(
                f"{value!r} is pipeline data: it connects the steps of a Pipeline (PythonScriptStep(outputs=..., "
                "inputs=...)); a single job reads a dataset instead (ds.as_named_input(name))"
            )
        return None

    def record(self, workspace: Workspace, run_id: str, inputs: Sequence[Mapping[str, Any]]) -> None:
        """The step's reuse row holds which stored outputs it read: nothing more to record."""

    def stage(self, workspace: Workspace, described: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        producer = str(described["producer_run"])
        outputs = workspace.metadata.get_step_run(producer).outputs or {}
        manifest = outputs.get(str(described["data"]))
        if manifest is None:
            raise InvalidStateError(
                f"input {described['name']!r}: the step run {producer} that writes {described['data']!r} "
                "stored no such "
                "output; rerun the pipeline"
            )
        workspace.services.snapshots.restore(manifest, folder)
        return {"argument": str(folder), "data": None}

    def resolve(self, described: Mapping[str, Any], data: Any, folder: Path) -> Any:
        return str(folder)

    def discard(self, described: Mapping[str, Any]) -> None:
        """Nothing is held outside the job folder."""

    def collect(self, workspace: Workspace, run_id: str, described: Mapping[str, Any], folder: Path) -> None:
        snapshot = workspace.services.snapshots.capture(folder, warn=False, ignore_rules=False)
        store = workspace.metadata
        outputs = dict(store.get_step_run(run_id).outputs or {})
        outputs[str(described["name"])] = snapshot.id
        register = described.get("register")
        if register:
            from ..core.registry import job_input_types

            job_input_types.get("dataset")().register_output(
                workspace, run_id, folder, register, described.get("destination")
            )
        store.set_step_outputs(run_id, outputs)
