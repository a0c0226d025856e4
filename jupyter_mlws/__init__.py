"""jupyter-mlws: a local-first machine-learning workspace that lives inside Jupyter."""

from __future__ import annotations

from .compute.docker import DockerCompute
from .compute.local import LocalCompute
from .core.compute import ComputeTarget
from .core.environment import Environment
from .core.experiment import Experiment
from .core.model import Model
from .core.run_config import NotebookRunConfig, ScriptRunConfig
from .core.runs import Run, RunPage
from .core.status import RunStatus
from .core.workspace import Workspace
from .errors import (
    ActivityFailedException,
    AzureMLException,
    ComputeTargetException,
    ExperimentExecutionException,
    ModelPathNotFoundException,
    ProjectSystemException,
    RunConfigurationException,
    SnapshotException,
    TrainingException,
    UserErrorException,
    WebserviceException,
)

# isort: split
# Azure ML v1's compute (issue 14): AmlCompute is a local cluster; the cloud-only classes refuse when used.
from .core.cloud_only import (
    AciWebservice,
    AdlaCompute,
    AksCompute,
    AksWebservice,
    BatchCompute,
    ComputeInstance,
    DatabricksCompute,
    DataFactoryCompute,
    HDInsightCompute,
    KubernetesCompute,
    KustoCompute,
    RemoteCompute,
    SynapseCompute,
    Webservice,
)
from .core.compute import AmlCompute, AmlComputeProvisioningConfiguration, AmlComputeStatus

# Azure ML v1: run configuration and conda dependencies (issue 14, items 4-5).
from .core.conda import CondaDependencies
from .core.run_config import DEFAULT_CPU_IMAGE, DockerConfiguration, RunConfiguration

__version__ = "0.1.0"
#: Azure ML v1's ``azureml.core.VERSION``.
VERSION = __version__


def load_ipython_extension(ipython: object) -> None:
    """``%load_ext jupyter_mlws``: the ``%%submit``, ``%register`` and ``%mlws`` magics."""
    from .magics import load_ipython_extension as load

    load(ipython)


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """The prebuilt JupyterLab extension (the ML Workspace sidebar)."""
    return [{"src": "labextension", "dest": "jupyter-mlws"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    """The Jupyter Server extension (enabled on install by jupyter-config/)."""
    from .server import _jupyter_server_extension_points as points

    return points()


__all__ = [
    "DEFAULT_CPU_IMAGE",
    "VERSION",
    "AciWebservice",
    "ActivityFailedException",
    "AdlaCompute",
    "AksCompute",
    "AksWebservice",
    "AmlCompute",
    "AmlComputeProvisioningConfiguration",
    "AmlComputeStatus",
    "AzureMLException",
    "BatchCompute",
    "ComputeInstance",
    "ComputeTarget",
    "ComputeTargetException",
    "CondaDependencies",
    "DataFactoryCompute",
    "DatabricksCompute",
    "DockerCompute",
    "DockerConfiguration",
    "Environment",
    "Experiment",
    "ExperimentExecutionException",
    "HDInsightCompute",
    "KubernetesCompute",
    "KustoCompute",
    "LocalCompute",
    "Model",
    "ModelPathNotFoundException",
    "NotebookRunConfig",
    "ProjectSystemException",
    "RemoteCompute",
    "Run",
    "RunConfiguration",
    "RunConfigurationException",
    "RunPage",
    "RunStatus",
    "ScriptRunConfig",
    "SnapshotException",
    "SynapseCompute",
    "TrainingException",
    "UserErrorException",
    "Webservice",
    "WebserviceException",
    "Workspace",
    "__version__",
]
