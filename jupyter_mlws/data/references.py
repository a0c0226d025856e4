"""v1's older ways to hand a job a datastore path (issue 16): ``DataReference(datastore,
data_reference_name, path_on_datastore, mode)`` and a ``(DataPath, DataPathComputeBinding(mode))``
pair. Both are job inputs of the ``dataset`` type (``data/job_inputs.py``): an unregistered file
dataset of that path, fingerprinted at submit, mounted (read-only) or downloaded into the job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from .consumption import DatasetConsumptionConfig
    from .datastore import Datastore

__all__ = ["DataPathComputeBinding", "DataReference"]

_MODES = {"mount": "mount", "download": "download"}


def _mode(mode: str, what: str) -> str:
    if mode not in _MODES:
        raise InvalidArgumentError(
            f"{what}: mode {mode!r} is not supported here; use 'mount' (read-only) or 'download' "
            "(outputs of a pipeline step are PipelineData or OutputFileDatasetConfig)"
        )
    return _MODES[mode]


@dataclass(frozen=True)
class DataPathComputeBinding:
    """How a ``DataPath`` reaches the job: ``mode`` ``"mount"`` or ``"download"``, optionally at
    ``path_on_compute`` (a folder relative to the job's working folder)."""

    mode: str = "mount"
    path_on_compute: str | None = None
    overwrite: bool = False

    def __post_init__(self) -> None:
        _mode(self.mode, "DataPathComputeBinding")


class DataReference:
    """A folder or file on a datastore as a job input named ``data_reference_name`` (v1)."""

    def __init__(
        self,
        datastore: Datastore,
        data_reference_name: str | None = None,
        path_on_datastore: str | None = None,
        mode: str = "mount",
        path_on_compute: str | None = None,
        overwrite: bool = False,
    ) -> None:
        from .datastore import Datastore

        if not isinstance(datastore, Datastore):
            raise InvalidArgumentError(
                f"DataReference(datastore=...) takes a Datastore (Datastore.get(ws, name)), got {datastore!r}"
            )
        self.datastore = datastore
        self.data_reference_name = data_reference_name or datastore.name
        self.path_on_datastore = path_on_datastore or ""
        self.mode = _mode(mode, f"DataReference {self.data_reference_name!r}")
        self.path_on_compute = path_on_compute
        self.overwrite = overwrite

    def as_mount(self) -> DataReference:
        return self._with("mount")

    def as_download(self, path_on_compute: str | None = None, overwrite: bool = False) -> DataReference:
        copy = self._with("download")
        copy.path_on_compute = path_on_compute or self.path_on_compute
        copy.overwrite = overwrite
        return copy

    def _with(self, mode: str) -> DataReference:
        return DataReference(
            self.datastore, self.data_reference_name, self.path_on_datastore, mode, self.path_on_compute, self.overwrite
        )

    def __repr__(self) -> str:
        return (
            f"DataReference(datastore={self.datastore.name!r}, data_reference_name={self.data_reference_name!r}, "
            f"path_on_datastore={self.path_on_datastore!r}, mode={self.mode!r})"
        )

    def consumption(self) -> DatasetConsumptionConfig:
        """The same input as a file dataset's consumption config."""
        return as_consumption(self.datastore, self.path_on_datastore, self.data_reference_name, self.mode,
                              self.path_on_compute)  # fmt: skip


def as_consumption(
    datastore: Datastore, path: str, name: str, mode: str, path_on_compute: str | None
) -> DatasetConsumptionConfig:
    from .dataset import Dataset

    ds = Dataset.File.from_files((datastore, path or "**"))
    config = ds.as_named_input(name)
    return config.as_mount(path_on_compute) if mode == "mount" else config.as_download(path_on_compute)


def consumption_of(value: Any) -> DatasetConsumptionConfig | None:
    """A ``DataReference`` or a ``(DataPath, DataPathComputeBinding)`` pair as a consumption config;
    None for anything else. The pair's input name is the path's last part (v1 names it after the
    PipelineParameter that holds the path, which the pipeline passes instead)."""
    if isinstance(value, DataReference):
        return value.consumption()
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], DataPathComputeBinding):
        from .datastore import DataPath

        path, binding = value
        if not isinstance(path, DataPath):
            raise InvalidArgumentError(
                f"a DataPathComputeBinding goes with a DataPath (datastore.path('folder')), got {path!r}"
            )
        name = _name_of(path.path) or path.datastore.name
        return as_consumption(path.datastore, path.path, name, binding.mode, binding.path_on_compute)
    return None


def _name_of(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1]
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in last)
    return cleaned if cleaned and not cleaned[0].isdigit() else f"data_{cleaned}" if cleaned else ""
