"""Copying a pooled Docker job's ./logs (a folder its container writes) into the run's live folder
(``compute.docker.mirror_files``): appended bytes while it runs, every file exact once it has
stopped; links (to files or folders) never followed, FIFOs never opened."""

from __future__ import annotations

import os
from pathlib import Path

from jupyter_mlws.compute.docker import mirror_files


def test_appends_while_running_and_exact_files_at_the_end(tmp_path: Path) -> None:
    source, dest = tmp_path / "slot-logs", tmp_path / "live-logs"
    (source / "deep").mkdir(parents=True)
    dest.mkdir()
    seen: dict[str, tuple[int, int, bool]] = {}
    (source / "a.txt").write_text("one\n")
    (source / "deep" / "b.txt").write_text('{"epoch": 1}')
    mirror_files(source, dest, seen)
    assert (dest / "a.txt").read_text() == "one\n" and (dest / "deep" / "b.txt").read_text() == '{"epoch": 1}'
    with open(source / "a.txt", "a") as f:
        f.write("two\n")
    mirror_files(source, dest, seen)
    assert (dest / "a.txt").read_text() == "one\ntwo\n"
    # Rewritten larger: the live copy may be off while it runs; once stopped, every file is exact.
    (source / "deep" / "b.txt").write_text('{"epoch": 10}')
    os.utime(source / "deep" / "b.txt", ns=(1, 1))
    (source / "gone.txt").write_text("x")
    mirror_files(source, dest, seen)
    (source / "gone.txt").unlink()
    mirror_files(source, dest, seen, whole=True)
    assert (dest / "deep" / "b.txt").read_text() == '{"epoch": 10}'
    assert (dest / "a.txt").read_text() == "one\ntwo\n"
    assert not (dest / "gone.txt").exists()


def test_links_and_fifos_are_neither_followed_nor_opened(tmp_path: Path) -> None:
    secret = tmp_path / "host" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("SECRET")
    source, dest = tmp_path / "slot-logs", tmp_path / "live-logs"
    source.mkdir()
    dest.mkdir()
    os.symlink(secret, source / "leak.txt")
    os.symlink(secret.parent, source / "leakdir")
    os.mkfifo(source / "pipe")
    (source / "real.txt").write_text("fine")
    seen: dict[str, tuple[int, int, bool]] = {}
    mirror_files(source, dest, seen)  # a FIFO opened for reading would block here for ever
    mirror_files(source, dest, seen, whole=True)
    assert sorted(p.name for p in dest.rglob("*")) == ["real.txt"]
