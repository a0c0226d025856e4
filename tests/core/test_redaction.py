"""Masking what a job obtained from the vault (issue 21): whole values, their base64 and JSON forms, long
lines of a multi-line value, values split across writes of a stream, and strings nested in records."""

from __future__ import annotations

import base64
import json
import os
import random
import time
from pathlib import Path

import nbformat

from jupyter_mlws.compute.log_pump import LogPump, mask_file, mask_notebook
from jupyter_mlws.core.redaction import MASK, Redactor, StreamRedactor

VALUE = 'p@ss"word-with-quote'
OTHER = "tok-123456"


def redactor() -> Redactor:
    r = Redactor()
    r.add([VALUE, OTHER])
    return r


def test_an_empty_redactor_is_false_and_changes_nothing() -> None:
    r = Redactor()
    assert not r
    assert r.text(VALUE) == VALUE and r.value({"a": [VALUE]}) == {"a": [VALUE]}
    r.add(["", 3])  # type: ignore[list-item] - not strings: ignored
    assert not r


def test_values_and_their_common_forms_are_masked() -> None:
    r = redactor()
    assert r
    assert r.text(f"a {VALUE} b {OTHER}") == f"a {MASK} b {MASK}"
    assert r.text(base64.b64encode(VALUE.encode()).decode()) == MASK
    assert r.text(json.dumps({"k": VALUE})) == json.dumps({"k": MASK})  # the escaped quote too
    assert r.data(f"x{OTHER}y".encode()) == f"x{MASK}y".encode()


def test_a_value_containing_another_is_masked_whole() -> None:
    r = Redactor()
    r.add(["abcd", "xxabcdxx"])
    assert r.text("1 xxabcdxx 2 abcd") == f"1 {MASK} 2 {MASK}"


def test_long_lines_of_a_multi_line_value_are_masked_alone() -> None:
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----"
    r = Redactor()
    r.add([pem])
    assert r.text("line: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") == f"line: {MASK}"
    assert r.text(pem) == MASK


def test_nested_records_are_masked_keys_included() -> None:
    r = redactor()
    record = {"message": f"bad {VALUE}", OTHER: [1, (f"{OTHER}!", None)], "n": 2.5}
    assert r.value(record) == {"message": f"bad {MASK}", MASK: [1, (f"{MASK}!", None)], "n": 2.5}


def test_a_stream_split_anywhere_is_masked_as_a_whole() -> None:
    r = redactor()
    text = f"start {VALUE} middle {OTHER}{VALUE} end {VALUE[:4]} tail".encode()
    expected = r.data(text)
    rng = random.Random(7)
    for _ in range(200):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 12)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        stream = StreamRedactor(r)
        out = b"".join(stream.feed(p) for p in pieces) + stream.finish()
        assert out == expected


def test_a_value_obtained_later_is_masked_from_then_on() -> None:
    r = Redactor()
    stream = StreamRedactor(r)
    first = stream.feed(b"before tok-123456\n")
    r.add([OTHER])
    rest = stream.feed(b"after tok-123456\n") + stream.finish()
    assert first + rest == f"before {OTHER}\nafter {MASK}\n".encode()


def test_the_log_pump_masks_what_a_process_writes_into_its_pipe(tmp_path: Path) -> None:
    log = tmp_path / "std_log.txt"
    r = redactor()
    pump = LogPump(log, r)
    assert pump.write_fd is not None
    fd = os.dup(pump.write_fd)
    pump.started()
    os.write(fd, f"one {VALUE[:3]}".encode())
    time.sleep(0.3)  # the pump has read the first piece and holds back its possible start of a value
    os.write(fd, f"{VALUE[3:]} two\n".encode())
    os.close(fd)
    pump.finish()
    assert log.read_text() == f"one {MASK} two\n"


def test_a_fifo_pump_waits_for_its_writer(tmp_path: Path) -> None:
    log = tmp_path / "std_log.txt"
    fifo = tmp_path / "log.fifo"
    pump = LogPump(log, redactor(), fifo=fifo)
    time.sleep(0.3)  # no writer yet: the pump waits, it does not end
    with open(fifo, "wb") as writer:
        writer.write(f"from the container {OTHER}\n".encode())
    pump.finish()
    assert log.read_text() == f"from the container {MASK}\n"
    assert not fifo.exists()


def test_mask_file_rewrites_a_file_and_leaves_links_alone(tmp_path: Path) -> None:
    r = redactor()
    target = tmp_path / "host.txt"
    target.write_text(f"host {VALUE}")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    mask_file(link, r)
    assert target.read_text() == f"host {VALUE}"
    mask_file(target, r)
    assert target.read_text() == f"host {MASK}"
    mask_file(tmp_path / "missing.txt", r)  # gone: nothing to do


def test_overlapping_and_nested_values_are_masked_whole_in_any_split() -> None:
    r = Redactor()
    r.add(["SECRET", "xxSECRETyy", "abcdef", "defghi", "*bb*", "é-ünï"])
    text = "log xxSECRETyy end abcdefghi and SECRET, *bb* or é-ünï!".encode()
    whole = r.data(text)
    assert whole == f"log {MASK} end {MASK} and {MASK}, {MASK} or {MASK}!".encode()
    rng = random.Random(11)
    for _ in range(500):
        cuts = sorted(rng.sample(range(1, len(text)), rng.randint(1, 20)))
        pieces = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        stream = StreamRedactor(r)
        assert b"".join(stream.feed(p) for p in pieces) + stream.finish() == whole


def test_masking_a_file_never_writes_through_a_link_planted_beside_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("the user's file")
    log = tmp_path / "x.log"
    log.write_text(f"line {OTHER}\n")
    (tmp_path / ".x.log.masking").symlink_to(victim)  # where a fixed temporary name would be
    mask_file(log, redactor())
    assert log.read_text() == f"line {MASK}\n" and victim.read_text() == "the user's file"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".x.log.masking", "victim.txt", "x.log"]


def test_an_executed_notebook_stays_a_valid_notebook_whatever_the_value(tmp_path: Path) -> None:

    r = Redactor()
    r.add(["2024", "text", "sk-live-1"])
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(key)", execution_count=2024)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="key sk-live-1 and 2024\n")]
    notebook.cells = [cell]
    target = tmp_path / "nb.ipynb"
    nbformat.write(notebook, target)
    mask_notebook(target, r)
    masked = nbformat.read(target, as_version=4)
    nbformat.validate(masked)
    (out,) = masked.cells[0].outputs
    assert out["name"] == "stdout" and out["text"] == f"key {MASK} and {MASK}\n"
    assert masked.cells[0].execution_count == 2024


def test_values_too_short_to_hide_anything_are_not_masked() -> None:
    r = Redactor()
    r.add(["t", "42", "abc"])
    assert not r and r.text("t 42 abc") == "t 42 abc"
    r.add(["abcd"])
    assert r.text("t 42 abc abcd") == f"t 42 abc {MASK}"
    r.clear()
    assert not r and r.text("abcd") == "abcd"
