"""Compute targets: where jobs run. Plug-ins by type through the ``jupyter_mlws.compute_targets``
entry-point group; the core only knows the small :class:`ComputeBackend` and :class:`JobReporter`
interfaces, never a target's implementation."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Self, cast

from ..errors import ComputeTargetException, ComputeTargetNotFoundError, InvalidArgumentError, NotFoundError
from .interfaces.compute import BuildResult, ComputeBackend, JobReporter, default_concurrency
from .names import validate_entity_name
from .registry import PluginRegistry

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = [
    "DEFAULT_TARGET",
    "AmlCompute",
    "AmlComputeNodeStateCounts",
    "AmlComputeProvisioningConfiguration",
    "AmlComputeStatus",
    "BuildResult",
    "ComputeBackend",
    "ComputeTarget",
    "ComputeTargetNotFoundError",
    "JobReporter",
    "compute_target_types",
    "default_concurrency",
]


compute_target_types = PluginRegistry(
    "compute target type",
    "jupyter_mlws.compute_targets",
    {
        "local": "jupyter_mlws.compute.local:LocalCompute",
        "docker": "jupyter_mlws.compute.docker:DockerCompute",
        "amlcompute": "jupyter_mlws.compute.aml:AmlComputeBackend",
        "dask": "jupyter_mlws.compute.dask:DaskCompute",
    },
    {"docker": "docker", "dask": "dask"},
)

DEFAULT_TARGET = "local"


AML_COMPUTE = "amlcompute"  # the registry's type of targets made by AmlCompute.provisioning_configuration


def _lookup(workspace: Workspace, name: str) -> tuple[str, dict[str, Any], float | None]:
    """The attached target's (type, config, created time); ``local`` exists even when not attached."""
    try:
        record = workspace.services.compute_targets.target(name)
    except NotFoundError:
        if name != DEFAULT_TARGET:
            known = ", ".join(sorted({t.name for t in workspace.services.compute_targets.targets()} | {DEFAULT_TARGET}))
            raise ComputeTargetNotFoundError(
                f"compute target {name!r} is not attached to this workspace (attached: {known}); "
                "attach it with ComputeTarget.attach(ws, name, config), or create a local cluster with "
                "ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(max_nodes=N))"
            ) from None
        return "local", compute_target_types.get("local").default_config(), None
    return record.type, dict(record.config), record.created_time


