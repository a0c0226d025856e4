"""Issue 13 through the REST API: a filter that cannot stall the server (finding 6), and file headers, NUL
bytes, Last-Event-ID and non-finite numbers in bodies (finding 7). Each test first sends what once gave a
500, a 503, a stalled server or a broken header, and shows it refused with a 400 or handled.

The ``api`` client fails any 5xx by itself; "400 naming the cap" is asserted on the message."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Workspace
from tests.server.conftest import API, PNG, Api, Seed, expect_error
from tests.server.test_events import open_stream

RUN_PATHS = ("runs", "experiments/train/runs")


@pytest.fixture
def events_url(http_server: Any, jp_http_port: int, jp_base_url: str) -> str:
    """The stream's URL on the test server (``http_server`` makes it listen), as in test_events."""
    return f"http://127.0.0.1:{jp_http_port}{jp_base_url}{API}/events"


# -- finding 6: the filter language ------------------------------------------------------------------------
def _short_message(message: str, flt: str) -> None:
    """The message quotes the start of a long filter and its length, never the whole of it."""
    assert len(message) < 400, message
    assert f"({len(flt)} characters)" in message, message


async def test_a_40_kb_adversarial_filter_is_a_400_naming_the_length_cap(api: Api, seed: Seed) -> None:
    """It took 37 s in the tokenizer (and froze the server's event loop): now refused before parsing."""
    flt = "metrics.acc > " + "1" * 40_000 + "x"
    for path in RUN_PATHS:
        message = expect_error(await api.get(path, params={"filter": flt}), 400, "InvalidArgumentError", "4096")
        _short_message(message, flt)


async def test_400_nested_parentheses_are_a_400_not_a_500(api: Api, seed: Seed) -> None:
    flt = "(" * 400 + "metrics.acc > 0.1" + ")" * 400
    for path in RUN_PATHS:
        message = expect_error(await api.get(path, params={"filter": flt}), 400, "InvalidArgumentError", "32 deep")
        _short_message(message, flt)
    deepest = "(" * 32 + "metrics.acc > 0.25" + ")" * 32
    page = await api.ok("experiments/train/runs", params={"filter": deepest})
    assert {r["display_name"] for r in page["items"]} == {"r3", "r4"}


async def test_1500_or_terms_are_a_400_not_a_retry_forever_503(api: Api, seed: Seed) -> None:
    """SQLite refused the statement ("Expression tree is too large"), reported as 503 'unavailable'."""
    flt = " or ".join(f"metrics.acc = {i}" for i in range(1500))
    for path in RUN_PATHS:
        message = expect_error(await api.get(path, params={"filter": flt}), 400, "InvalidArgumentError", "4096")
        _short_message(message, flt)
    terms = " or ".join(f"tags.fold={i}" for i in range(101))  # within the length cap
    expect_error(await api.get("runs", params={"filter": terms}), 400, "InvalidArgumentError", "100 comparisons")
    most = " or ".join(f"tags.fold={i}" for i in range(100))
    assert len((await api.ok("experiments/train/runs", params={"filter": most}))["items"]) == 5
    keys = [("order_by", "metrics.acc DESC")] * 17
    expect_error(await api.get("runs", params=keys), 400, "InvalidArgumentError", "16 keys")


async def test_filter_caps_hold_before_the_workspace_exists(api: Api) -> None:
    assert (await api.ok("workspace"))["exists"] is False
    flt = "(" * 400 + "metrics.acc > 0.1" + ")" * 400
    expect_error(await api.get("runs", params={"filter": flt}), 400, "InvalidArgumentError", "32 deep")


# -- finding 7a/7b: file headers ---------------------------------------------------------------------------
def _run_with_files(root: Path, files: dict[str, bytes]) -> tuple[Workspace, str]:
    ws = Workspace.create(root)
    scratch = root.parent / "hardening-scratch"
    scratch.mkdir(exist_ok=True)
    with Experiment(ws, "files").start_logging() as run:
        for i, (name, data) in enumerate(files.items()):
            source = scratch / f"f{i}"
            source.write_bytes(data)
            run.upload_file(name, source)
    return ws, run.id


