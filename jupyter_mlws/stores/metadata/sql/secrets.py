"""SQL side of :class:`~jupyter_mlws.core.interfaces.secrets.SecretStore` (issue 21)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from ....core.interfaces.secrets import SecretStore
from ....errors import InvalidArgumentError, NotFoundError
from .base import SqlStoreBase
from .schema import secrets

__all__ = ["SecretsMixin"]


def _missing(name: str) -> NotFoundError:
    return NotFoundError(
        f"secret {name!r} does not exist in this workspace; list them with "
        "ws.get_default_keyvault().list_secrets() or `mlws secrets list`"
    )


class SecretsMixin(SqlStoreBase, SecretStore):
    def put_secret(self, name: str, ciphertext: str, time: float) -> None:
        stmt = self.insert(secrets).values(name=name, ciphertext=ciphertext, created_time=time, updated_time=time)
        stmt = stmt.on_conflict_do_update(
            index_elements=[secrets.c.name],
            set_={"ciphertext": stmt.excluded.ciphertext, "updated_time": stmt.excluded.updated_time},
        )
        with self.sql.write() as conn:
            conn.execute(stmt)

    def get_secret_ciphertext(self, name: str) -> str:
        with self.sql.read() as conn:
            value = conn.execute(select(secrets.c.ciphertext).where(secrets.c.name == name)).scalar_one_or_none()
        if value is None:
            raise _missing(name)
        return str(value)

    def list_secret_names(self) -> list[tuple[str, float, float]]:
        with self.sql.read() as conn:
            rows = conn.execute(
                select(secrets.c.name, secrets.c.created_time, secrets.c.updated_time).order_by(secrets.c.name)
            ).all()
        return [(str(r[0]), float(r[1]), float(r[2])) for r in rows]

    def delete_secret(self, name: str) -> None:
        with self.sql.write() as conn:
            if conn.execute(delete(secrets).where(secrets.c.name == name)).rowcount == 0:
                raise _missing(name)

    def replace_all_ciphertexts(self, ciphertexts: Mapping[str, str], time: float) -> None:
        with self.sql.write() as conn:
            stored = set(conn.execute(select(secrets.c.name)).scalars())
            if stored != set(ciphertexts):
                raise InvalidArgumentError(
                    "the secrets changed while their key was being rotated; nothing was changed, run it again"
                )
            for name, ciphertext in ciphertexts.items():
                conn.execute(
                    secrets.update().where(secrets.c.name == name).values(ciphertext=ciphertext, updated_time=time)
                )
