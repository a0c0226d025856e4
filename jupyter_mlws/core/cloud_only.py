"""Azure ML v1's cloud-only compute and web-service classes, importable so that v1 code's imports work.

Using one — constructing it, or asking it for a ``provisioning_configuration``,
``attach_configuration`` or ``deploy_configuration`` — raises a clear error naming what to use on
this machine instead: ``ComputeTargetException`` for the compute classes (an ``AmlCompute`` made
local, the ``local`` target / ``LocalCompute``, or ``DockerCompute`` for containers),
``WebserviceException`` for the web services (deploy locally or on Docker instead),
``UserErrorException`` for the Azure storage datastores (``Datastore.register`` takes any fsspec URL).
"""

from __future__ import annotations

from typing import Any, ClassVar, NoReturn, Self

from ..errors import ComputeTargetException, MlwsError, UserErrorException, WebserviceException

__all__ = [
    "CLOUD_ONLY",
    "AciWebservice",
    "AdlaCompute",
    "AksCompute",
    "AksWebservice",
    "AzureBlobDatastore",
    "AzureDataLakeGen2Datastore",
    "AzureFileDatastore",
    "BatchCompute",
    "ComputeInstance",
    "DataFactoryCompute",
    "DatabricksCompute",
    "HDInsightCompute",
    "KubernetesCompute",
    "KustoCompute",
    "RemoteCompute",
    "SynapseCompute",
]

LOCAL_COMPUTE = (
    "jobs run on this machine; create a local cluster with ComputeTarget.create(ws, name, "
    "AmlCompute.provisioning_configuration(max_nodes=N)), use the 'local' target (LocalCompute), or "
    "ComputeTarget.attach(ws, name, DockerCompute.attach_configuration(...)) for containers"
)
LOCAL_DATASTORE = (
    "register any fsspec URL with Datastore.register(ws, name, url, credentials=None): a local folder, "
    "'s3://bucket/prefix' (any S3-compatible endpoint) or 'memory://name'"
)
LOCAL_SERVICE = (
    "deploy on this machine with Model.deploy(ws, name, models, inference_config, "
    "LocalWebservice.deploy_configuration(...) or DockerWebservice.deploy_configuration(...))"
)


class _CloudOnly:
    """A v1 class whose resource exists only in Azure: every use raises ``_error``."""

    _what: ClassVar[str]  # what the class manages in Azure
    _instead: ClassVar[str]  # what to use on this machine
    _error: ClassVar[type[MlwsError]]

    @classmethod
    def _refuse(cls, use: str) -> NoReturn:
        raise cls._error(f"{cls.__name__}{use} is cloud-only ({cls._what}) and not available here: {cls._instead}")

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        cls._refuse("(...)")

    @classmethod
    def list(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._refuse(".list(...)")


class _CloudCompute(_CloudOnly):
    _instead = LOCAL_COMPUTE
    _error = ComputeTargetException

    @classmethod
    def provisioning_configuration(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._refuse(".provisioning_configuration(...)")

    @classmethod
    def attach_configuration(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._refuse(".attach_configuration(...)")


class _CloudService(_CloudOnly):
    _instead = LOCAL_SERVICE
    _error = WebserviceException

    @classmethod
    def deploy_configuration(cls, *args: Any, **kwargs: Any) -> NoReturn:
        cls._refuse(".deploy_configuration(...)")


class AksCompute(_CloudCompute):
    _what = "an Azure Kubernetes Service cluster"


class ComputeInstance(_CloudCompute):
    _what = "an Azure ML compute instance; the machine running this Jupyter is yours"


class RemoteCompute(_CloudCompute):
    _what = "a remote virtual machine reached over SSH"


class HDInsightCompute(_CloudCompute):
    _what = "an Azure HDInsight cluster"


class DatabricksCompute(_CloudCompute):
    _what = "an Azure Databricks workspace"


class KubernetesCompute(_CloudCompute):
    _what = "an Azure Arc-enabled or AKS Kubernetes cluster"


class SynapseCompute(_CloudCompute):
    _what = "an Azure Synapse Spark pool"


class AdlaCompute(_CloudCompute):
    _what = "an Azure Data Lake Analytics account"


class BatchCompute(_CloudCompute):
    _what = "an Azure Batch account"


class DataFactoryCompute(_CloudCompute):
    _what = "an Azure Data Factory"


class KustoCompute(_CloudCompute):
    _what = "an Azure Data Explorer (Kusto) cluster"


class AksWebservice(_CloudService):
    _what = "a web service on Azure Kubernetes Service"


class AciWebservice(_CloudService):
    _what = "a web service on Azure Container Instances"


class _CloudDatastore(_CloudOnly):
    _instead = LOCAL_DATASTORE
    _error = UserErrorException


class AzureBlobDatastore(_CloudDatastore):
    _what = "an Azure Blob Storage container"


class AzureFileDatastore(_CloudDatastore):
    _what = "an Azure file share"


class AzureDataLakeGen2Datastore(_CloudDatastore):
    _what = "an Azure Data Lake Storage Gen2 file system"


#: Every cloud-only v1 name here, by name.
CLOUD_ONLY: dict[str, type[_CloudOnly]] = {
    cls.__name__: cls
    for cls in (
        AksCompute,
        ComputeInstance,
        RemoteCompute,
        HDInsightCompute,
        DatabricksCompute,
        KubernetesCompute,
        SynapseCompute,
        AdlaCompute,
        BatchCompute,
        DataFactoryCompute,
        KustoCompute,
        AksWebservice,
        AciWebservice,
        AzureBlobDatastore,
        AzureFileDatastore,
        AzureDataLakeGen2Datastore,
    )
}
