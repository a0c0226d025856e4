"""The one exception tree of jupyter-mlws.

Every error the public API raises on purpose is an :class:`MlwsError`. Each class knows the HTTP
status the server answers with, so handlers translate errors in one place. Errors pickle (they cross
process boundaries: jobs run in other processes and containers).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ActivityFailedException",
    "AlreadyExistsError",
    "AzureMLException",
    "BackendUnavailableError",
    "ComputeTargetException",
    "ComputeTargetNotFoundError",
    "DatasetChangedError",
    "EnvironmentBuildError",
    "ExperimentExecutionException",
    "InvalidArgumentError",
    "InvalidStateError",
    "MlwsError",
    "ModelNotFoundException",
    "ModelPathNotFoundException",
    "NotFoundError",
    "ProjectSystemException",
    "RunConfigurationException",
    "RunFailedError",
    "SnapshotException",
    "TrainingException",
    "UserErrorException",
    "WebserviceException",
]


class MlwsError(Exception):
    """Base of every jupyter-mlws error."""

    http_status: int = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message,))

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, str]:
        """The JSON body the server answers with: ``{"type": ..., "message": ...}``."""
        return {"type": type(self).__name__, "message": self.message}


class NotFoundError(MlwsError, LookupError):
    """A workspace, experiment, run, file or model that does not exist."""

    http_status = 404


class AlreadyExistsError(MlwsError):
    """Something that must be unique exists already (a run file, a workspace with exist_ok=False)."""

    http_status = 409


class InvalidArgumentError(MlwsError, ValueError):
    """A bad name, value, path or filter: the message names the thing and the fix."""

    http_status = 400


class InvalidStateError(MlwsError):
    """The call does not fit the object's state (a finished run, an immutable property)."""

    http_status = 409


class BackendUnavailableError(MlwsError):
    """A store or engine (database, object store, Docker) cannot be reached or is not installed."""

    http_status = 503


class RunFailedError(InvalidStateError):
    """``wait_for_completion(raise_on_error=True)`` on a run that ended Failed or Canceled."""


class EnvironmentBuildError(InvalidStateError):
    """An environment could not be built (a package pip cannot install, a base image without
    Python). ``log`` holds the build's log; the message ends with its telling lines."""

    def __init__(self, message: str, log: str = "", activity_id: str | None = None) -> None:
        super().__init__(message)
        self.log = log
        self.activity_id = activity_id

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.log, self.activity_id))


class DatasetChangedError(InvalidStateError):
    """A file of a dataset version no longer holds the bytes fingerprinted at registration (changed in
    place, or gone). ``path`` names the file, ``expected`` and ``found`` are sha256 digests (``found``
    is None for a missing file). Reading with ``validate=False`` skips the check."""

    def __init__(
        self, message: str, path: str | None = None, expected: str | None = None, found: str | None = None
    ) -> None:
        super().__init__(message)
        self.path = path
        self.expected = expected
        self.found = found

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.message, self.path, self.expected, self.found))


# -- Azure ML v1's names (``azureml.exceptions``), so that v1 code's ``except`` clauses work. Each is
# a subclass in this tree: where v1 raises one, this project raises it (or a subclass of it), and
# code written for this project catches it by the project's own class too. ``AzureMLException``
# defines no status of its own: each name takes the status of the project class it also is.
class AzureMLException(MlwsError):
    """v1's base exception (``azureml.exceptions.AzureMLException``)."""


class UserErrorException(AzureMLException, InvalidArgumentError):
    """v1: the caller passed something wrong."""


class ComputeTargetException(AzureMLException):
    """v1: a compute target is missing, or cannot be created, attached or configured. v1 code does
    ``try: ComputeTarget(workspace=ws, name=...) except ComputeTargetException: create it``."""

    http_status = 404


class ComputeTargetNotFoundError(ComputeTargetException, NotFoundError):
    """No target of that name is attached: v1's ``ComputeTargetException`` (v1 code creates the target
    in its ``except`` clause) and the project's ``NotFoundError`` at once."""


class ActivityFailedException(AzureMLException, RunFailedError):
    """v1: ``run.wait_for_completion(raise_on_error=True)`` on a run that ended Failed or Canceled."""


class ExperimentExecutionException(AzureMLException, InvalidStateError):
    """v1: a run could not be submitted or executed."""


class RunConfigurationException(AzureMLException, InvalidArgumentError):
    """v1: a run configuration (script, arguments, environment, target) is not valid."""


class SnapshotException(AzureMLException, InvalidArgumentError):
    """v1: a snapshot could not be taken (too many files, too large, a missing folder)."""


class TrainingException(AzureMLException, InvalidStateError):
    """v1: an error while training (estimators and their runs)."""


class ProjectSystemException(AzureMLException, InvalidStateError):
    """v1: a project folder or its configuration is not usable."""


class ModelPathNotFoundException(AzureMLException, NotFoundError):
    """v1: ``Model.register(model_path=...)`` names nothing that exists."""


class ModelNotFoundException(AzureMLException, NotFoundError):
    """v1: ``Model.get_model_path`` finds no such model among a service's (or the local) models."""


class WebserviceException(AzureMLException, InvalidStateError):
    """v1: a web service could not be deployed, updated, called or found."""
