"""The light run lister (issue 22, a snappy CLI): the same run lists as the SQL store, without SQLAlchemy.

``mlws runs list`` in a fresh process lists through ``stores/metadata/sqlite_lister.py`` (stdlib
``sqlite3``); a process that has opened the store lists through the store. These tests hold the two
to the same answers on one workspace, and check what the lister declines: a search it does not answer
(a filter expression, an order, children), and a database it must not read (not at the current
schema revision, not a plain file).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Workspace
from jupyter_mlws.core.search import parse_filter, parse_order_by
from jupyter_mlws.core.workspace import close_backends
from jupyter_mlws.errors import BackendUnavailableError, InvalidArgumentError, NotFoundError
from jupyter_mlws.stores.metadata.run_rows import RUN_SELECT, run_record
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore, migrate
from jupyter_mlws.stores.metadata.sqlite_lister import SqliteRunLister, open_sqlite_lister
from tests.test_cli_snappy import _fresh_interpreter


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = Workspace.create(tmp_path_factory.mktemp("lister") / "proj")
    train, other = Experiment(workspace, "train"), Experiment(workspace, "other")
    for i in range(7):
        run = (train if i % 3 else other).start_logging(display_name=f"run-{i}")
        run.log("acc", i / 10)
        run.log("loss", math.nan if i == 2 else 1 - i / 10)
        run.log_list("curve", [1, 2, 3])  # a list metric: its last value is what lists show
        run.log_table("table", {"a": [1]})  # not a scalar: lists leave it out
        run.set_tags({"team": "a" if i % 2 else "b"})
        run.log_batch(metrics=[], params={"lr": str(i)})
        if i == 1:
            child = run.child_run("child")
            child.log("acc", 0.9)
            child.complete()
        if i == 4:
            run.fail("broke in cell 2")
        elif i != 6:  # run-6 stays Running
            run.complete()
    yield workspace
    close_backends()


@pytest.fixture
def lister(ws: Workspace) -> Iterator[SqliteRunLister]:
    opened = open_sqlite_lister(ws.metadata_url)
    assert opened is not None
    yield opened
    opened.close()


def _search(store: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "experiment_ids": None, "filter": None, "order_by": [], "max_results": 100, "offset": 0,
        "include_children": False, **kw,
    }  # fmt: skip
    return store.search_runs(**args)


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN (summaries hold NaN for a metric logged as NaN)."""
    return json.dumps(a, sort_keys=True, default=repr) == json.dumps(b, sort_keys=True, default=repr)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"max_results": 3},
        {"max_results": 3, "offset": 3},
        {"max_results": 3, "offset": 6},
        {"filter": "attributes.status = 'completed'"},
        {"filter": "status = 'Running'"},
        {"filter": "attributes.status = 'Failed'", "max_results": 1},
        {"experiments": ["train"]},
        {"experiments": ["train", "other"], "filter": "attributes.status = 'Completed'"},
        {"experiments": []},
    ],
)
def test_the_lister_answers_as_the_store_does(ws: Workspace, lister: SqliteRunLister, kw: dict[str, Any]) -> None:
    kw = dict(kw)
    if "experiments" in kw:
        kw["experiment_ids"] = [ws.metadata.get_experiment(name).id for name in kw.pop("experiments")]
    if "filter" in kw:
        kw["filter"] = parse_filter(kw["filter"])
    light, full = _search(lister, **kw), _search(ws.metadata, **kw)
    assert light is not None
    assert light.runs == full.runs
    assert light.next_offset == full.next_offset
    ids = [r.run_id for r in full.runs]
    assert _same(lister.summarize_runs(ids), ws.metadata.summarize_runs(ids))
    if not kw:
        assert len(full.runs) == 7  # every top-level run, not the child
        summary = lister.summarize_runs(ids)[full.runs[-1].run_id]  # run-0, the oldest
        assert summary["metrics"] == {"acc": 0.0, "loss": 1.0, "curve": 3}
        assert summary["params"] == {"lr": "0"} and summary["tags"] == {"team": "b"}