class ComputeTarget:
    """A named compute target of the workspace. ``"local"`` always exists.

    ``ComputeTarget(ws, name)`` (v1: ``ComputeTarget(workspace=ws, name=name)``) returns the target,
    as the class of its type where there is one (an :class:`AmlCompute` for a target made by
    ``ComputeTarget.create``), or raises :class:`ComputeTargetNotFoundError` — a
    ``ComputeTargetException`` and a ``NotFoundError`` — when none of that name is attached.
    """

    #: The target type a subclass stands for (``AmlCompute``: ``"amlcompute"``); None: any type.
    target_type: ClassVar[str | None] = None

    _found: tuple[str, dict[str, Any], float | None]  # looked up by __new__, for __init__

    def __new__(cls, workspace: Workspace, name: str) -> Self:
        found = _lookup(workspace, name)
        chosen = _CLASSES.get(found[0], ComputeTarget) if cls is ComputeTarget else cls
        target = cast(Self, object.__new__(chosen))
        target._found = found
        return target

    def __init__(self, workspace: Workspace, name: str) -> None:
        found = self.__dict__.pop("_found", None) or _lookup(workspace, name)
        self._set(workspace, name, *found)

    def _set(self, workspace: Workspace, name: str, kind: str, config: dict[str, Any], created: float | None) -> None:
        if self.target_type is not None and kind != self.target_type:
            raise ComputeTargetException(
                f"compute target {name!r} is a {kind!r} target, not {type(self).__name__}; "
                f"get it with ComputeTarget(workspace=ws, name={name!r})"
            )
        self.workspace = workspace
        self.name = name
        self.type, self.config = kind, config
        self._created = created

    def __getnewargs__(self) -> tuple[Any, ...]:
        """``copy``/``pickle`` re-create through ``__new__``, which needs the workspace and the name."""
        return (self.workspace, self.name)

    @classmethod
    def _of(cls, workspace: Workspace, record: Any) -> ComputeTarget:
        target = object.__new__(_CLASSES.get(record.type, ComputeTarget))
        target._set(workspace, record.name, record.type, dict(record.config), record.created_time)
        return target

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, type={self.type!r})"

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
    def create(workspace: Workspace, name: str, provisioning_configuration: Any) -> ComputeTarget:
        """Azure ML v1's ``ComputeTarget.create(ws, name, AmlCompute.provisioning_configuration(...))``:
        a **local** target named so, whose jobs run as processes on this machine, at most
        ``max_nodes`` at a time. Creating it again under the same name re-configures it (as v1's
        create of an existing cluster does); a name taken by a target of another type is an error."""
        if not isinstance(provisioning_configuration, AmlComputeProvisioningConfiguration):
            raise ComputeTargetException(
                "ComputeTarget.create takes AmlCompute.provisioning_configuration(...) (a local cluster here), "
                f"got {provisioning_configuration!r}; an existing target is attached with "
                "ComputeTarget.attach(ws, name, config)"
            )
        validate_entity_name("compute target", name)
        if name == DEFAULT_TARGET:
            raise ComputeTargetException(
                f"{DEFAULT_TARGET!r} is the built-in target of this machine; choose another name, e.g. 'cpu-cluster'"
            )
        try:
            existing = workspace.services.compute_targets.target(name)
        except NotFoundError:
            existing = None
        if existing is not None and existing.type != AML_COMPUTE and not existing.config.get(AML_ON_DASK):
            raise ComputeTargetException(
                f"compute target {name!r} exists already as a {existing.type!r} target; "
                f"use it with ComputeTarget(workspace=ws, name={name!r}), or choose another name"
            )
        provisioning_configuration.validate_configuration()
        cluster = _attached_cluster(workspace, name)
        if cluster is not None:
            return ComputeTarget.attach(workspace, name, _on_cluster(provisioning_configuration, cluster))
        return ComputeTarget.attach(workspace, name, provisioning_configuration)

    @staticmethod
    def list(workspace: Workspace) -> list[ComputeTarget]:
        """Every target of the workspace, ``local`` included, each as the class of its type."""
        records = {r.name: r for r in workspace.services.compute_targets.targets()}
        targets = [ComputeTarget._of(workspace, r) for r in records.values()]
        if DEFAULT_TARGET not in records:
            targets.append(ComputeTarget(workspace, DEFAULT_TARGET))
        return sorted(targets, key=lambda t: t.name)

    def detach(self) -> None:
        self.workspace.services.compute_targets.detach(self.name)

    # -- Azure ML v1's state API: a target here is ready as soon as it is attached -------------------------
    @property
    def provisioning_state(self) -> str:
        """v1's provisioning state: ``"Succeeded"`` (nothing is provisioned: it runs on this machine)."""
        return "Succeeded"

    @property
    def provisioning_errors(self) -> None:
        return None

    @property
    def location(self) -> str:
        return "local"

    def get_status(self) -> Any:
        """v1: the target's provisioning state, ``"Succeeded"``."""
        return self.provisioning_state

    def refresh_state(self) -> None:
        """v1: re-read the target's settings."""
        self._set(self.workspace, self.name, *_lookup(self.workspace, self.name))

    def wait_for_completion(self, show_output: bool = False, is_delete_operation: bool = False) -> None:
        """v1: wait for provisioning. Nothing is provisioned here: returns at once."""
        if show_output:
            print(f"Succeeded ({self.name!r} is a {self.type!r} target of this machine)", flush=True)

    def delete(self) -> None:
        """v1: remove the target from the workspace (its runs stay). ``local`` cannot be deleted."""
        if self.name == DEFAULT_TARGET:
            raise ComputeTargetException(f"{DEFAULT_TARGET!r} is the built-in target of this machine and stays")
        self.detach()


# -- Azure ML v1's AmlCompute: a "cluster" of at most max_nodes concurrent jobs on this machine ----------------
# ... or, when the workspace has a Dask cluster attached (issue 19), a target on that cluster: v1 code
# that provisions an AmlCompute runs its jobs on the team's Dask workers.
DASK = "dask"
AML_ON_DASK = "aml_compute"  # a dask target's setting: made by AmlCompute.provisioning_configuration


