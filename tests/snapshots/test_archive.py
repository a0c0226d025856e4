"""Zips and restores: round trips keep contents, modes and links; nothing is ever written outside."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import zipfile
from pathlib import Path

import pytest

from jupyter_mlws.errors import InvalidArgumentError, NotFoundError
from jupyter_mlws.snapshots import (
    Manifest,
    ManifestEntry,
    capture_snapshot,
    extract_zip,
    load_manifest,
    restore_snapshot,
    write_zip,
)
from jupyter_mlws.stores.artifacts.local import LocalArtifactStore
from tests.snapshots.conftest import write_tree


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def listing(root: Path) -> dict[str, tuple[str, bytes | str | None]]:
    """Everything below ``root``: kind and content (files), target (links)."""
    out: dict[str, tuple[str, bytes | str | None]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = ("link", os.readlink(path))
            elif path.is_dir():
                out[rel] = ("dir", None)
            else:
                out[rel] = ("file", path.read_bytes())
    return out


@pytest.fixture
def arena(tmp_path: Path) -> Path:
    """A folder holding the restore target and a bystander file an attack would go for."""
    path = tmp_path / "arena"
    write_tree(path, {"bystander.txt": "untouched", "etc/passwd": "root:x:0:0"})
    return path


def assert_only_target_changed(arena: Path, before: dict[str, tuple[str, bytes | str | None]]) -> None:
    after = {k: v for k, v in listing(arena).items() if k != "target" and not k.startswith("target/")}
    assert after == before


SOURCE_TREE: dict[str, str | bytes] = {
    "train.py": "print('train')\n",
    "run.sh": "#!/bin/sh\nexec python train.py\n",
    "private.cfg": "k",
    "pkg/__init__.py": "",
    "pkg/deep/er/mod.py": "X = 1\n",
    "data/blob.bin": bytes(range(256)) * 40,
}


@pytest.fixture
def captured_src(store: LocalArtifactStore, src: Path) -> tuple[Path, Manifest]:
    write_tree(src, SOURCE_TREE)
    os.chmod(src / "run.sh", 0o755)
    os.chmod(src / "private.cfg", 0o600)
    os.symlink("pkg/deep/er/mod.py", src / "mod-link.py")
    os.symlink("pkg", src / "pkg-link")
    return src, capture_snapshot(src, store).manifest


def test_write_zip_then_extract_zip_round_trip(
    store: LocalArtifactStore, tmp_path: Path, captured_src: tuple[Path, Manifest]
) -> None:
    src, manifest = captured_src
    archive = write_zip(manifest, store, tmp_path / "out" / "snap.zip")
    assert archive == tmp_path / "out" / "snap.zip"
    with zipfile.ZipFile(archive) as zf:
        assert zf.testzip() is None
        assert set(zf.namelist()) == set(SOURCE_TREE) | {"mod-link.py", "pkg-link"}
        assert zf.read("data/blob.bin") == SOURCE_TREE["data/blob.bin"]
        assert stat.S_IMODE(zf.getinfo("run.sh").external_attr >> 16) == 0o755
    out = extract_zip(archive, tmp_path / "extracted")
    assert listing(out) == listing(src)
    assert stat.S_IMODE(os.stat(out / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(out / "private.cfg").st_mode) == 0o600
    assert os.access(out / "run.sh", os.X_OK)
    assert os.readlink(out / "pkg-link") == "pkg"
    assert (out / "mod-link.py").read_text() == "X = 1\n"
    assert not list(archive.parent.glob("*.part"))


def test_restore_snapshot_round_trip(
    store: LocalArtifactStore, tmp_path: Path, captured_src: tuple[Path, Manifest]
) -> None:
    src, manifest = captured_src
    out = restore_snapshot(manifest, store, tmp_path / "work")
    assert listing(out) == listing(src)
    assert stat.S_IMODE(os.stat(out / "run.sh").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(out / "private.cfg").st_mode) == 0o600
    # Restoring from the stored manifest (what a job does) gives the same tree.
    snap_id = capture_snapshot(src, store).id
    again = restore_snapshot(load_manifest(store, snap_id), store, tmp_path / "work2")
    assert listing(again) == listing(src)


def test_write_zip_of_a_missing_blob_leaves_no_file(store: LocalArtifactStore, tmp_path: Path) -> None:
    manifest = Manifest((ManifestEntry("a.txt", "file", 3, 0o644, "f" * 64),))
    with pytest.raises(NotFoundError):
        write_zip(manifest, store, tmp_path / "snap.zip")
    assert list(tmp_path.iterdir()) == [tmp_path / "store"]


def test_load_manifest_of_a_non_manifest_blob(store: LocalArtifactStore) -> None:
    digest, _ = store.put_bytes(b"not json at all")
    with pytest.raises(InvalidArgumentError, match="not a snapshot manifest"):
        load_manifest(store, digest)


# -- restore_snapshot of crafted manifests --------------------------------------------------------------


def crafted_manifest(store: LocalArtifactStore, *bad: ManifestEntry) -> Manifest:
    good_digest, _ = store.put_bytes(b"good")
    return Manifest((ManifestEntry("good.txt", "file", 4, 0o644, good_digest), *bad))


def evil_file(store: LocalArtifactStore, path: str) -> ManifestEntry:
    digest, size = store.put_bytes(b"evil")
    return ManifestEntry(path, "file", size, 0o644, digest)


@pytest.mark.parametrize(
    "path",
    ["../evil", "../../evil", "sub/../../evil", "/tmp/evil-abs", "..\\evil", "C:/evil"],
)
def test_restore_refuses_paths_outside_the_target(store: LocalArtifactStore, arena: Path, path: str) -> None:
    before = listing(arena)
    manifest = crafted_manifest(store, evil_file(store, path))
    with pytest.raises(InvalidArgumentError):
        restore_snapshot(manifest, store, arena / "target")
    assert_only_target_changed(arena, before)
    assert not Path("/tmp/evil-abs").exists()
    assert not (arena / "target" / "good.txt").exists()  # every path is checked before anything is written


def test_restore_refuses_an_absolute_path_into_the_arena(store: LocalArtifactStore, arena: Path) -> None:
    before = listing(arena)
    manifest = crafted_manifest(store, evil_file(store, str(arena / "bystander.txt")))
    with pytest.raises(InvalidArgumentError):
        restore_snapshot(manifest, store, arena / "target")
    assert_only_target_changed(arena, before)
    assert (arena / "bystander.txt").read_text() == "untouched"


@pytest.mark.parametrize(
    "links",
    [
        [("escape", "..")],
        [("escape", "../../etc")],
        [("sub/escape", "../../bystander.txt")],
        [("escape", "/etc")],
        [("escape", "/")],
        # The same two-step trick as in capture: each link alone looks like it stays inside.
        [("here", "."), ("escape", "here/..")],
    ],
    ids=["dotdot", "dotdot-etc", "nested-dotdot", "absolute-etc", "absolute-root", "chain"],
)
def test_restore_refuses_links_escaping_the_target(
    store: LocalArtifactStore, arena: Path, links: list[tuple[str, str]]
) -> None:
    before = listing(arena)
    manifest = crafted_manifest(store, *(ManifestEntry(p, "link", target=t) for p, t in links))
    with pytest.raises(InvalidArgumentError):
        restore_snapshot(manifest, store, arena / "target")
    assert_only_target_changed(arena, before)
    assert listing(arena / "target") == {}  # every link is checked before anything is written


def test_restore_refuses_to_write_through_a_link_in_the_target(store: LocalArtifactStore, arena: Path) -> None:
    target = arena / "target"
    target.mkdir()
    os.symlink(arena / "etc", target / "conf")  # planted before the restore
    before = {k: v for k, v in listing(arena).items() if not k.startswith("target")}
    manifest = crafted_manifest(store, evil_file(store, "conf/passwd"))
    with pytest.raises(InvalidArgumentError, match="symlink"):
        restore_snapshot(manifest, store, target)
    assert_only_target_changed(arena, before)
    assert (arena / "etc" / "passwd").read_text() == "root:x:0:0"
    assert os.readlink(target / "conf") == str(arena / "etc")


# -- extract_zip of crafted zips ------------------------------------------------------------------------


def make_zip(path: Path, entries: list[tuple[str, bytes, int]]) -> Path:
    """Entries are (name, data, unix mode incl. file type)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo("placeholder")
            info.filename = name  # bypass ZipInfo's normalisation: keep the name exactly as crafted
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return path


