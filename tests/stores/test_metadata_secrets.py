"""The secrets concern of the metadata store contract (``SecretStore``, issue 21): ciphertexts by name,
upserts that keep the created time, deletes, a missing name named, and rotation in one transaction.

Runs on SQLite and on a real PostgreSQL server (the ``store`` fixture of ``conftest.py``).
"""

from __future__ import annotations

import pytest

from jupyter_mlws.core.interfaces.secrets import check_secret_name
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore


def test_a_secret_round_trips_is_replaced_and_deleted(store: SqlMetadataStore) -> None:
    store.put_secret("b", "cipher-1", 1.0)
    store.put_secret("a", "cipher-a", 2.0)
    store.put_secret("b", "cipher-2", 5.0)
    assert store.get_secret_ciphertext("b") == "cipher-2"
    assert store.list_secret_names() == [("a", 2.0, 2.0), ("b", 1.0, 5.0)]
    store.delete_secret("b")
    assert [n for n, _, _ in store.list_secret_names()] == ["a"]


def test_a_missing_secret_is_named(store: SqlMetadataStore) -> None:
    with pytest.raises(NotFoundError, match=r"'nope' does not exist.*list_secrets\(\)"):
        store.get_secret_ciphertext("nope")
    with pytest.raises(NotFoundError, match="'nope'"):
        store.delete_secret("nope")


def test_rotation_replaces_every_ciphertext_or_none(store: SqlMetadataStore) -> None:
    store.put_secret("a", "old-a", 1.0)
    store.put_secret("b", "old-b", 1.0)
    with pytest.raises(InvalidArgumentError, match="nothing was changed"):
        store.replace_all_ciphertexts({"a": "new-a"}, 2.0)
    assert store.get_secret_ciphertext("a") == "old-a"
    store.replace_all_ciphertexts({"a": "new-a", "b": "new-b"}, 3.0)
    assert (store.get_secret_ciphertext("a"), store.get_secret_ciphertext("b")) == ("new-a", "new-b")
    assert store.list_secret_names() == [("a", 1.0, 3.0), ("b", 1.0, 3.0)]


@pytest.mark.parametrize("name", ["", "a b", "x" * 128, "é", "a_b", "a/b", 3])
def test_names_follow_key_vaults_rule(name: object) -> None:
    with pytest.raises(InvalidArgumentError, match="1-127 letters, digits and '-'"):
        check_secret_name(name)
    assert check_secret_name("API-key-2") == "API-key-2"
    assert check_secret_name("x" * 127) == "x" * 127
