"""Symlinks: stored as links, never followed, and never pointing outside the source folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from jupyter_mlws.snapshots import Snapshot, capture_snapshot, extract_zip, restore_snapshot, write_zip
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore
from tests.snapshots.conftest import entry_paths, file_paths, write_tree


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def links_of(snapshot: Snapshot) -> dict[str, str | None]:
    return {e.path: e.target for e in snapshot.manifest.entries if e.kind == "link"}


def test_an_in_tree_file_link_is_stored_as_a_link(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(src, {"data/real.csv": "a,b\n1,2\n", "sub/code.py": "x = 1\n"})
    os.symlink("data/real.csv", src / "alias.csv")
    os.symlink("../data/real.csv", src / "sub" / "up.csv")
    snap = capture_snapshot(src, store)
    assert links_of(snap) == {"alias.csv": "data/real.csv", "sub/up.csv": "../data/real.csv"}
    entries = {e.path: e for e in snap.manifest.entries}
    assert entries["alias.csv"].kind == "link"
    assert entries["alias.csv"].digest is None
    assert file_paths(snap) == {"data/real.csv", "sub/code.py"}
    assert snap.manifest.skipped_links == ()

    out = restore_snapshot(snap.manifest, store, tmp_path / "restored")
    assert (out / "alias.csv").is_symlink()
    assert os.readlink(out / "alias.csv") == "data/real.csv"
    assert (out / "alias.csv").read_text() == "a,b\n1,2\n"  # resolves inside the restored copy
    assert os.readlink(out / "sub" / "up.csv") == "../data/real.csv"
    assert (out / "sub" / "up.csv").resolve() == (out / "data" / "real.csv").resolve()


def test_links_survive_a_zip_round_trip(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(src, {"real.txt": "r"})
    os.symlink("real.txt", src / "link.txt")
    snap = capture_snapshot(src, store)
    archive = write_zip(snap.manifest, store, tmp_path / "snap.zip")
    out = extract_zip(archive, tmp_path / "out")
    assert (out / "link.txt").is_symlink()
    assert os.readlink(out / "link.txt") == "real.txt"
    assert (out / "link.txt").read_text() == "r"


def test_a_linked_folder_inside_the_tree_is_not_followed(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    payload = os.urandom(5000)
    write_tree(src, {"data/a.bin": payload, "data/deep/b.txt": "b"})
    os.symlink("data", src / "data-link")
    os.symlink(".", src / "self")  # a loop, if it were followed
    os.symlink("..", src / "data" / "up")  # resolves to the root: inside, but a loop too
    snap = capture_snapshot(src, store)
    assert file_paths(snap) == {"data/a.bin", "data/deep/b.txt"}  # nothing duplicated via the links
    assert links_of(snap) == {"data-link": "data", "self": ".", "data/up": ".."}
    assert [e.digest for e in snap.manifest.files].count(sha(payload)) == 1

    out = restore_snapshot(snap.manifest, store, tmp_path / "restored")
    assert (out / "data-link").is_symlink()
    assert (out / "data-link" / "a.bin").read_bytes() == payload


def test_a_link_to_an_absolute_path_is_skipped(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside" / "secret.txt"
    write_tree(secret.parent, {"secret.txt": "top secret"})
    write_tree(src, {"train.py": "print(1)\n", "inside.txt": "i"})
    os.symlink(secret, src / "secret-link")
    os.symlink(secret.parent, src / "outside-dir")
    os.symlink(src.resolve() / "inside.txt", src / "abs-but-inside")  # absolute: would not survive a restore
    snap = capture_snapshot(src, store)
    assert entry_paths(snap) == {"train.py", "inside.txt"}
    assert set(snap.manifest.skipped_links) == {"secret-link", "outside-dir", "abs-but-inside"}
    assert not store.exists(sha(b"top secret"))
    assert str(secret.parent).encode() not in store.read_bytes(snap.id)


def test_a_link_escaping_with_dotdot_is_skipped(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(tmp_path / "outside", {"secret.txt": "top secret", "dir/more.txt": "more"})
    write_tree(src, {"sub/code.py": "x = 1\n"})
    os.symlink("../outside/secret.txt", src / "up-file")
    os.symlink("../../outside/dir", src / "sub" / "up-dir")
    os.symlink("sub/../../outside/secret.txt", src / "zigzag")
    snap = capture_snapshot(src, store)
    assert entry_paths(snap) == {"sub/code.py"}
    assert set(snap.manifest.skipped_links) == {"up-file", "sub/up-dir", "zigzag"}
    assert not store.exists(sha(b"top secret"))
    assert not store.exists(sha(b"more"))


def test_a_chain_of_in_tree_links_that_escapes_is_skipped(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    # ``here -> .`` stays inside; ``escape -> here/..`` looks inside when read as text (normpath
    # folds ``here/..`` away) but the OS resolves it through ``here`` to the parent of the source.
    write_tree(tmp_path, {"secret.txt": "top secret"})
    write_tree(src, {"train.py": ""})
    os.symlink(".", src / "here")
    os.symlink("here/..", src / "escape")
    assert (src / "escape" / "secret.txt").read_text() == "top secret"  # really outside
    snap = capture_snapshot(src, store)
    assert "escape" not in links_of(snap)
    assert "escape" in snap.manifest.skipped_links


def test_an_ignored_link_is_neither_captured_nor_reported(store: LocalArtifactStore, src: Path) -> None:
    write_tree(src, {".amlignore": "ext-*\n", "train.py": ""})
    os.symlink("/etc/hostname", src / "ext-host")
    os.symlink("train.py", src / "ext-local")
    snap = capture_snapshot(src, store)
    assert entry_paths(snap) == {".amlignore", "train.py"}
    assert snap.manifest.skipped_links == ()


def test_a_dangling_in_tree_link_is_kept(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(src, {"train.py": ""})
    os.symlink("outputs/model.pkl", src / "latest-model")  # created by the job later
    snap = capture_snapshot(src, store)
    assert links_of(snap) == {"latest-model": "outputs/model.pkl"}
    out = restore_snapshot(snap.manifest, store, tmp_path / "restored")
    assert os.readlink(out / "latest-model") == "outputs/model.pkl"


def test_a_source_folder_reached_through_a_symlink(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(src, {"train.py": "print(1)\n"})
    os.symlink("data.csv", src / "link")
    alias = tmp_path / "alias"
    os.symlink(src, alias)
    snap = capture_snapshot(alias, store)
    assert file_paths(snap) == {"train.py"}
    assert links_of(snap) == {"link": "data.csv"}
    assert snap.id == capture_snapshot(src, store).id