FILE = stat.S_IFREG | 0o644
LINK = stat.S_IFLNK | 0o777


@pytest.mark.parametrize(
    "entries",
    [
        [("../evil.txt", b"evil", FILE)],
        [("../../evil.txt", b"evil", FILE)],
        [("a/../../evil.txt", b"evil", FILE)],
        [("/abs.txt", b"evil", FILE)],
        [("..\\evil.txt", b"evil", FILE)],
        [("link", b"/etc", LINK)],
        [("link", b"../..", LINK)],
        [("sub/link", b"../../bystander.txt", LINK)],
        [("link", b"..", LINK), ("link/x", b"evil", FILE)],
        [("link", b"../etc", LINK), ("link/passwd", b"evil", FILE)],
        [("here", b".", LINK), ("escape", b"here/..", LINK)],
    ],
    ids=[
        "dotdot",
        "dotdot-2",
        "nested-dotdot",
        "absolute",
        "backslash",
        "link-absolute",
        "link-dotdot",
        "link-nested-dotdot",
        "write-through-link",
        "write-through-link-2",
        "link-chain",
    ],
)
def test_extract_zip_refuses_entries_outside_the_target(
    tmp_path: Path, arena: Path, entries: list[tuple[str, bytes, int]]
) -> None:
    archive = make_zip(tmp_path / "crafted.zip", [("good.txt", b"good", FILE), *entries])
    before = listing(arena)
    with pytest.raises(InvalidArgumentError):
        extract_zip(archive, arena / "target")
    assert_only_target_changed(arena, before)
    assert not Path("/abs.txt").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert not (arena / "evil.txt").exists()
    assert not (arena / "target" / "good.txt").exists()  # refused before anything was written


