"""The index of a run's files: path, blob digest and size (the bytes live in the artifact store)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import delete, select

from ....core.entities import BlobReference, FileRecord
from ....core.interfaces import RunFileStore
from ....errors import AlreadyExistsError, InvalidArgumentError, NotFoundError
from .base import SqlStoreBase, chunks
from .schema import run_files, runs

__all__ = ["RunFilesMixin"]


class RunFilesMixin(SqlStoreBase, RunFileStore):
    def add_run_files(self, run_id: str, files: Sequence[FileRecord], overwrite: bool = False) -> None:
        if not files:
            return
        now = time.time()
        with self.sql.write() as conn:
            run_key = self.run_key(conn, run_id)
            paths = [f.path for f in files]
            if len(set(paths)) != len(paths):
                raise InvalidArgumentError("the same file name appears twice in one upload")
            if overwrite:
                for part in chunks(paths):
                    conn.execute(delete(run_files).where(run_files.c.run_key == run_key, run_files.c.path.in_(part)))
            else:
                for part in chunks(paths):
                    existing = conn.execute(
                        select(run_files.c.path).where(run_files.c.run_key == run_key, run_files.c.path.in_(part))
                    ).first()
                    if existing is not None:
                        raise AlreadyExistsError(
                            f"run {run_id!r} already has a file {existing[0]!r}; files of a run are "
                            "immutable, upload under another name"
                        )
            conn.execute(
                run_files.insert(),
                [
                    {
                        "run_key": run_key,
                        "path": f.path,
                        "digest": f.digest,
                        "size": f.size,
                        "created_time": now,
                    }
                    for f in files
                ],
            )

    def list_run_files(self, run_id: str, prefix: str | None = None) -> list[FileRecord]:
        with self.sql.read() as conn:
            query = select(run_files.c.path, run_files.c.digest, run_files.c.size).where(
                run_files.c.run_key == self.run_key(conn, run_id)
            )
            if prefix:
                query = query.where(run_files.c.path.startswith(prefix, autoescape=True))
            rows = conn.execute(query.order_by(run_files.c.path)).all()
        return [FileRecord(*row) for row in rows]

    def get_run_file(self, run_id: str, path: str) -> FileRecord:
        with self.sql.read() as conn:
            row = conn.execute(
                select(run_files.c.path, run_files.c.digest, run_files.c.size).where(
                    run_files.c.run_key == self.run_key(conn, run_id), run_files.c.path == path
                )
            ).first()
        if row is None:
            raise NotFoundError(f"run {run_id!r} has no file {path!r}; see run.get_file_names()")
        return FileRecord(*row)

    def run_file_references(self) -> list[BlobReference]:
        query = select(run_files.c.digest, runs.c.run_id, run_files.c.path).join(
            runs, runs.c.key == run_files.c.run_key
        )
        with self.sql.read() as conn:
            return [BlobReference(d, f"run {run_id} file {path}") for d, run_id, path in conn.execute(query)]
