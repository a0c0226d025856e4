"""Azure ML v1's authentication classes, for v1 code that builds one before ``Workspace.from_config(auth=...)``.

A local workspace has no sign-in: its files belong to the user who runs the code (see SECURITY.md), so
these objects are accepted wherever v1 takes ``auth`` and change nothing. They keep no password or
token: a service principal's secret given to one is dropped at once, never stored or shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "AbstractAuthentication",
    "AzureCliAuthentication",
    "InteractiveLoginAuthentication",
    "MsiAuthentication",
    "ServicePrincipalAuthentication",
    "TokenAuthentication",
]


class AbstractAuthentication:
    """The base of v1's authentication classes: here, a sign-in a local workspace does not need."""

    def __init__(self, cloud: str | None = None) -> None:
        self.cloud = cloud or "AzureCloud"

    def get_authentication_header(self) -> dict[str, str]:
        """v1 sends this header to Azure; a local workspace takes no header: empty."""
        return {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(local workspace: no sign-in needed)"


class InteractiveLoginAuthentication(AbstractAuthentication):
    def __init__(self, force: bool = False, tenant_id: str | None = None, cloud: str | None = None) -> None:
        super().__init__(cloud)
        self.tenant_id = tenant_id


class AzureCliAuthentication(AbstractAuthentication):
    pass


class MsiAuthentication(AbstractAuthentication):
    def __init__(self, cloud: str | None = None, identity_config: dict[str, Any] | None = None) -> None:
        super().__init__(cloud)


class ServicePrincipalAuthentication(AbstractAuthentication):
    def __init__(
        self,
        tenant_id: str,
        service_principal_id: str,
        service_principal_password: str,
        cloud: str = "AzureCloud",
        _enable_caching: bool = True,
    ) -> None:
        super().__init__(cloud)
        self.tenant_id = tenant_id
        self.service_principal_id = service_principal_id
        # The password is not kept: nothing here uses it, and a kept secret could end up in a repr or a log.


class TokenAuthentication(AbstractAuthentication):
    def __init__(self, get_token_for_audience: Callable[..., Any] | None = None, cloud: str = "AzureCloud") -> None:
        super().__init__(cloud)
