"""How a job consumes a dataset (v1's ``DatasetConsumptionConfig``): under an input name, directly
(tabular: the dataset object; in ``arguments`` its id), downloaded or mounted (file: a local folder;
in ``arguments`` its path)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import InvalidArgumentError

if TYPE_CHECKING:
    from .dataset import Dataset

__all__ = ["MODES", "DatasetConsumptionConfig"]

MODES = ("direct", "download", "mount")


@dataclass(frozen=True)
class DatasetConsumptionConfig:
    """A dataset as the job input ``name``. Made by ``ds.as_named_input(name)``; file datasets then
    choose ``.as_mount()`` (a read-only folder) or ``.as_download()`` (a writable copy)."""

    name: str
    dataset: Dataset
    mode: str = "direct"
    path_on_compute: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidArgumentError(f"input mode is one of {', '.join(MODES)}, got {self.mode!r}")
        if self.dataset.kind == "tabular" and self.mode != "direct":
            raise InvalidArgumentError(
                f"input {self.name!r}: a tabular dataset is read directly (input_datasets[{self.name!r}]"
                ".to_pandas_dataframe()); as_mount()/as_download() are for file datasets"
            )

    def as_mount(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The files as a read-only folder in the job."""
        return self._with("mount", path_on_compute)

    def as_download(self, path_on_compute: str | None = None) -> DatasetConsumptionConfig:
        """The files copied into the job."""
        return self._with("download", path_on_compute)

    def _with(self, mode: str, path_on_compute: str | None) -> DatasetConsumptionConfig:
        if self.dataset.kind != "file":
            raise InvalidArgumentError(
                f"input {self.name!r}: as_{mode}() is for file datasets; a tabular dataset is read directly"
            )
        if path_on_compute is not None and (not isinstance(path_on_compute, str) or not path_on_compute.strip()):
            raise InvalidArgumentError(f"path_on_compute is a folder path, got {path_on_compute!r}")
        return replace(self, mode=mode, path_on_compute=path_on_compute)

    def __repr__(self) -> str:
        return f"DatasetConsumptionConfig(name={self.name!r}, dataset={self.dataset!r}, mode={self.mode!r})"
