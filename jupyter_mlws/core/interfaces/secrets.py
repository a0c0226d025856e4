"""Workspace secrets (issue 21, the Key Vault role): encrypted values by name.

The store keeps only ciphertext; the key lives outside the database (``core/secret_key.py``) and the
facade (``core/keyvault.py``) encrypts and decrypts. Names follow Azure Key Vault's rule: 1-127
letters, digits and ``-``.
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping

from ...errors import InvalidArgumentError
from .base import MetadataInterface

__all__ = ["SECRET_NAME", "SecretStore", "check_secret_name"]

#: Azure Key Vault's secret names: 1-127 letters, digits and dashes.
SECRET_NAME = re.compile(r"[A-Za-z0-9-]{1,127}")


def check_secret_name(name: object) -> str:
    """``name`` if it is a valid secret name, else InvalidArgumentError saying the rule."""
    if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
        raise InvalidArgumentError(
            f"{name!r} is no valid secret name: use 1-127 letters, digits and '-' (Azure Key Vault's rule)"
        )
    return name


class SecretStore(MetadataInterface):
    """Secret ciphertexts by name. Implemented for SQL by ``SecretsMixin`` (``stores/metadata/sql/secrets.py``)."""

    @abstractmethod
    def put_secret(self, name: str, ciphertext: str, time: float) -> None:
        """Create or replace secret ``name`` (its created time kept on replace, updated time ``time``)."""

    @abstractmethod
    def get_secret_ciphertext(self, name: str) -> str:
        """NotFoundError naming the secret if there is none."""

    @abstractmethod
    def list_secret_names(self) -> list[tuple[str, float, float]]:
        """Every secret as ``(name, created_time, updated_time)``, by name."""

    @abstractmethod
    def delete_secret(self, name: str) -> None:
        """Remove a secret; NotFoundError naming it if there is none."""

    @abstractmethod
    def replace_all_ciphertexts(self, ciphertexts: Mapping[str, str], time: float) -> None:
        """Replace the ciphertext of every named secret in one transaction (key rotation); the names must
        be exactly the stored ones, else InvalidArgumentError and nothing changes."""