def _url(run_id: str, name: str) -> str:
    return f"runs/{run_id}/files/" + "/".join(urllib.parse.quote(p, safe="") for p in name.split("/"))


async def test_file_names_outside_latin_1_or_with_quotes_give_rfc_6266_headers(api: Api, jp_root_dir: Path) -> None:
    """A non-Latin-1 name was a 500 (the header could not be encoded); a '"' ended the parameter early."""
    names = {
        "outputs/数据 résumé.txt": (
            "inline; filename=\"__ r_sum_.txt\"; filename*=UTF-8''%E6%95%B0%E6%8D%AE%20r%C3%A9sum%C3%A9.txt"
        ),
        'outputs/a"b;c.txt': "inline; filename=\"a_b;c.txt\"; filename*=UTF-8''a%22b%3Bc.txt",
        "outputs/plain name.txt": 'inline; filename="plain name.txt"',
    }
    _, run_id = _run_with_files(Path(jp_root_dir), dict.fromkeys(names, b"text"))
    for name, header in names.items():
        reply = await api.get(_url(run_id, name), documented=False)  # the spec's path check cannot take '"'
        assert reply.status == 200, reply
        assert reply.body == b"text"
        assert reply.headers["Content-Disposition"] == header
        saved = await api.get(_url(run_id, name), params={"download": "1"}, documented=False)
        assert saved.headers["Content-Disposition"] == header.replace("inline", "attachment", 1)


