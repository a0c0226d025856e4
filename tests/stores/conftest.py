"""The ``store`` fixture of the metadata store contract, shared by its per-concern test modules.

``metadata_url`` (tests/conftest.py) makes each test run on SQLite and on a real PostgreSQL server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


@pytest.fixture
def store(metadata_url: str) -> Iterator[SqlMetadataStore]:
    s = SqlMetadataStore(metadata_url)
    yield s
    s.close()
