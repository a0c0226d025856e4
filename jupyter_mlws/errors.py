"""The one exception tree of jupyter-mlws.

Every error the public API raises on purpose is an :class:`MlwsError`. Each class knows the HTTP
status the server answers with, so handlers translate errors in one place. Errors pickle (they cross
process boundaries: jobs run in other processes and containers).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyExistsError",
    "BackendUnavailableError",
    "EnvironmentBuildError",
    "InvalidArgumentError",
    "InvalidStateError",
    "MlwsError",
    "NotFoundError",
    "RunFailedError",
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