def _attached_cluster(workspace: Workspace, name: str) -> Any:
    """The first Dask target attached by hand (not one made from a provisioning configuration)."""
    for record in sorted(workspace.services.compute_targets.targets(), key=lambda r: r.name):
        if record.type == DASK and record.name != name and not record.config.get(AML_ON_DASK):
            return record
    return None


def _on_cluster(provisioning: AmlComputeProvisioningConfiguration, cluster: Any) -> dict[str, Any]:
    config = provisioning.to_dict()
    config.pop("max_concurrent_runs", None)  # the cluster's workers decide how many run at once
    config.update(type=DASK, scheduler_address=cluster.config["scheduler_address"], max_nodes=provisioning.max_nodes)
    config[AML_ON_DASK] = True
    if cluster.config.get("dashboard_url"):
        config["dashboard_url"] = cluster.config["dashboard_url"]
    return {k: v for k, v in config.items() if v is not None}


def _count(what: str, value: Any, minimum: int, none_ok: bool = True) -> int | None:
    if value is None and none_ok:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ComputeTargetException(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class AmlComputeProvisioningConfiguration:
    """What ``AmlCompute.provisioning_configuration(...)`` returns: ``max_nodes`` becomes the local
    target's ``max_concurrent_runs``; ``vm_size``, ``vm_priority``, ``min_nodes``,
    ``idle_seconds_before_scaledown``, ``tags`` and ``description`` are recorded with it (nothing is
    provisioned: jobs run on this machine). Credentials and network settings are accepted and not stored."""

    vm_size: str = ""
    vm_priority: str = "dedicated"
    min_nodes: int = 0
    max_nodes: int | None = None
    idle_seconds_before_scaledown: int | None = None
    tags: dict[str, str] | None = None
    description: str | None = None
    location: str | None = None
    ignored: list[str] = field(default_factory=list)  # cloud-only settings that were given (not stored)

    def validate_configuration(self) -> None:
        """v1: raise ``ComputeTargetException`` for a bad setting."""
        if not isinstance(self.vm_size, str):
            raise ComputeTargetException(f"vm_size must be a string like 'STANDARD_D2_V2', got {self.vm_size!r}")
        if self.vm_priority not in ("dedicated", "lowpriority"):
            raise ComputeTargetException(f"vm_priority must be 'dedicated' or 'lowpriority', got {self.vm_priority!r}")
        min_nodes = _count("min_nodes", self.min_nodes, 0, none_ok=False)
        max_nodes = _count("max_nodes", self.max_nodes, 1)
        _count("idle_seconds_before_scaledown", self.idle_seconds_before_scaledown, 0)
        if max_nodes is not None and min_nodes is not None and min_nodes > max_nodes:
            raise ComputeTargetException(f"min_nodes ({min_nodes}) must not exceed max_nodes ({max_nodes})")

    def to_dict(self) -> dict[str, Any]:
        """The attach configuration of the local target: ``max_nodes`` (default: this machine's
        number of cores) as ``max_concurrent_runs``, the rest recorded as given."""
        self.validate_configuration()
        config: dict[str, Any] = {
            "type": AML_COMPUTE,
            "max_concurrent_runs": self.max_nodes if self.max_nodes is not None else default_concurrency(),
            "vm_size": self.vm_size,
            "vm_priority": self.vm_priority,
            "min_nodes": self.min_nodes,
        }
        for key in ("idle_seconds_before_scaledown", "tags", "description", "location"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        return config


@dataclass(frozen=True)
class AmlComputeNodeStateCounts:
    """v1's node counts; a "node" here is one of the target's job slots on this machine."""

    idle_node_count: int = 0
    leaving_node_count: int = 0
    preempted_node_count: int = 0
    preparing_node_count: int = 0
    running_node_count: int = 0
    unusable_node_count: int = 0


@dataclass(frozen=True)
class ScaleSettings:
    minimum_node_count: int
    maximum_node_count: int
    idle_seconds_before_scaledown: int | None


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(seconds))


@dataclass(frozen=True)
class AmlComputeStatus:
    """What ``AmlCompute.get_status()`` returns (v1's fields): ``provisioning_state`` is
    ``"Succeeded"``, ``allocation_state`` ``"Steady"``, and the node counts are the target's jobs
    now running (or preparing) on this machine."""

    allocation_state: str
    allocation_state_transition_time: str | None
    creation_time: str | None
    current_node_count: int
    errors: Any
    modified_time: str | None
    node_state_counts: AmlComputeNodeStateCounts
    provisioning_state: str
    provisioning_state_transition_time: str | None
    scale_settings: ScaleSettings
    target_node_count: int
    vm_priority: str
    vm_size: str

    def serialize(self) -> dict[str, Any]:
        """v1's JSON shape (camelCase keys)."""
        counts = self.node_state_counts
        idle = self.scale_settings.idle_seconds_before_scaledown
        return {
            "currentNodeCount": self.current_node_count,
            "targetNodeCount": self.target_node_count,
            "nodeStateCounts": {
                "preparingNodeCount": counts.preparing_node_count,
                "runningNodeCount": counts.running_node_count,
                "idleNodeCount": counts.idle_node_count,
                "unusableNodeCount": counts.unusable_node_count,
                "leavingNodeCount": counts.leaving_node_count,
                "preemptedNodeCount": counts.preempted_node_count,
            },
            "allocationState": self.allocation_state,
            "allocationStateTransitionTime": self.allocation_state_transition_time,
            "errors": self.errors,
            "creationTime": self.creation_time,
            "modifiedTime": self.modified_time,
            "provisioningState": self.provisioning_state,
            "provisioningStateTransitionTime": self.provisioning_state_transition_time,
            "scaleSettings": {
                "minNodeCount": self.scale_settings.minimum_node_count,
                "maxNodeCount": self.scale_settings.maximum_node_count,
                "nodeIdleTimeBeforeScaleDown": None if idle is None else f"PT{idle}S",
            },
            "vmPriority": self.vm_priority,
            "vmSize": self.vm_size,
        }


class AmlCompute(ComputeTarget):
    """Azure ML v1's managed cluster, made **local**: ``ComputeTarget.create(ws, "cpu-cluster",
    AmlCompute.provisioning_configuration(vm_size="STANDARD_D2_V2", max_nodes=4))`` attaches a target
    of this machine that runs at most ``max_nodes`` jobs at a time (the ``local`` target's machinery);
    the VM size and the other cloud settings are recorded, not provisioned. ``ComputeTarget(ws, name)``,
    ``ComputeTarget.list(ws)`` and ``ws.compute_targets`` give it back as an ``AmlCompute``."""

    target_type = AML_COMPUTE

    @staticmethod
    def provisioning_configuration(
        vm_size: str = "",
        vm_priority: str = "dedicated",
        min_nodes: int = 0,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None,
        admin_username: str | None = None,
        admin_user_password: str | None = None,
        admin_user_ssh_key: str | None = None,
        vnet_resourcegroup_name: str | None = None,
        vnet_name: str | None = None,
        subnet_name: str | None = None,
        tags: dict[str, str] | None = None,
        description: str | None = None,
        remote_login_port_public_access: str = "NotSpecified",
        identity_type: str | None = None,
        identity_id: list[str] | None = None,
        location: str | None = None,
        enable_node_public_ip: bool = True,
    ) -> AmlComputeProvisioningConfiguration:
        """v1's signature. ``max_nodes`` (default: this machine's number of cores) is how many jobs
        run at once; the admin credentials, network and identity settings mean nothing on this
        machine: accepted, never stored."""
        cloud_only = {
            "admin_username": admin_username,
            "admin_user_password": admin_user_password,
            "admin_user_ssh_key": admin_user_ssh_key,
            "vnet_resourcegroup_name": vnet_resourcegroup_name,
            "vnet_name": vnet_name,
            "subnet_name": subnet_name,
            "identity_type": identity_type,
            "identity_id": identity_id,
        }
        config = AmlComputeProvisioningConfiguration(
            vm_size=vm_size,
            vm_priority=vm_priority,
            min_nodes=min_nodes,
            max_nodes=max_nodes,
            idle_seconds_before_scaledown=idle_seconds_before_scaledown,
            tags=dict(tags) if tags else None,
            description=description,
            location=location,
            ignored=sorted(k for k, v in cloud_only.items() if v is not None),
        )
        config.validate_configuration()
        return config

    @staticmethod
    def supported_vmsizes(workspace: Workspace, location: str | None = None) -> list[dict[str, Any]]:
        """v1: the VM sizes a cluster can have. Here there is one: this machine (its cores, memory
        and no GPUs counted), under the name ``"local"``."""
        try:
            memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
        except (ValueError, OSError, AttributeError):
            memory_gb = None
        return [{"name": "local", "vCPUs": default_concurrency(), "gpus": 0, "memoryGB": memory_gb}]

    # -- what v1 code reads --------------------------------------------------------------------------------
    @property
    def max_nodes(self) -> int:
        return int(self.config.get("max_concurrent_runs", 1))

    @property
    def vm_size(self) -> str:
        return str(self.config.get("vm_size", ""))

    @property
    def vm_priority(self) -> str:
        return str(self.config.get("vm_priority", "dedicated"))

    @property
    def scale_settings(self) -> ScaleSettings:
        return ScaleSettings(
            int(self.config.get("min_nodes", 0)), self.max_nodes, self.config.get("idle_seconds_before_scaledown")
        )

    @property
    def status(self) -> AmlComputeStatus:
        return self.get_status()

    def get_status(self) -> AmlComputeStatus:
        """v1's ``AmlComputeStatus``: provisioning Succeeded, allocation Steady; the node counts are
        this target's jobs now running (or preparing) here."""
        from .status import RunStatus

        busy = [r for r in self.workspace.services.queries.active_jobs() if r.compute_target == self.name]
        running = sum(r.status in (RunStatus.RUNNING, RunStatus.FINALIZING) for r in busy)
        preparing = sum(r.status in (RunStatus.PREPARING, RunStatus.STARTING) for r in busy)
        settings = self.scale_settings
        current = running + preparing
        created = _iso(self._created)
        return AmlComputeStatus(
            allocation_state="Steady",
            allocation_state_transition_time=created,
            creation_time=created,
            current_node_count=current,
            errors=None,
            modified_time=created,
            node_state_counts=AmlComputeNodeStateCounts(
                idle_node_count=max(0, settings.minimum_node_count - current),
                preparing_node_count=preparing,
                running_node_count=running,
            ),
            provisioning_state=self.provisioning_state,
            provisioning_state_transition_time=created,
            scale_settings=settings,
            target_node_count=max(current, settings.minimum_node_count),
            vm_priority=self.vm_priority,
            vm_size=self.vm_size,
        )

    def wait_for_completion(  # type: ignore[override]  # v1's AmlCompute adds these keywords
        self,
        show_output: bool = False,
        min_node_count: int | None = None,
        timeout_in_minutes: float = 25,
        is_delete_operation: bool = False,
    ) -> None:
        """v1: wait for the cluster's provisioning (and ``min_node_count`` nodes). Nothing is
        provisioned here, so it returns at once; ``show_output`` prints v1's lines and says so."""
        _count("min_node_count", min_node_count, 0)
        if show_output:
            lines = [
                "InProgress.",
                'SucceededProvisioning operation finished, operation "Succeeded"',
                "Succeeded",
                "AmlCompute wait for completion finished",
                "",
                "Minimum number of nodes requested have been provisioned",
                f"(local: {self.name!r} runs at most {self.max_nodes} job(s) at a time as processes on this "
                f"machine; vm_size {self.vm_size!r} is recorded, not provisioned)",
            ]
            print("\n".join(lines), file=sys.stdout, flush=True)

    def update(
        self,
        min_nodes: int | None = None,
        max_nodes: int | None = None,
        idle_seconds_before_scaledown: int | None = None,
    ) -> None:
        """v1: change the scale settings; ``max_nodes`` is the target's concurrency."""
        config = AmlComputeProvisioningConfiguration(
            vm_size=self.vm_size,
            vm_priority=self.vm_priority,
            min_nodes=int(self.config.get("min_nodes", 0)) if min_nodes is None else min_nodes,
            max_nodes=self.max_nodes if max_nodes is None else max_nodes,
            idle_seconds_before_scaledown=(
                self.config.get("idle_seconds_before_scaledown")
                if idle_seconds_before_scaledown is None
                else idle_seconds_before_scaledown
            ),
            tags=self.config.get("tags"),
            description=self.config.get("description"),
            location=self.config.get("location"),
        )
        ComputeTarget.attach(self.workspace, self.name, config)
        self.refresh_state()


# The class ComputeTarget(ws, name) and ComputeTarget.list(ws) give a target of each type (v1 code checks
# `type(t) is AmlCompute`); a type not named here comes back as a plain ComputeTarget.
_CLASSES: dict[str, type[ComputeTarget]] = {AML_COMPUTE: AmlCompute}
