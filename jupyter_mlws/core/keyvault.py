"""``Keyvault``: a workspace's secrets with Azure ML v1's names (issue 21).

``ws.get_default_keyvault()`` gives it. Values are encrypted at rest with Fernet (``cryptography``); the
key lives outside the database (see :mod:`jupyter_mlws.core.secret_key`), the database keeps only
ciphertext. Nothing here prints or logs a value, and ``list_secrets`` returns names only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from ..errors import InvalidArgumentError
from .names import secret_names

if TYPE_CHECKING:
    from .workspace import Workspace

__all__ = ["Keyvault"]


class Keyvault:
    """The workspace's vault (Azure ML v1's ``azureml.core.Keyvault``)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace

    def __repr__(self) -> str:
        return f"Keyvault(workspace={self.workspace.name!r})"

    def set_secret(self, name: str, value: str) -> None:
        """Store ``value`` (a non-empty str) as secret ``name``, replacing any earlier value."""
        self.workspace.services.secrets.set({name: value})

    def set_secrets(self, secrets_batch: Mapping[str, str]) -> None:
        """Store several secrets (all checked before any is written)."""
        if not isinstance(secrets_batch, Mapping):
            raise InvalidArgumentError("set_secrets takes a dict of names to values")
        self.workspace.services.secrets.set(secrets_batch)

    def get_secret(self, name: str) -> str:
        """The value of secret ``name`` (NotFoundError naming it if there is none)."""
        if not isinstance(name, str):
            raise InvalidArgumentError(f"get_secret takes a secret's name (a str), not {type(name).__name__}")
        return self.get_secrets([name])[name]

    def get_secrets(self, secrets: Iterable[str]) -> dict[str, str]:
        """The values of the named secrets, by name. In a job they come from its supervisor, as
        ``run.get_secret``'s do, and what this process logs from then on masks them."""
        from .runs.secrets import obtain_secrets

        return obtain_secrets(secret_names(secrets), lambda: self.workspace)

    def list_secrets(self) -> list[dict[str, str]]:
        """Every secret's name, as v1: ``[{"name": ...}, ...]``; never a value."""
        return [{"name": name} for name, _, _ in self.workspace.services.secrets.list()]

    def delete_secret(self, name: str) -> None:
        """Remove secret ``name`` (NotFoundError naming it if there is none)."""
        self.workspace.services.secrets.delete(name)

    def rotate_key(self, new_key: str | bytes | None = None) -> str:
        """Re-encrypt every secret with ``new_key`` (generated when None) in one transaction and keep the key
        where the current one lives (the keyring or the key file; with ``MLWS_SECRET_KEY`` the new key must
        be given and set there afterwards). If any secret cannot be decrypted, nothing changes. Returns where
        the new key is kept."""
        return self.workspace.services.secrets.rotate(new_key).source
