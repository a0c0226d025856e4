"""Shared fixtures: workspaces on SQLite, and a real PostgreSQL server for the store contract suite.

PostgreSQL tests start one throw-away server per test session (``tests/support/postgres.py``) and a
fresh database per test. Without server binaries they are skipped locally, but CI sets
``MLWS_REQUIRE_POSTGRES=1`` so that a missing server fails the run instead of hiding it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.core.redaction import REDACTOR
from jupyter_mlws.core.workspace import close_backends

REQUIRE_POSTGRES = os.environ.get("MLWS_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    from tests.support.postgres import PostgresServer, PostgresUnavailableError

    server = PostgresServer()
    try:
        server.start()
    except PostgresUnavailableError as exc:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL is required (MLWS_REQUIRE_POSTGRES=1) but could not start: {exc}")
        pytest.skip(f"no PostgreSQL server available: {exc}")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    url: str = postgres_server.create_database(f"mlws_{uuid.uuid4().hex[:12]}")  # type: ignore[attr-defined]
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def metadata_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty metadata database URL on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'meta' / 'mlws.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """A fresh workspace on the embedded default (SQLite + local folder)."""
    return Workspace.create(tmp_path / "ws")


@pytest.fixture
def any_ws(tmp_path: Path, metadata_url: str) -> Workspace:
    """A fresh workspace on each metadata backend."""
    return Workspace.create(tmp_path / "ws", metadata_url=metadata_url)


@pytest.fixture(scope="session", autouse=True)
def _environment_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Environment builds (venvs, images' lock files) go to one cache per test session, shared by its
    tests (a second build of the same environment is a cache hit, as it is for users)."""
    previous = os.environ.get("MLWS_ENV_CACHE")
    os.environ["MLWS_ENV_CACHE"] = str(tmp_path_factory.mktemp("environment-cache"))
    yield
    if previous is None:
        os.environ.pop("MLWS_ENV_CACHE", None)
    else:
        os.environ["MLWS_ENV_CACHE"] = previous


@pytest.fixture(autouse=True)
def _isolate_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests never see a workspace or run of the developer's shell."""
    monkeypatch.delenv("MLWS_WORKSPACE", raising=False)
    monkeypatch.delenv("MLWS_RUN_ID", raising=False)
    monkeypatch.delenv("MLWS_SECRET_KEY", raising=False)  # nor its secrets' key
    monkeypatch.delenv("MLWS_NEW_SECRET_KEY", raising=False)
    yield
    # Each test's databases are its own: stop writers and close pooled connections.
    close_backends()
    REDACTOR.clear()  # what a test's vault reads added to this process's masking is not the next test's