def test_a_run_row_reads_the_same_through_both(ws: Workspace, lister: SqliteRunLister) -> None:
    """RUN_SELECT and the store's RUN_COLUMNS name the same columns in the same order: every field
    of a child run (parent id) and of a failed run (error JSON) reads alike."""
    records = ws.metadata.search_runs(
        experiment_ids=None, filter=None, order_by=[], max_results=100, include_children=True
    ).runs
    assert any(r.parent_run_id for r in records) and any(r.error for r in records)
    conn = sqlite3.connect(ws.metadata_url.removeprefix("sqlite:///"))
    try:
        for record in records:
            row = conn.execute(f"{RUN_SELECT} WHERE r.run_id = ?", (record.run_id,)).fetchone()
            assert run_record(row) == record
    finally:
        conn.close()


@pytest.mark.parametrize(
    "kw",
    [
        {"filter": "metrics.acc > 0.1"},
        {"filter": "attributes.status = 'Completed' and params.lr = '1'"},
        {"filter": "attributes.status != 'Completed'"},
        {"filter": "attributes.status LIKE 'Comp%'"},
        {"order_by": "metrics.acc DESC"},
        {"include_children": True},
    ],
)
def test_the_lister_declines_what_it_does_not_answer(lister: SqliteRunLister, kw: dict[str, Any]) -> None:
    kw = dict(kw)
    if "filter" in kw:
        kw["filter"] = parse_filter(kw["filter"])
    if "order_by" in kw:
        kw["order_by"] = parse_order_by(kw["order_by"])
    assert _search(lister, **kw) is None


def test_experiments_read_alike(ws: Workspace, lister: SqliteRunLister) -> None:
    assert lister.get_experiment("train") == ws.metadata.get_experiment("train")
    with pytest.raises(NotFoundError, match="experiment 'nope' not found"):
        lister.get_experiment("nope")


def test_a_fresh_process_lists_through_the_lister_with_the_stores_answers(ws: Workspace) -> None:
    """The query service of a process that has not opened the store uses the lister, and its pages,
    tokens and errors are the store's."""
    code = """
import json, sys
from jupyter_mlws import Workspace
from jupyter_mlws.errors import MlwsError
ws = Workspace(sys.argv[1])
queries = ws.services.queries
first = queries.run_summaries(max_results=4)
second = queries.run_summaries(max_results=4, page_token=first.next_page_token)
store_loaded = "sqlalchemy" in sys.modules
try:
    queries.run_summaries(filter="attributes.status = 'Finished'")
    error = None
except MlwsError as exc:
    error = str(exc)
out = {"pages": [[s.as_dict() for s in p.items] for p in (first, second)], "token": first.next_page_token,
       "end": second.next_page_token, "error": error, "store_loaded": store_loaded}
print(json.dumps(out, default=repr))
"""
    result = _fresh_interpreter(code, str(ws.root))
    assert result.returncode == 0, result.stderr
    light = json.loads(result.stdout.strip().splitlines()[-1])
    assert light["store_loaded"] is False  # the pages came through the lister
    # The store's own answers, in this process (where the store is open: no lister).
    ws.metadata  # noqa: B018
    assert ws.run_lister() is None
    queries = ws.services.queries
    first = queries.run_summaries(max_results=4)
    second = queries.run_summaries(max_results=4, page_token=first.next_page_token)
    assert light["token"] == first.next_page_token and light["end"] is None is second.next_page_token
    assert _same(
        light["pages"], json.loads(json.dumps([[s.as_dict() for s in p.items] for p in (first, second)], default=repr))
    )
    with pytest.raises(InvalidArgumentError) as raised:
        queries.run_summaries(filter="attributes.status = 'Finished'")
    # The lister declined the unknown status: the store named it.
    assert light["error"] == str(raised.value) and "unknown run status 'Finished'" in light["error"]


