"""Captured inputs (opt-in per service): the workers append sampled inputs and predictions to part
files in the service's ``capture/`` folder; :func:`publish_capture` moves finished ones into the
workspace's default datastore and registers the next version of the tabular dataset
``<service>-inputs``, whose latest version so holds every captured row (the target side of drift
monitoring)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from .layout import ServiceFolder

__all__ = ["capture_dataset_name", "capture_target_path", "publish_capture"]


def capture_dataset_name(service: str) -> str:
    return f"{service}-inputs"


def capture_target_path(service: str) -> str:
    return f"serving/{service}/inputs"


def publish_capture(workspace: Workspace, folder: ServiceFolder) -> int:
    """Move the finished capture part files of a service into the default datastore and register
    the next version of ``<name>-inputs``; returns how many files moved."""
    from ..data.dataset import Dataset

    name = folder.name
    parts = sorted(p for p in folder.capture_dir.glob("part-*.jsonl") if p.is_file())
    if not parts:
        return 0
    datastore = workspace.get_default_datastore()
    target = capture_target_path(name)
    datastore.upload_files(
        [str(p) for p in parts], relative_root=str(folder.capture_dir), target_path=target, show_progress=False
    )
    dataset = Dataset.Tabular.from_json_lines_files(path=(datastore, f"{target}/*.jsonl"), validate=False)
    dataset.register(
        workspace,
        capture_dataset_name(name),
        description=f"inputs and predictions captured by web service {name}",
        create_new_version=True,
    )
    for part in parts:  # only once they are stored and registered
        with contextlib.suppress(OSError):
            part.unlink()
    return len(parts)