ACTIVE = {
    "outputs/page.html": (b"<script>alert(document.cookie)</script>", "text/html"),
    "outputs/picture.svg": (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"),
    "outputs/data.xml": (b"<x/>", ("application/xml", "text/xml")),
    "outputs/doc.xhtml": (b"<html/>", "application/xhtml+xml"),
}
PASSIVE = {
    "outputs/notes.txt": (b"notes", "text/plain"),
    "outputs/pixel.png": (PNG, "image/png"),
    "outputs/table.json": (b"{}", "application/json"),
    "outputs/blob.bin": (b"\x00\x01", "application/octet-stream"),
}


def _assert_file_headers(reply: Any, inline: bool) -> None:
    assert reply.status == 200, reply
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("inline;" if inline else "attachment;"), (reply.url, disposition)
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    policy = [p.strip() for p in reply.headers["Content-Security-Policy"].split(";")]
    assert "sandbox" in policy and "default-src 'none'" in policy, policy


async def test_html_svg_and_xml_files_are_attachments_under_a_sandbox_policy(api: Api, jp_root_dir: Path) -> None:
    """Opened in a tab they rendered (and could script) on the Jupyter origin; passive types stay inline
    (the front end's previews fetch them; <img> shows images), every file under ``sandbox``."""
    files = {**ACTIVE, **PASSIVE}
    ws, run_id = _run_with_files(Path(jp_root_dir), {name: data for name, (data, _) in files.items()})
    for name, (data, kind) in files.items():
        reply = await api.get(_url(run_id, name))
        assert reply.body == data
        kinds = kind if isinstance(kind, tuple) else (kind,)
        assert reply.content_type in kinds, reply
        _assert_file_headers(reply, inline=name in PASSIVE)
    # Model files the same way.
    Model.register(ws, "outputs/page.html", "web", run=ws.get_run(run_id))
    Model.register(ws, "outputs/notes.txt", "notes", run=ws.get_run(run_id))
    _assert_file_headers(await api.get("models/web/versions/1/files/page.html"), inline=False)
    _assert_file_headers(await api.get("models/notes/versions/1/files/notes.txt"), inline=True)


# -- finding 7c: NUL bytes and unusable paths ----------------------------------------------------------------
async def test_a_nul_byte_in_a_path_field_is_a_400(api: Api, jp_root_dir: Path) -> None:
    """POST snapshots {"path": "a\\u0000b"} was a 500 (the OS refuses NUL in a path)."""
    (Path(jp_root_dir) / "proj").mkdir()
    (Path(jp_root_dir) / "proj" / "job.py").write_text("print('hi')\n")
    expect_error(await api.post("snapshots", body={"path": "proj\x00x"}), 400, "InvalidArgumentError", "NUL", "path")
    expect_error(await api.post("snapshots", body={"path": "a" * 5000}), 400, "InvalidArgumentError", "path")
    for body in (
        {"script": "proj/job\x00.py"},
        {"notebook": "proj/\x00.ipynb"},
        {"script": "proj/job.py", "source_directory": "proj\x00"},
        {"script": "proj/job.py", "tags": {"k": "v\x00"}},
        {"script": "proj/job.py", "arguments": ["--x", "\x00"]},
    ):
        expect_error(await api.post("submissions", body=body), 400, "InvalidArgumentError", "NUL")
    assert (await api.ok("workspace"))["exists"] is False  # refused before anything was made


async def test_a_nul_byte_in_a_url_is_a_400(api: Api, seed: Seed) -> None:
    run = seed.files_run
    for path in (
        "runs/x%00y",
        f"runs/{run}/files/outputs/model%00.txt",
        "models/clf%00/versions/1",
        "experiments/train%00/runs",
    ):
        expect_error(await api.get(path, documented=False), 400, "InvalidArgumentError", "NUL")
    expect_error(await api.get("runs", params={"filter": "tags.fold = '\x00'"}), 400, "InvalidArgumentError", "NUL")


# -- finding 7d: Last-Event-ID --------------------------------------------------------------------------------
async def test_an_out_of_range_last_event_id_starts_the_stream_now(
    api: Api, seed: Seed, events_url: str, jp_auth_header: dict[str, str], jp_root_dir: Path
) -> None:
    """20 digits overflowed the database driver after the stream had begun: the stream dropped (and a
    first subscriber's id could stall the shared poller). Any id no event can have now resumes from the
    present: an EventSource never reconnects after an error answer."""
    for resume in ("9" * 20, "9" * 5000, "-5", str(2**63)):
        async with open_stream(events_url, {**jp_auth_header, "Last-Event-ID": resume}) as stream:
            worker = asyncio.ensure_future(asyncio.to_thread(_one_run, Path(jp_root_dir)))
            events = await stream.collect(lambda evs: any(e.kind == "run.status" for e in evs))
            run_id = await worker
        assert {e.data["run_id"] for e in events} == {run_id}, events  # only what happened after connecting
    bad = await api.get("events", headers={"Last-Event-ID": "1" * 60 + "x"})
    message = expect_error(bad, 400, "InvalidArgumentError", "Last-Event-ID")
    assert len(message) < 200


def _one_run(root: Path) -> str:
    with Experiment(Workspace(root), "resumed").start_logging() as run:
        run.log("acc", 1.0)
    return run.id


# -- finding 7e: non-finite numbers in bodies ---------------------------------------------------------------
async def test_non_finite_numbers_in_a_body_are_a_400(api: Api, jp_root_dir: Path) -> None:
    """max_run_duration_seconds=NaN passed the schema (NaN > 0 is false, so no bound fails) and meant
    "no limit"; Python's json reads NaN/Infinity literals, which JSON does not have (one server for all
    four literals: the fixtures start one per test)."""
    (Path(jp_root_dir) / "job.py").write_text("print('hi')\n")
    for literal in ("NaN", "Infinity", "-Infinity", "1e999"):
        body = f'{{"script": "job.py", "max_run_duration_seconds": {literal}}}'.encode()
        message = expect_error(await api.post("submissions", body=body), 400, "InvalidArgumentError")
        assert literal.lstrip("-") in message, message
        body = f'{{"script": "job.py", "parameters": {{"x": {literal}}}}}'.encode()
        expect_error(await api.post("submissions", body=body), 400, "InvalidArgumentError")
    assert (await api.ok("workspace"))["exists"] is False


async def test_a_deeply_nested_body_is_a_400(api: Api, jp_root_dir: Path) -> None:
    """100,000 nested brackets overflowed the JSON decoder's recursion (a RecursionError: a 500)."""
    (Path(jp_root_dir) / "job.py").write_text("print('hi')\n")
    for depth in (100, 100_000):
        body = b'{"script": "job.py", "parameters": {"x": ' + b"[" * depth + b"]" * depth + b"}}"
        expect_error(await api.post("submissions", body=body), 400, "InvalidArgumentError", "more than 64 deep")
    assert (await api.ok("workspace"))["exists"] is False
