"""jupyter-mlws: a local-first machine-learning workspace that lives inside Jupyter.

Every public name, Azure ML v1's included, is importable from here (``from jupyter_mlws import
Workspace``). They load on first use: ``import jupyter_mlws`` stays cheap for the command line, the
server extension and job processes, and a later feature adds its names to ``_EXPORTS`` alone.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
#: Azure ML v1's ``azureml.core.VERSION``.
VERSION = __version__

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "DockerCompute": ".compute.docker",
    "DaskCompute": ".compute.dask",
    "LocalCompute": ".compute.local",
    "ComputeTarget": ".core.compute",
    "AmlCompute": ".core.compute",
    "AmlComputeProvisioningConfiguration": ".core.compute",
    "AmlComputeStatus": ".core.compute",
    "Environment": ".core.environment",
    "Experiment": ".core.experiment",
    "Model": ".core.model",
    "NotebookRunConfig": ".core.run_config",
    "ScriptRunConfig": ".core.run_config",
    "DEFAULT_CPU_IMAGE": ".core.run_config",
    "DockerConfiguration": ".core.run_config",
    "RunConfiguration": ".core.run_config",
    "Run": ".core.runs",
    "RunPage": ".core.runs",
    "RunStatus": ".core.status",
    "Workspace": ".core.workspace",
    "ActivityFailedException": ".errors",
    "AzureMLException": ".errors",
    "ComputeTargetException": ".errors",
    "ExperimentExecutionException": ".errors",
    "ModelNotFoundException": ".errors",
    "ModelPathNotFoundException": ".errors",
    "ProjectSystemException": ".errors",
    "RunConfigurationException": ".errors",
    "SnapshotException": ".errors",
    "TrainingException": ".errors",
    "UserErrorException": ".errors",
    "WebserviceException": ".errors",
    "AciWebservice": ".core.cloud_only",
    "AdlaCompute": ".core.cloud_only",
    "AksCompute": ".core.cloud_only",
    "AksWebservice": ".core.cloud_only",
    "BatchCompute": ".core.cloud_only",
    "ComputeInstance": ".core.cloud_only",
    "DatabricksCompute": ".core.cloud_only",
    "DataFactoryCompute": ".core.cloud_only",
    "HDInsightCompute": ".core.cloud_only",
    "KubernetesCompute": ".core.cloud_only",
    "KustoCompute": ".core.cloud_only",
    "RemoteCompute": ".core.cloud_only",
    "SynapseCompute": ".core.cloud_only",
    "CondaDependencies": ".core.conda",
    "AbstractAuthentication": ".core.v1auth",
    "AzureCliAuthentication": ".core.v1auth",
    "InteractiveLoginAuthentication": ".core.v1auth",
    "MsiAuthentication": ".core.v1auth",
    "ServicePrincipalAuthentication": ".core.v1auth",
    "TokenAuthentication": ".core.v1auth",
    "ResourceConfiguration": ".core.model_v1",
    "Keyvault": ".core.keyvault",
    "Datastore": ".data.datastore",
    "DataPath": ".data.datastore",
    "Dataset": ".data.dataset",
    "TabularDataset": ".data.dataset",
    "FileDataset": ".data.dataset",
    "DataType": ".data.tabular",
    "DatasetConsumptionConfig": ".data.consumption",
    "AzureBlobDatastore": ".core.cloud_only",
    "AzureFileDatastore": ".core.cloud_only",
    "AzureDataLakeGen2Datastore": ".core.cloud_only",
    "DataReference": ".data.references",
    "DataPathComputeBinding": ".data.references",
    "Pipeline": ".pipelines.graph",
    "PythonScriptStep": ".pipelines.steps",
    "NotebookStep": ".pipelines.steps",
    "ParallelRunConfig": ".pipelines.parallel",
    "ParallelRunStep": ".pipelines.parallel",
    "PipelineStep": ".pipelines.steps",
    "PipelineData": ".pipelines.data",
    "OutputFileDatasetConfig": ".pipelines.data",
    "PipelineParameter": ".pipelines.data",
    "PipelineRun": ".pipelines.runs",
    "StepRun": ".pipelines.runs",
    "PublishedPipeline": ".pipelines.published",
    "PipelineEndpoint": ".pipelines.published",
    "Schedule": ".pipelines.schedules",
    "ScheduleRecurrence": ".pipelines.recurrence",
    "TimeZone": ".pipelines.recurrence",
    "InferenceConfig": ".serving.config",
    "DataDriftDetector": ".monitoring.detector",
    "AlertConfiguration": ".monitoring.alerts",
    "Webservice": ".serving.webservice",
    "LocalWebservice": ".serving.webservice",
    "DockerWebservice": ".serving.webservice",
    "ModelPackage": ".serving.packaging",
    "HyperDriveConfig": ".sweeps.config",
    "PrimaryMetricGoal": ".sweeps.config",
    "HyperDriveRun": ".sweeps.run",
    "GridParameterSampling": ".sweeps.sampling",
    "RandomParameterSampling": ".sweeps.sampling",
    "BayesianParameterSampling": ".sweeps.sampling",
    "HyperParameterSampling": ".sweeps.sampling",
    "BanditPolicy": ".sweeps.policies",
    "MedianStoppingPolicy": ".sweeps.policies",
    "TruncationSelectionPolicy": ".sweeps.policies",
    "NoTerminationPolicy": ".sweeps.policies",
    "EarlyTerminationPolicy": ".sweeps.policies",
    "choice": ".sweeps.expressions",
    "randint": ".sweeps.expressions",
    "uniform": ".sweeps.expressions",
    "quniform": ".sweeps.expressions",
    "loguniform": ".sweeps.expressions",
    "qloguniform": ".sweeps.expressions",
    "normal": ".sweeps.expressions",
    "qnormal": ".sweeps.expressions",
    "lognormal": ".sweeps.expressions",
    "qlognormal": ".sweeps.expressions",
}

if TYPE_CHECKING:  # what type checkers and editors see; at run time __getattr__ loads them
    from .compute.dask import DaskCompute
    from .compute.docker import DockerCompute
    from .compute.local import LocalCompute
    from .core.cloud_only import (
        AciWebservice,
        AdlaCompute,
        AksCompute,
        AksWebservice,
        AzureBlobDatastore,
        AzureDataLakeGen2Datastore,
        AzureFileDatastore,
        BatchCompute,
        ComputeInstance,
        DatabricksCompute,
        DataFactoryCompute,
        HDInsightCompute,
        KubernetesCompute,
        KustoCompute,
        RemoteCompute,
        SynapseCompute,
    )
    from .core.compute import AmlCompute, AmlComputeProvisioningConfiguration, AmlComputeStatus, ComputeTarget
    from .core.conda import CondaDependencies
    from .core.environment import Environment
    from .core.experiment import Experiment
    from .core.keyvault import Keyvault
    from .core.model import Model, ResourceConfiguration
    from .core.run_config import (
        DEFAULT_CPU_IMAGE,
        DockerConfiguration,
        NotebookRunConfig,
        RunConfiguration,
        ScriptRunConfig,
    )
    from .core.runs import Run, RunPage
    from .core.status import RunStatus
    from .core.v1auth import (
        AbstractAuthentication,
        AzureCliAuthentication,
        InteractiveLoginAuthentication,
        MsiAuthentication,
        ServicePrincipalAuthentication,
        TokenAuthentication,
    )
    from .core.workspace import Workspace
    from .data.consumption import DatasetConsumptionConfig
    from .data.dataset import Dataset, FileDataset, TabularDataset
    from .data.datastore import DataPath, Datastore
    from .data.references import DataPathComputeBinding, DataReference
    from .data.tabular import DataType
    from .errors import (
        ActivityFailedException,
        AzureMLException,
        ComputeTargetException,
        ExperimentExecutionException,
        ModelNotFoundException,
        ModelPathNotFoundException,
        ProjectSystemException,
        RunConfigurationException,
        SnapshotException,
        TrainingException,
        UserErrorException,
        WebserviceException,
    )
    from .monitoring.alerts import AlertConfiguration
    from .monitoring.detector import DataDriftDetector
    from .pipelines.data import OutputFileDatasetConfig, PipelineData, PipelineParameter
    from .pipelines.graph import Pipeline
    from .pipelines.parallel import ParallelRunConfig, ParallelRunStep
    from .pipelines.published import PipelineEndpoint, PublishedPipeline
    from .pipelines.recurrence import ScheduleRecurrence, TimeZone
    from .pipelines.runs import PipelineRun, StepRun
    from .pipelines.schedules import Schedule
    from .pipelines.steps import NotebookStep, PipelineStep, PythonScriptStep
    from .serving.config import InferenceConfig
    from .serving.packaging import ModelPackage
    from .serving.webservice import DockerWebservice, LocalWebservice, Webservice
    from .sweeps.config import HyperDriveConfig, PrimaryMetricGoal
    from .sweeps.expressions import (
        choice,
        lognormal,
        loguniform,
        normal,
        qlognormal,
        qloguniform,
        qnormal,
        quniform,
        randint,
        uniform,
    )
    from .sweeps.policies import (
        BanditPolicy,
        EarlyTerminationPolicy,
        MedianStoppingPolicy,
        NoTerminationPolicy,
        TruncationSelectionPolicy,
    )
    from .sweeps.run import HyperDriveRun
    from .sweeps.sampling import (
        BayesianParameterSampling,
        GridParameterSampling,
        HyperParameterSampling,
        RandomParameterSampling,
    )


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'jupyter_mlws' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


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
    "AbstractAuthentication",
    "AciWebservice",
    "ActivityFailedException",
    "AdlaCompute",
    "AksCompute",
    "AksWebservice",
    "AlertConfiguration",
    "AmlCompute",
    "AmlComputeProvisioningConfiguration",
    "AmlComputeStatus",
    "AzureBlobDatastore",
    "AzureCliAuthentication",
    "AzureDataLakeGen2Datastore",
    "AzureFileDatastore",
    "AzureMLException",
    "BanditPolicy",
    "BatchCompute",
    "BayesianParameterSampling",
    "ComputeInstance",
    "ComputeTarget",
    "ComputeTargetException",
    "CondaDependencies",
    "DaskCompute",
    "DataDriftDetector",
    "DataFactoryCompute",
    "DataPath",
    "DataPathComputeBinding",
    "DataReference",
    "DataType",
    "DatabricksCompute",
    "Dataset",
    "DatasetConsumptionConfig",
    "Datastore",
    "DockerCompute",
    "DockerConfiguration",
    "DockerWebservice",
    "EarlyTerminationPolicy",
    "Environment",
    "Experiment",
    "ExperimentExecutionException",
    "FileDataset",
    "GridParameterSampling",
    "HDInsightCompute",
    "HyperDriveConfig",
    "HyperDriveRun",
    "HyperParameterSampling",
    "InferenceConfig",
    "InteractiveLoginAuthentication",
    "Keyvault",
    "KubernetesCompute",
    "KustoCompute",
    "LocalCompute",
    "LocalWebservice",
    "MedianStoppingPolicy",
    "Model",
    "ModelNotFoundException",
    "ModelPackage",
    "ModelPathNotFoundException",
    "MsiAuthentication",
    "NoTerminationPolicy",
    "NotebookRunConfig",
    "NotebookStep",
    "OutputFileDatasetConfig",
    "ParallelRunConfig",
    "ParallelRunStep",
    "Pipeline",
    "PipelineData",
    "PipelineEndpoint",
    "PipelineParameter",
    "PipelineRun",
    "PipelineStep",
    "PrimaryMetricGoal",
    "ProjectSystemException",
    "PublishedPipeline",
    "PythonScriptStep",
    "RandomParameterSampling",
    "RemoteCompute",
    "ResourceConfiguration",
    "Run",
    "RunConfiguration",
    "RunConfigurationException",
    "RunPage",
    "RunStatus",
    "Schedule",
    "ScheduleRecurrence",
    "ScriptRunConfig",
    "ServicePrincipalAuthentication",
    "SnapshotException",
    "StepRun",
    "SynapseCompute",
    "TabularDataset",
    "TimeZone",
    "TokenAuthentication",
    "TrainingException",
    "TruncationSelectionPolicy",
    "UserErrorException",
    "Webservice",
    "WebserviceException",
    "Workspace",
    "__version__",
    "choice",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]
