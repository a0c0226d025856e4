"""The datastore concern of the metadata store contract (``DatastoreStore``).

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.errors import NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def test_datastores_by_name_with_one_default(store: SqlMetadataStore) -> None:
    first = store.put_datastore("lake", "file:///data/lake", {}, 1.0)
    assert (first.name, first.url, first.options, first.is_default) == ("lake", "file:///data/lake", {}, False)
    store.put_datastore("s3", "s3://bucket", {"endpoint_url": "http://127.0.0.1:9000"}, 2.0)
    updated = store.put_datastore("lake", "file:///data/lake2", {"anon": True}, 3.0)
    assert (updated.url, updated.options, updated.created_time) == ("file:///data/lake2", {"anon": True}, 1.0)
    assert [d.name for d in store.list_datastores()] == ["lake", "s3"]

    store.set_default_datastore("s3")
    store.set_default_datastore("lake")
    assert [(d.name, d.is_default) for d in store.list_datastores()] == [("lake", True), ("s3", False)]
    with pytest.raises(NotFoundError, match=r"'missing'.*'lake', 's3'"):
        store.set_default_datastore("missing")
    assert store.get_datastore("lake").is_default  # a refused change leaves the default alone

    store.delete_datastore("lake")
    with pytest.raises(NotFoundError, match=r"'lake'.*registered: 's3'"):
        store.get_datastore("lake")
    with pytest.raises(NotFoundError):
        store.delete_datastore("lake")
    store.set_default_datastore(None)
    assert not store.get_datastore("s3").is_default
