"""The service folder's log tail: read from the end, across the rotated part, never a cut first line."""

from __future__ import annotations

from pathlib import Path

from jupyter_mlws.serving.layout import ServiceFolder


def test_the_log_tail_reads_from_the_end_and_across_the_rotated_part(tmp_path: Path) -> None:
    folder = ServiceFolder(tmp_path / "svc")
    folder.create()
    folder.log_file.with_name("service.log.1").write_text("".join(f"old {i}\n" for i in range(3)))
    folder.log_file.write_text("".join(f"line {i} {'x' * 40}\n" for i in range(100_000)))
    assert folder.log_tail(2) == f"line 99998 {'x' * 40}\nline 99999 {'x' * 40}\n"
    tail = folder.log_tail(100_002).splitlines()
    assert tail[:3] == ["old 1", "old 2", f"line 0 {'x' * 40}"] and len(tail) == 100_002
    assert folder.log_tail(0) == ""


def test_a_missing_log_is_an_empty_tail(tmp_path: Path) -> None:
    assert ServiceFolder(tmp_path / "none").log_tail(10) == ""
