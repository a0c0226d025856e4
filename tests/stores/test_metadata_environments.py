"""The environment concern of the metadata store contract (``EnvironmentStore``).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def test_environment_versions_follow_content(store: SqlMetadataStore) -> None:
    first = store.register_environment("env", "a" * 64, {"python": {"pip_packages": ["x"]}}, 1.0)
    assert (first.version, first.definition) == (1, {"python": {"pip_packages": ["x"]}})
    assert store.register_environment("env", "a" * 64, {"python": {"pip_packages": ["x"]}}, 2.0).version == 1
    assert store.register_environment("env", "b" * 64, {"python": {}}, 3.0).version == 2
    assert store.register_environment("other", "a" * 64, {}, 4.0).version == 1
    assert store.get_environment("env").version == 2
    assert store.get_environment("env", 1).content_hash == "a" * 64
    assert [(e.name, e.version) for e in store.list_environments()] == [("env", 2), ("env", 1), ("other", 1)]
    with pytest.raises(NotFoundError):
        store.get_environment("env", 3)
