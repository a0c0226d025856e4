"""Deployed web services (issue 17): what was deployed, from which models, and how it is configured.

The running side (ports, processes, workers) lives in the service's folder; the store keeps what a
user deployed, the model versions each service uses (the registry refuses to delete those), and the
last state the supervisor reported (mirrored here so lists and the events feed need no file reads).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .base import MetadataInterface

__all__ = ["WEBSERVICE_STATES", "WebserviceRecord", "WebserviceStore"]

#: v1's service states.
WEBSERVICE_STATES = ("Transitioning", "Healthy", "Unhealthy", "Failed")


@dataclass(frozen=True)
class WebserviceRecord:
    """One deployed service. ``models`` are ``"name:version"`` ids; ``inference`` is the inference
    configuration (entry script, source folder, environment name and version); ``config`` the
    deployment configuration (port, data collection, Docker limits, …); ``generation`` counts the
    deployments of this name (an update makes the next one)."""

    name: str
    compute_type: str
    generation: int
    models: Sequence[str]
    inference: Mapping[str, Any]
    config: Mapping[str, Any]
    created_time: float
    updated_time: float
    state: str = "Transitioning"
    error: str | None = None
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    properties: Mapping[str, str] = field(default_factory=dict)


class WebserviceStore(MetadataInterface):
    """Web services by name. Implemented for SQL by ``WebservicesMixin``
    (``stores/metadata/sql/webservices.py``)."""

    @abstractmethod
    def create_webservice(self, record: WebserviceRecord) -> None:
        """Record a new service (AlreadyExistsError if the name is taken; NotFoundError naming a model
        version that does not exist); emits ``webservice.created``."""

    @abstractmethod
    def update_webservice(
        self,
        name: str,
        *,
        generation: int,
        models: Sequence[str],
        inference: Mapping[str, Any],
        config: Mapping[str, Any],
        updated_time: float,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> None:
        """A new deployment of an existing service (the model versions it uses are replaced);
        emits ``webservice.updated``."""

    @abstractmethod
    def set_webservice_state(self, name: str, state: str, error: str | None) -> bool:
        """Mirror the supervisor's state; True (and a ``webservice.state`` event) when it changed."""

    @abstractmethod
    def get_webservice(self, name: str) -> WebserviceRecord:
        """NotFoundError naming the service if there is none."""

    @abstractmethod
    def list_webservices(self) -> list[WebserviceRecord]:
        """Every service, by name."""

    @abstractmethod
    def delete_webservice(self, name: str) -> None:
        """Forget a service (its model versions are free to delete again); emits ``webservice.deleted``."""

    @abstractmethod
    def services_using_model(self, name: str, version: int | None = None) -> list[str]:
        """Names of the services that use this model version (any version when None)."""
