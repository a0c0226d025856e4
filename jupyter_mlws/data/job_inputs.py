"""Datasets as job inputs (issue 15): the ``dataset`` job input type of
:mod:`jupyter_mlws.core.job_inputs` (registered there by name; the core never imports this module).

- At submit: a ``DatasetConsumptionConfig`` (``ds.as_named_input(name)``, a file dataset's also
  ``.as_mount()`` / ``.as_download()``) is described as JSON for the job spec: the input's name and
  mode, and the dataset's id, name, version and digest. The run records each input
  (``DatasetInputRecord``), so ``get_details()["inputDatasets"]`` and ``ds.get_lineage()`` know it.
- In the supervisor, before the job starts: the version's files are copied, verified, into the job
  folder (``ds._stage(folder)``); a mounted input is write-protected there (read-only in a container).
- In the job: ``Run.get_context().input_datasets[name]`` is the dataset rebuilt from the staged
  files (``Dataset._from_staged``; it needs no workspace, so it works in a container) or, for a
  file input mounted or downloaded, its local folder. In the job's argv, a tabular input is its
  dataset's id, a mounted or downloaded file input its local folder (v1's substitutions).

An unregistered dataset is allowed as an input (v1 allows it): it has no version to fetch later, so
its files are staged at submit into a private holding folder (in the temporary folder) that the
supervisor copies into the job folder and removes when the job is over; its lineage records the
digest, with no name or version.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..core.interfaces.datasets import DatasetInputRecord
from ..errors import InvalidArgumentError, InvalidStateError

if TYPE_CHECKING:
    from ..core.workspace import Workspace

__all__ = ["PATH_MODES", "DatasetInputType"]

#: Modes whose input is a local folder in the job (the others give the dataset itself).
PATH_MODES = ("mount", "download")


class DatasetInputType:
    """The ``dataset`` job input type (see ``jupyter_mlws.core.interfaces.compute.JobInputType``).
    One instance describes one submission's inputs."""

    def __init__(self) -> None:
        # An unregistered dataset given twice (in inputs and in arguments) is held once.
        self._held: dict[int, dict[str, Any]] = {}
        self._converted: dict[int, Any] = {}
        self._keep: list[Any] = []

    def describe(self, value: Any) -> dict[str, Any] | None:
        from .consumption import DatasetConsumptionConfig
        from .dataset import Dataset
        from .references import consumption_of

        # v1's DataReference and (DataPath, DataPathComputeBinding): one dataset per object, however
        # often the submission names it (v1 samples pass it in both inputs and arguments).
        converted = self._converted.get(id(value))
        if converted is None:
            converted = consumption_of(value)
            if converted is not None:
                self._converted[id(value)] = converted
                self._keep.append(value)  # its id stays its own while this submission is described
        value = converted or value
        if isinstance(value, Dataset):
            raise InvalidArgumentError(
                f"{value!r} is a dataset, not a job input: name it for the job with "
                "ds.as_named_input('name') (a file dataset's also .as_mount() or .as_download())"
            )
        if not isinstance(value, DatasetConsumptionConfig):
            return None
        ds = value.dataset
        mode = str(value.mode)
        if ds.kind == "tabular" and mode in PATH_MODES:
            raise InvalidArgumentError(
                f"input {value.name!r}: a tabular dataset cannot be used with as_{mode}(); pass "
                "ds.as_named_input(name) and read it with input_datasets[name].to_pandas_dataframe()"
            )
        registered = ds.is_registered
        described: dict[str, Any] = {
            "name": value.name,
            "mode": mode,
            "kind": ds.kind,
            "path_on_compute": value.path_on_compute,
            "read_only": mode == "mount",
            "placeholder": f"DatasetConsumptionConfig:{value.name}",
            "dataset": {
                "id": ds.id if registered else None,
                "name": ds.name if registered else None,
                "version": ds.version if registered else None,
                # An unregistered dataset is fingerprinted now: the run says which bytes it read.
                "digest": ds.digest if registered else ds.manifest.digest,
            },
        }
        if not registered:
            # Nothing in the workspace to fetch it from later: its files go to a private holding
            # folder now (verified against the digest just taken), copied into the job folder later.
            if id(ds) not in self._held:
                held = Path(tempfile.mkdtemp(prefix="mlws-input-"))
                try:
                    self._held[id(ds)] = {"folder": str(held), "data": ds._stage(held)}
                except BaseException:
                    shutil.rmtree(held, ignore_errors=True)
                    raise
            described["held"] = self._held[id(ds)]
        return described

    def record(self, workspace: Workspace, run_id: str, inputs: Sequence[Mapping[str, Any]]) -> None:
        records = [
            DatasetInputRecord(
                run_id=run_id,
                input_name=d["name"],
                dataset_id=d["dataset"]["id"],
                dataset_name=d["dataset"]["name"],
                version=d["dataset"]["version"],
                digest=d["dataset"]["digest"],
                mode=d["mode"],
            )
            for d in inputs
        ]
        workspace.metadata.add_run_inputs(run_id, records)

    def stage(self, workspace: Workspace, described: Mapping[str, Any], folder: Path) -> dict[str, Any]:
        from .dataset import Dataset

        held = described.get("held")
        if held:
            source = Path(held["folder"])
            if not source.is_dir():
                raise InvalidStateError(
                    f"input {described['name']!r}: the files of its unregistered dataset, staged at submit in "
                    f"{source}, are gone; register the dataset (ds.register(ws, name)) and submit again"
                )
            shutil.copytree(source, folder, dirs_exist_ok=True)
            data = held["data"]
        else:
            ds = Dataset.get_by_id(workspace, described["dataset"]["id"])
            data = ds._stage(folder)
        if described["mode"] in PATH_MODES:
            argument = str(folder)
        else:
            argument = described["dataset"]["id"] or described["dataset"]["digest"]
        return {"argument": argument, "data": data}

    def discard(self, described: Mapping[str, Any]) -> None:
        """The job is over: an unregistered dataset's holding folder goes."""
        held = described.get("held")
        if held:
            shutil.rmtree(held["folder"], ignore_errors=True)

    def verify(self, workspace: Workspace, described: Mapping[str, Any]) -> None:
        """Before a pipeline runs (issue 16): a registered version's files must still be its bytes
        (``DatasetChangedError`` naming the file otherwise; unchanged files cost a stat through the
        stat cache). An unregistered dataset was fingerprinted while it was described."""
        from .dataset import Dataset

        if described.get("held") or not described["dataset"].get("id"):
            return
        Dataset.get_by_id(workspace, described["dataset"]["id"])._files(validate=True)

    def files(self, workspace: Workspace, described: Mapping[str, Any]) -> dict[str, str]:
        """``{path: sha256}`` of the input's files (to say which files changed since an earlier run)."""
        from .dataset import Dataset
        from .fingerprint import DataManifest

        held = described.get("held")
        if held:
            manifest = DataManifest.from_dict(held["data"]["manifest"])
        else:
            ds = Dataset.get_by_id(workspace, described["dataset"]["id"])
            manifest = ds.manifest
        return {e.path: e.sha256 for e in manifest.entries}

    def reference(self, value: Any) -> dict[str, Any] | None:
        """A JSON reference that rebuilds the input ``value`` later (issue 16: a pipeline's definition,
        kept by a published pipeline, is described anew at each submit — an unregistered dataset is
        fingerprinted again then). None if ``value`` is not a dataset input."""
        from .consumption import DatasetConsumptionConfig
        from .dataset import _stored
        from .references import consumption_of

        config = consumption_of(value) or value
        if not isinstance(config, DatasetConsumptionConfig):
            return None
        ds = config.dataset
        ref: dict[str, Any] = {
            "name": config.name,
            "mode": config.mode,
            "path_on_compute": config.path_on_compute,
            "kind": ds.kind,
        }
        if ds.is_registered:
            ref["id"] = ds.id
        else:
            ref["source"] = _stored(ds._source)
            ref["spec"] = ds._spec
        return ref

    def from_reference(self, workspace: Workspace, ref: Mapping[str, Any]) -> Any:
        """The input :meth:`reference` described (a registered version by id, or the same files and
        reading spec as an unregistered dataset)."""
        from .dataset import Dataset, FileDataset, TabularDataset

        if ref.get("id"):
            ds = Dataset.get_by_id(workspace, str(ref["id"]))
        else:
            cls: type[Dataset] = TabularDataset if ref.get("kind") == "tabular" else FileDataset
            ds = cls._new(workspace, dict(ref.get("source") or {}), ref.get("spec"))
        config = ds.as_named_input(str(ref["name"]))
        if ref.get("mode") == "mount":
            return config.as_mount(ref.get("path_on_compute"))
        if ref.get("mode") == "download":
            return config.as_download(ref.get("path_on_compute"))
        return config

    def register_output(
        self,
        workspace: Workspace,
        run_id: str,
        folder: Path,
        register: Mapping[str, Any],
        destination: Sequence[str] | None,
    ) -> str:
        """A pipeline step's ``OutputFileDatasetConfig(...).register_on_complete(name)`` (issue 16):
        upload what the step wrote to ``destination`` (``[datastore name, path]``; default the
        workspace's default datastore under ``azureml/<run id>/<name>``) and register it as a file
        dataset (a new version only when the content changed). Returns the version's id."""
        from .dataset import Dataset
        from .datastore import Datastore

        if destination:
            store = Datastore.get(workspace, str(destination[0]))
            path = str(destination[1]).strip("/") if len(destination) > 1 and destination[1] else run_id
            # v1's placeholders: a destination per run keeps each registered version's files its own.
            path = path.replace("{run-id}", run_id).replace("{output-name}", str(register["name"]))
        else:
            store = Datastore.get_default(workspace)
            path = f"azureml/{run_id}/{register['name']}"
        store.upload(str(folder), target_path=path, overwrite=True, show_progress=False)
        ds = Dataset.File.from_files((store, f"{path}/**"))
        registered = ds.register(
            workspace,
            str(register["name"]),
            description=register.get("description"),
            tags=register.get("tags") or None,
            create_new_version=True,
        )
        return str(registered.id)

    def resolve(self, described: Mapping[str, Any], data: Any, folder: Path) -> Any:
        if described["mode"] in PATH_MODES:
            return str(folder)
        from .dataset import Dataset

        return Dataset._from_staged(folder, data)
