"""``run.get_secret`` / ``run.get_secrets`` (Azure ML v1's names, issue 21): where a run's code gets a secret.

In a job, from its supervisor over the job's own channel (a Unix socket only the job's processes are
given: ``MLWS_SECRETS_API`` on the local and Dask targets, the job API on Docker), which answers the
names asked for and nothing else: the job never holds the vault's key nor all secrets. Outside a job
(an interactive or offline run), from the workspace's vault directly. Either way the values are added
to this process's :data:`~jupyter_mlws.core.redaction.REDACTOR`, so what the run logs masks them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ...errors import InvalidArgumentError, MlwsError
from ..layout import ENV_RUN_ID, ENV_SECRETS_API
from ..names import secret_names
from ..redaction import REDACTOR

if TYPE_CHECKING:
    from ..workspace import Workspace

__all__ = ["RunSecrets", "obtain_secrets"]


def obtain_secrets(names: list[str], workspace: Callable[[], Workspace]) -> dict[str, str]:
    """The values of ``names``: from the job's channel when this process runs in a job, else the vault."""
    if not names:
        return {}
    path = os.environ.get(ENV_SECRETS_API)
    run_id = os.environ.get(ENV_RUN_ID)  # the job's run: a child run's code asks as the job
    values: dict[str, str]
    if path and run_id:
        from .remote import ask

        answer: Any = ask(path, "get_secrets", run_id=run_id, names=names)
        if not isinstance(answer, dict):
            raise MlwsError("the job's supervisor answered get_secrets with something other than the values")
        values = {str(k): str(v) for k, v in answer.items()}
    else:
        values = workspace().services.secrets.get(names)
    REDACTOR.add(values.values())
    return values


class RunSecrets:
    """``get_secret`` and ``get_secrets`` of a :class:`~jupyter_mlws.core.runs.run.Run`."""

    _workspace: Workspace

    def get_secret(self, name: str) -> str:
        """The value of the workspace's secret ``name`` (a clear error naming it if there is none)."""
        if not isinstance(name, str):
            raise InvalidArgumentError(f"get_secret takes a secret's name (a str), not {type(name).__name__}")
        return obtain_secrets([name], lambda: self._workspace)[name]

    def get_secrets(self, secrets: Iterable[str]) -> dict[str, str]:
        """The values of the named secrets, by name."""
        return obtain_secrets(secret_names(secrets), lambda: self._workspace)
