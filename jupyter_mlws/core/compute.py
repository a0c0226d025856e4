"""Compute targets: where jobs run. Plug-ins by type through the ``jupyter_mlws.compute_targets``
entry-point group; the core only knows the small :class:`ComputeBackend` and :class:`JobReporter`
interfaces, never a target's implementation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError, NotFoundError
from .interfaces.compute import BuildResult, ComputeBackend, JobReporter, default_concurrency
from .names import validate_entity_name
from .registry import PluginRegistry

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "DEFAULT_TARGET",
    "BuildResult",
    "ComputeBackend",
    "ComputeTarget",
    "JobReporter",
    "compute_target_types",
    "default_concurrency",
]


compute_target_types = PluginRegistry(
    "compute target type",
    "jupyter_mlws.compute_targets",
    {"local": "jupyter_mlws.compute.local:LocalCompute", "docker": "jupyter_mlws.compute.docker:DockerCompute"},
    {"docker": "docker", "dask": "dask"},
)

DEFAULT_TARGET = "local"


class ComputeTarget:
    """A named compute target of the workspace. ``"local"`` always exists."""

    def __init__(self, workspace: Workspace, name: str) -> None:
        self.workspace = workspace
        self.name = name
        try:
            record = workspace.services.compute_targets.target(name)
            self.type, self.config = record.type, dict(record.config)
        except NotFoundError:
            if name != DEFAULT_TARGET:
                known = ", ".join(sorted(t.name for t in ComputeTarget.list(workspace)))
                raise NotFoundError(
                    f"compute target {name!r} is not attached to this workspace (attached: {known}); "
                    "attach it with ComputeTarget.attach(ws, name, config)"
                ) from None
            self.type = "local"
            self.config = compute_target_types.get("local").default_config()

    def __repr__(self) -> str:
        return f"ComputeTarget(name={self.name!r}, type={self.type!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ComputeTarget) and (other.workspace, other.name) == (self.workspace, self.name)

    def __hash__(self) -> int:
        return hash((self.workspace, self.name))

    def backend(self) -> ComputeBackend:
        backend: ComputeBackend = compute_target_types.get(self.type)(self.workspace, self.name, self.config)
        return backend

    def serialize(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "config": dict(self.config)}

    @staticmethod
    def attach(workspace: Workspace, name: str, attach_configuration: Mapping[str, Any] | Any) -> ComputeTarget:
        """Attach (or re-configure) a target: ``{"type": "local", "max_concurrent_runs": 2}``."""
        validate_entity_name("compute target", name)
        config = dict(getattr(attach_configuration, "to_dict", lambda: attach_configuration)())
        kind = config.pop("type", None)
        if not isinstance(kind, str):
            known = ", ".join(compute_target_types.names())
            raise InvalidArgumentError(f"the attach configuration needs a 'type' (one of: {known})")
        config = compute_target_types.get(kind).validate_config(config)
        workspace.services.compute_targets.save(name, kind, config)
        return ComputeTarget(workspace, name)

    @staticmethod
    def list(workspace: Workspace) -> list[ComputeTarget]:
        names = {t.name for t in workspace.services.compute_targets.targets()} | {DEFAULT_TARGET}
        return [ComputeTarget(workspace, n) for n in sorted(names)]

    def detach(self) -> None:
        self.workspace.services.compute_targets.detach(self.name)