def test_a_plain_list_in_a_fresh_process_imports_no_sqlalchemy(ws: Workspace) -> None:
    code = (
        "import json, sys; from jupyter_mlws.cli import main; "
        "code = main(['-w', sys.argv[1], 'runs', 'list', '--status', 'completed', '--experiment', 'train']); "
        "print(json.dumps({'code': code, 'sqlalchemy': 'sqlalchemy' in sys.modules}))"
    )
    result = _fresh_interpreter(code, str(ws.root))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == {"code": 0, "sqlalchemy": False}
    listed = "\n".join(lines[:-1])
    assert "run-5" in listed and "run-1" in listed and "run-4" not in listed and "run-0" not in listed


def test_the_lister_declines_a_database_it_must_not_read(tmp_path: Path) -> None:
    old_url = f"sqlite:///{tmp_path / 'old.db'}"
    old = SqlMetadataStore(old_url, migrate=False)
    migrate.upgrade(old.sql, "0005")
    old.close()
    assert open_sqlite_lister(old_url) is None  # the full store migrates it first
    assert open_sqlite_lister(f"sqlite:///{tmp_path / 'missing.db'}") is None  # the store creates it
    assert not (tmp_path / "missing.db").exists()
    assert open_sqlite_lister("sqlite:///:memory:") is None
    current_url = f"sqlite:///{tmp_path / 'current.db'}"
    SqlMetadataStore(current_url).close()
    opened = open_sqlite_lister(current_url)
    assert opened is not None  # at the current revision: read
    opened.close()
    assert open_sqlite_lister(f"{current_url}?timeout=5") is None  # options are the store's engine's
    assert open_sqlite_lister("postgresql+psycopg://u@127.0.0.1/db") is None
    (tmp_path / "junk.db").write_text("not a database")
    assert open_sqlite_lister(f"sqlite:///{tmp_path / 'junk.db'}") is None


def test_a_folder_with_url_special_characters_is_the_same_database(tmp_path: Path) -> None:
    """The URL's path is read as SQLAlchemy reads it: ``%25`` is ``%`` (the lister and the store must
    open one file), and spaces and ``#`` are plain characters."""
    folder = tmp_path / "sale 50% #1"
    folder.mkdir()
    url = f"sqlite:///{folder / 'm.db'}".replace("%", "%25")
    store = SqlMetadataStore(url)
    exp = store.get_or_create_experiment("e")
    store.close()
    lister = open_sqlite_lister(url)
    assert lister is not None and (folder / "m.db").is_file()
    try:
        assert lister.get_experiment("e") == exp  # the store's database, not a file named "…%25…"
        assert _search(lister) is not None
    finally:
        lister.close()


def test_runs_created_at_the_same_time_page_alike(tmp_path: Path) -> None:
    """Ties in created_time are broken by the row's key, as the store breaks them."""
    ws = Workspace.create(tmp_path / "ties")
    exp = Experiment(ws, "e")
    for i in range(5):
        exp.start_logging(display_name=f"r{i}").complete()
    conn = sqlite3.connect(ws.metadata_url.removeprefix("sqlite:///"))
    with conn:
        conn.execute("UPDATE runs SET created_time = 1000.0")
    conn.close()
    lister = open_sqlite_lister(ws.metadata_url)
    assert lister is not None
    try:
        for size in (2, 4):
            for offset in range(6):
                light, full = (
                    _search(lister, max_results=size, offset=offset),
                    _search(ws.metadata, max_results=size, offset=offset),
                )
                assert light is not None and light.runs == full.runs and light.next_offset == full.next_offset
    finally:
        lister.close()


def test_a_closed_or_unreadable_database_is_unavailable_not_a_crash(ws: Workspace) -> None:
    lister = open_sqlite_lister(ws.metadata_url)
    assert lister is not None
    lister.close()
    with pytest.raises(BackendUnavailableError, match="could not read the workspace's database"):
        _search(lister)