def test_extract_zip_does_not_write_through_a_link_already_in_the_target(tmp_path: Path, arena: Path) -> None:
    target = arena / "target"
    target.mkdir()
    os.symlink(arena / "bystander.txt", target / "notes.txt")  # planted before the extraction
    archive = make_zip(tmp_path / "snap.zip", [("notes.txt", b"overwritten", FILE)])
    with contextlib.suppress(InvalidArgumentError):  # refusing is fine; writing through the link is not
        extract_zip(archive, target)
    assert (arena / "bystander.txt").read_text() == "untouched"


def test_extract_zip_refuses_a_parent_link_already_in_the_target(tmp_path: Path, arena: Path) -> None:
    target = arena / "target"
    target.mkdir()
    os.symlink(arena / "etc", target / "conf")
    archive = make_zip(tmp_path / "snap.zip", [("conf/passwd", b"evil", FILE)])
    with pytest.raises(InvalidArgumentError, match="symlink"):
        extract_zip(archive, target)
    assert (arena / "etc" / "passwd").read_text() == "root:x:0:0"


def test_extract_zip_of_a_benign_crafted_zip(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "ok.zip",
        [
            ("dir/", b"", stat.S_IFDIR | 0o755),
            ("dir/a.txt", b"a", FILE),
            ("./b.txt", b"b", stat.S_IFREG | 0o755),
            ("dir/link", b"a.txt", LINK),
            ("up", b"dir/../b.txt", LINK),
        ],
    )
    out = extract_zip(archive, tmp_path / "out")
    assert (out / "dir" / "a.txt").read_bytes() == b"a"
    assert (out / "b.txt").read_bytes() == b"b"
    assert os.access(out / "b.txt", os.X_OK)
    assert (out / "dir" / "link").read_bytes() == b"a"
    assert (out / "up").read_bytes() == b"b"


# -- setuid, setgid and sticky bits never come back (issue 13) ---------------------------------------------
SPECIAL_BITS = stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX


def test_a_setuid_file_restores_without_its_special_bits(store: LocalArtifactStore, src: Path, tmp_path: Path) -> None:
    write_tree(src, {"tool": "#!/bin/sh\nid\n", "shared": "x"})
    os.chmod(src / "tool", 0o4755)
    os.chmod(src / "shared", 0o2644 | stat.S_ISVTX)
    assert os.stat(src / "tool").st_mode & stat.S_ISUID  # the attack's input is really setuid
    snap = capture_snapshot(src, store)
    out = restore_snapshot(load_manifest(store, snap.id), store, tmp_path / "work")
    assert stat.S_IMODE(os.stat(out / "tool").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(out / "shared").st_mode) == 0o644
    archive = write_zip(load_manifest(store, snap.id), store, tmp_path / "snap.zip")
    with zipfile.ZipFile(archive) as zf:
        assert not (zf.getinfo("tool").external_attr >> 16) & SPECIAL_BITS


def test_a_manifest_with_special_bits_restores_without_them(store: LocalArtifactStore, tmp_path: Path) -> None:
    # An older snapshot (captured before the mask) or a crafted manifest still carries the bits.
    digest, size = store.put_bytes(b"#!/bin/sh\n")
    manifest = Manifest((ManifestEntry("tool", "file", size, 0o6755 | stat.S_ISVTX, digest),))
    out = restore_snapshot(manifest, store, tmp_path / "work")
    assert stat.S_IMODE(os.stat(out / "tool").st_mode) == 0o755


def test_extract_zip_drops_special_bits(tmp_path: Path) -> None:
    archive = make_zip(
        tmp_path / "suid.zip",
        [("tool", b"#!/bin/sh\n", stat.S_IFREG | 0o4755), ("dir/g", b"g", stat.S_IFREG | 0o2750 | stat.S_ISVTX)],
    )
    out = extract_zip(archive, tmp_path / "out")
    assert stat.S_IMODE(os.stat(out / "tool").st_mode) == 0o755
    assert stat.S_IMODE(os.stat(out / "dir" / "g").st_mode) == 0o750
