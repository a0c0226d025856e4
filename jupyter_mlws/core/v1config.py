"""Azure ML v1's ``config.json`` (issue 14): written by ``ws.write_config()``, found by
``Workspace.from_config()``.

v1 keeps ``{"subscription_id", "resource_group", "workspace_name"}`` in ``<folder>/.azureml/config.json``
(or ``<folder>/config.json``) and ``Workspace.from_config`` looks for it upward from the working
directory. Ours has the same three keys, with this machine's honest values, plus :data:`POINTER_KEY`:
the folder that holds the workspace's ``.mlws/``. A file without that key is a cloud workspace's: it
opens the nearest local workspace only when that one has the same name (as ``Workspace(subscription_id,
resource_group, workspace_name)`` would), else it is an error that says how to make it local.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError, ProjectSystemException

__all__ = [
    "AZUREML_DIR",
    "LOCAL",
    "POINTER_KEY",
    "V1_CONFIG_FILE",
    "V1Config",
    "candidates",
    "check_file_name",
    "read_v1_config",
    "v1_config_text",
]

#: v1's folder for its config file.
AZUREML_DIR = ".azureml"
#: v1's default config file name.
V1_CONFIG_FILE = "config.json"
#: The key that points a v1 config file at a local workspace's folder (the one holding ``.mlws/``).
POINTER_KEY = "mlws_workspace"
#: The value of ``subscription_id``, ``resource_group`` and ``location`` on this machine: there is no
#: Azure subscription, resource group or region behind a local workspace.
LOCAL = "local"

_SCOPE_PREFIX = "/subscriptions/"


@dataclass(frozen=True)
class V1Config:
    """A v1 ``config.json`` as read: where it is, the workspace name it names, and the local
    workspace folder it points at (None for a cloud workspace's file)."""

    path: Path
    workspace_name: str | None
    workspace_root: Path | None


def candidates(folder: Path, file_name: str) -> tuple[Path, Path]:
    """The files v1 looks at in one folder, in its order: ``.azureml/<file_name>``, ``<file_name>``."""
    return folder / AZUREML_DIR / file_name, folder / file_name


def check_file_name(file_name: str) -> str:
    if (
        not isinstance(file_name, str)
        or not file_name
        or file_name in {".", ".."}
        or os.sep in file_name
        or (os.altsep and os.altsep in file_name)
    ):
        raise InvalidArgumentError(
            f"file_name must be a file name such as 'config.json', got {file_name!r}; give the folder as path="
        )
    return file_name


def read_v1_config(path: Path, *, strict: bool) -> V1Config | None:
    """Read a v1 config file. ``strict``: the file was named for v1 (in ``.azureml/`` or given
    directly), so a file that is not a v1 config is an error; otherwise (a bare ``config.json`` met
    on the way up, a common name in projects) such a file is skipped (None)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        if not strict:
            return None
        raise ProjectSystemException(
            f"the Azure ML config file {path} cannot be read ({exc}); rewrite it from your project with "
            "Workspace.from_config(<workspace folder>).write_config()"
        ) from None
    if not isinstance(data, dict) or not ({"workspace_name", "Scope", POINTER_KEY} & data.keys()):
        if not strict:
            return None
        raise ProjectSystemException(
            f"{path} is not an Azure ML workspace config (no workspace_name); rewrite it from your project "
            "with Workspace.from_config(<workspace folder>).write_config()"
        )
    name = data.get("workspace_name")
    scope = data.get("Scope")
    if not name and isinstance(scope, str) and scope.startswith(_SCOPE_PREFIX):
        name = scope.rstrip("/").rsplit("/", 1)[-1]  # newer v1 files: .../workspaces/<name>
    pointer = data.get(POINTER_KEY)
    root = None
    if pointer is not None:
        if not isinstance(pointer, str) or not pointer:
            raise ProjectSystemException(
                f"{path}: {POINTER_KEY} must be the path of the workspace folder, got {pointer!r}; rewrite the "
                "file with Workspace.from_config(<workspace folder>).write_config()"
            )
        # A relative pointer is relative to the file's folder: a project moved whole still works.
        root = (path.parent / Path(pointer).expanduser()).resolve()
    return V1Config(path=path, workspace_name=str(name) if name else None, workspace_root=root)


def v1_config_text(config_path: Path, root: Path, name: str) -> str:
    """The text of a v1 ``config.json`` at ``config_path`` that points at the workspace in ``root``.
    The pointer is relative when the file lies inside the workspace's folder (the project can move or
    be cloned whole), absolute otherwise."""
    folder = config_path.parent.resolve()
    pointer = os.path.relpath(root, folder) if folder == root or root in folder.parents else str(root)
    data = {"subscription_id": LOCAL, "resource_group": LOCAL, "workspace_name": name, POINTER_KEY: pointer}
    return json.dumps(data, indent=2) + "\n"
