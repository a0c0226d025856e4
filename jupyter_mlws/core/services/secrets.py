"""Secret use cases (issue 21): encrypt on write, decrypt on read, rotate the key; the store sees ciphertext only.

The key is found by :mod:`..secret_key` each time (an environment change is seen at once); a team
workspace (PostgreSQL metadata) takes it from ``MLWS_SECRET_KEY`` only.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping

from ...errors import InvalidArgumentError, NotFoundError
from ..interfaces.secrets import check_secret_name
from ..secret_key import SecretKey, SecretKeyError, load_key, parse_key, save_key
from .context import Backends

__all__ = ["SecretKeyError", "SecretService"]  # the error its use cases raise, for the feature packages


def _value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise InvalidArgumentError(f"secret {name!r}: a value must be a str, not {type(value).__name__}")
    if not value:
        raise InvalidArgumentError(f"secret {name!r}: the value is empty; delete the secret instead")
    return value


class SecretService:
    def __init__(self, backends: Backends) -> None:
        self._b = backends

    @property
    def team(self) -> bool:
        """A team workspace: its metadata is on PostgreSQL."""
        return str(getattr(self._b, "metadata_url", "")).startswith("postgresql")

    def key(self, *, create: bool = False) -> SecretKey:
        return load_key(team=self.team, create=create)

    def _decrypt(self, name: str, key: SecretKey, ciphertext: str | None = None) -> str:
        if ciphertext is None:
            ciphertext = self._b.metadata.get_secret_ciphertext(name)
        try:
            return key.fernet().decrypt(ciphertext.encode()).decode()
        except _invalid_token():
            raise SecretKeyError(
                f"secret {name!r} cannot be decrypted with the key from {key.source}: the secrets were written "
                "with another key (set MLWS_SECRET_KEY to the key they were written with)"
            ) from None

    def set(self, values: Mapping[str, object]) -> None:
        checked = {check_secret_name(n): _value(n, v) for n, v in values.items()}
        if not checked:
            return
        fernet = self.key(create=True).fernet()
        now = time.time()
        for name, value in checked.items():
            self._b.metadata.put_secret(name, fernet.encrypt(value.encode()).decode(), now)

    def get(self, names: Iterable[str]) -> dict[str, str]:
        wanted = [check_secret_name(n) for n in names]
        if not wanted:
            return {}
        key = self.key()
        return {name: self._decrypt(name, key) for name in wanted}

    def find(self, name: str) -> str | None:
        """The value of secret ``name``, or None when there is no such secret. The key is looked for only
        when the secret exists: a workspace whose secrets a caller may not need (a datastore without
        credentials) works on a machine with no key."""
        check_secret_name(name)
        try:
            ciphertext = self._b.metadata.get_secret_ciphertext(name)
        except NotFoundError:
            return None
        return self._decrypt(name, self.key(), ciphertext)

    def list(self) -> list[tuple[str, float, float]]:
        """``(name, created_time, updated_time)`` of every secret, by name; never a value."""
        return self._b.metadata.list_secret_names()

    def delete(self, name: str) -> None:
        self._b.metadata.delete_secret(check_secret_name(name))

    def rotate(self, new_key: str | bytes | None = None) -> SecretKey:
        """Re-encrypt every secret with ``new_key`` (a Fernet key; generated when None) in one transaction
        and store the key where the current one lives. Every secret is decrypted with the old key first:
        if any fails, nothing changes. A key from ``MLWS_SECRET_KEY`` cannot be written: then ``new_key`` is
        required and the caller sets ``MLWS_SECRET_KEY`` to it afterwards. Returns the new key."""
        old = self.key(create=True)
        if old.kind == "env" and new_key is None:
            raise InvalidArgumentError(
                "the current key comes from MLWS_SECRET_KEY, which mlws cannot rewrite: give the new key "
                "(MLWS_NEW_SECRET_KEY for `mlws secrets rotate-key`), then set MLWS_SECRET_KEY to it"
            )
        from cryptography.fernet import Fernet

        fresh = parse_key(new_key, "the new key") if new_key is not None else Fernet.generate_key()
        names = [n for n, _, _ in self.list()]
        plain = {name: self._decrypt(name, old) for name in names}
        fernet = Fernet(fresh)
        ciphertexts = {name: fernet.encrypt(value.encode()).decode() for name, value in plain.items()}
        if old.kind == "env":
            self._b.metadata.replace_all_ciphertexts(ciphertexts, time.time())
            return SecretKey(fresh, "MLWS_SECRET_KEY (set it to the new key)", "env")
        # Keep the old key's copy until the database holds the new ciphertexts: a crash between the two
        # leaves the database readable with the old key, which is still stored.
        self._b.metadata.replace_all_ciphertexts(ciphertexts, time.time())
        try:
            return save_key(fresh, old.kind)
        except BaseException:
            self._b.metadata.replace_all_ciphertexts(
                {n: old.fernet().encrypt(v.encode()).decode() for n, v in plain.items()}, time.time()
            )
            raise


def _invalid_token() -> type[Exception]:
    # cryptography is imported when a secret is used: a job's runtime (a container's) may not have it.
    from cryptography.fernet import InvalidToken

    return InvalidToken
