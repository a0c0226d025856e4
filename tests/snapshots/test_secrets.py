"""Secret-like files stay out of snapshots unless an ``.amlignore`` negation names them (issue 13).

On main before the fix, ``.env``, ``.aws/credentials``, ``id_rsa`` and ``*.pem`` were captured into
immutable blobs and served in the snapshot zip.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.snapshots import (
    SECRET_PATTERNS,
    IgnoreRules,
    SecretFilesExcludedWarning,
    Snapshot,
    capture_snapshot,
    load_manifest,
)
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore
from tests.snapshots.conftest import age_tree, file_paths, write_tree

SECRETS = {
    ".env": "AWS_SECRET_ACCESS_KEY=abc\n",
    ".env.production": "TOKEN=1\n",
    ".aws/credentials": "[default]\naws_secret_access_key = abc\n",
    "id_rsa": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    "id_rsa.pub": "ssh-rsa AAAA\n",
    "x.pem": "-----BEGIN PRIVATE KEY-----\n",
    "conf/server.key": "k",
    "deploy/.ssh/id_ed25519": "k",
    ".docker/config.json": '{"auths": {}}',
    "gcp/credentials.json": '{"private_key": "x"}',
    ".netrc": "machine x login y password z\n",
    ".git-credentials": "https://u:p@github.com\n",
    ".pypirc": "[pypi]\npassword = x\n",
    ".npmrc": "//registry.npmjs.org/:_authToken=x\n",
    "java/release.jks": "k",
    "gcp/service-account-prod.json": '{"private_key": "x"}',
    ".kaggle/kaggle.json": '{"key": "x"}',
    "home/.cache/huggingface/token": "hf_x",
}
CODE = {"train.py": "print('train')\n", "pkg/model.py": "X = 1\n", "docker/config.json": "{}", "envs.txt": ""}


def capture(src: Path, store: LocalArtifactStore, **kwargs: object) -> tuple[Snapshot, list[str]]:
    """Capture ``src``; return the snapshot and the messages of the secret warnings it gave."""
    with pytest.warns(SecretFilesExcludedWarning) as record:
        snap = capture_snapshot(src, store, **kwargs)  # type: ignore[arg-type]
    return snap, [str(w.message) for w in record if issubclass(w.category, SecretFilesExcludedWarning)]


def test_secret_like_files_are_not_captured_and_are_named(src: Path, store: LocalArtifactStore) -> None:
    write_tree(src, {**SECRETS, **CODE})
    snap, messages = capture(src, store)
    assert file_paths(snap) == set(CODE)  # nothing secret-like, and look-alikes stay in
    expected = sorted(
        [
            ".aws/",
            ".docker/config.json",
            ".env",
            ".env.production",
            ".git-credentials",
            ".kaggle/",
            ".netrc",
            ".npmrc",
            ".pypirc",
            "conf/server.key",
            "deploy/.ssh/",
            "gcp/credentials.json",
            "gcp/service-account-prod.json",
            "home/.cache/huggingface/token",
            "id_rsa",
            "id_rsa.pub",
            "java/release.jks",
            "x.pem",
        ]
    )
    assert list(snap.excluded_secrets) == expected
    # Recorded in the stored manifest too, so that the UI and the CLI can show it later.
    assert list(load_manifest(store, snap.id).excluded_secrets) == expected
    assert len(messages) == 1
    for name in (".env", ".aws/", "id_rsa", "x.pem"):
        assert name in messages[0]
    assert ".amlignore" in messages[0] and "!" in messages[0]
    # The blobs hold none of the secrets' bytes.
    stored = {store.read_bytes(d) for d in store.iter_digests()}
    assert not any(content.encode() in stored for content in SECRETS.values())


def test_a_negation_in_amlignore_brings_back_that_file_only(src: Path, store: LocalArtifactStore) -> None:
    write_tree(src, {**SECRETS, **CODE, ".amlignore": "!.env\n"})
    snap, messages = capture(src, store)
    assert file_paths(snap) == {*CODE, ".amlignore", ".env"}
    assert ".env" not in snap.excluded_secrets
    assert {".env.production", "id_rsa", "x.pem", ".aws/"} <= set(snap.excluded_secrets)
    assert "'.env'" not in messages[0] and ".env.production" in messages[0]


def test_a_negated_folder_in_amlignore_brings_back_its_files(src: Path, store: LocalArtifactStore) -> None:
    write_tree(src, {".aws/config": "[default]\n", "x.pem": "k", "train.py": "", ".amlignore": "!.aws/\n"})
    snap, _ = capture(src, store)
    assert file_paths(snap) == {".aws/config", "train.py", ".amlignore"}
    assert snap.excluded_secrets == ("x.pem",)


def test_a_negation_that_names_no_secret_does_not_bring_one_back(src: Path, store: LocalArtifactStore) -> None:
    # The .amlignore un-ignores a folder the .gitignore leaves out (what finding 3's precedence
    # change is for): its code comes back, its keys and .env do not (they were captured before).
    write_tree(
        src,
        {
            ".gitignore": "config/\n",
            ".amlignore": "!config/\n",
            "config/settings.py": "",
            "config/prod.key": "k",
            "config/.env": "K=v\n",
            "train.py": "",
        },
    )
    snap, messages = capture(src, store)
    assert file_paths(snap) == {".gitignore", ".amlignore", "config/settings.py", "train.py"}
    assert snap.excluded_secrets == ("config/.env", "config/prod.key")
    assert "!config/.env" in messages[0]  # the warning's advice names the file, which does work
    # A catch-all negation (the "ignore everything but ..." idiom) names nothing either.
    write_tree(src, {".amlignore": "*\n!*/\n!*.py\n!**\n", ".env": "K=v\n", "deploy/.ssh/id_rsa": "k"})
    snap, _ = capture(src, store)
    assert {".env", "deploy/.ssh/"} <= set(snap.excluded_secrets)
    assert not {".env", "deploy/.ssh/id_rsa", "config/.env"} & file_paths(snap)
    # Naming the file as the warning says brings it (and only it) back.
    write_tree(src, {".amlignore": "!config/\n!config/.env\n"})
    snap, _ = capture(src, store)
    assert "config/.env" in file_paths(snap) and "config/prod.key" in snap.excluded_secrets


def test_a_gitignore_negation_does_not_bring_a_secret_back(src: Path, store: LocalArtifactStore) -> None:
    # A .gitignore says what git tracks; only .amlignore decides what may leave in a snapshot.
    write_tree(src, {".gitignore": "!.env\n", ".env": "K=v\n", "train.py": ""})
    snap, _ = capture(src, store)
    assert file_paths(snap) == {".gitignore", "train.py"}
    assert snap.excluded_secrets == (".env",)


def test_ignored_secrets_are_not_reported(src: Path, store: LocalArtifactStore) -> None:
    # Left out by the user's own ignore file: nothing to warn about.
    write_tree(src, {".gitignore": ".env\n", ".env": "K=v\n", "train.py": ""})
    snap = capture_snapshot(src, store)  # the suite turns an unexpected warning into a failure
    assert file_paths(snap) == {".gitignore", "train.py"}
    assert snap.excluded_secrets == ()


def test_a_tree_without_secrets_keeps_its_manifest_format(src: Path, store: LocalArtifactStore) -> None:
    write_tree(src, CODE)
    snap = capture_snapshot(src, store)
    body = json.loads(store.read_bytes(snap.id))
    assert set(body) == {"format", "entries"}  # unchanged: the same tree keeps the same snapshot id


def test_a_symlink_with_a_secret_name_is_left_out(src: Path, store: LocalArtifactStore) -> None:
    write_tree(src, {"settings.txt": "K=v\n", "train.py": ""})
    os.symlink("settings.txt", src / ".env")
    snap, _ = capture(src, store)
    assert {e.path for e in snap.manifest.entries} == {"settings.txt", "train.py"}
    assert snap.excluded_secrets == (".env",)


def test_the_stat_cache_follows_a_changed_verdict(src: Path, store: LocalArtifactStore, tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    write_tree(src, {".env": "K=v\n", "train.py": ""})
    age_tree(src)
    first, _ = capture(src, store, cache_file=cache)
    assert file_paths(first) == {"train.py"}
    assert str(src / ".env") not in json.loads(cache.read_text())  # never read, never cached
    (src / ".amlignore").write_text("!.env\n")
    allowed = capture_snapshot(src, store, cache_file=cache)
    assert file_paths(allowed) == {".amlignore", ".env", "train.py"}
    env = next(e for e in allowed.manifest.files if e.path == ".env")
    assert env.digest is not None and store.read_bytes(env.digest) == b"K=v\n"
    # Withdrawn again: a cached digest never brings it back.
    (src / ".amlignore").write_text("")
    again, _ = capture(src, store, cache_file=cache)
    assert file_paths(again) == {".amlignore", "train.py"}


def test_workspace_capture_reports_secrets(ws: Workspace, src: Path) -> None:
    write_tree(src, {".env": "K=v\n", "train.py": ""})
    with pytest.warns(SecretFilesExcludedWarning, match=r"\.env"):
        snap = ws.services.snapshots.capture(src)
    assert snap.excluded_secrets == (".env",)


@pytest.mark.parametrize(
    ("path", "is_dir"),
    [
        (".env", False),
        (".env.local", False),
        ("a/b/.envrc", False),
        ("certs/tls.pem", False),
        ("k.key", False),
        ("store.p12", False),
        ("store.pfx", False),
        ("id_ecdsa", False),
        ("id_ed25519.pub", False),
        (".ssh", True),
        (".aws", True),
        ("home/.gnupg", True),
        ("x/.docker/config.json", False),
        (".netrc", False),
        (".pgpass", False),
        ("credentials.json", False),
    ],
)
def test_secret_patterns_unit(tmp_path: Path, path: str, is_dir: bool) -> None:
    rules = IgnoreRules().descend(tmp_path, "")
    assert rules.is_ignored(path, is_dir=is_dir)


@pytest.mark.parametrize("path", ["env.py", "environment.yml", "keys.py", "pem.txt", "docker/config.json", "README"])
def test_look_alikes_are_not_secrets(tmp_path: Path, path: str) -> None:
    assert not IgnoreRules().descend(tmp_path, "").is_ignored(path, is_dir=False)


def test_the_patterns_are_documented() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for pattern in (".env", "*.pem", "id_rsa*", ".aws/", ".netrc"):
        assert pattern in SECRET_PATTERNS
        assert f"`{pattern}`" in readme, f"README must list the secret pattern {pattern}"


@pytest.mark.parametrize("is_dir", [False, True])
def test_the_combined_secret_regex_agrees_with_the_patterns_one_by_one(is_dir: bool) -> None:
    # _is_secret merges the patterns into one regex for speed; it must decide as git's rules do.
    from jupyter_mlws.snapshots import ignore

    one_by_one = ignore._Level("", ignore._SECRET_SPEC, "secrets", False)
    paths = [
        *SECRETS,
        *CODE,
        ".ssh",
        "a/.ssh",
        ".ssh/config",
        ".aws",
        ".env",
        "x/.env",
        ".env.d",
        "keys",
        "a.key.txt",
        ".docker",
        ".config/gcloud",
        "home/.config/gcloud/creds.db",
        ".kube/config",
    ]
    for path in paths:
        expected = bool(ignore._last_match(one_by_one, path, is_dir))
        assert ignore._is_secret(path, is_dir) is expected, (path, is_dir)
