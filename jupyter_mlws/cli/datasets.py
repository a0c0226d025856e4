"""``mlws datasets list | show | register | download | lineage`` (issue 15).

``NAME[:VERSION]`` names a dataset version (``VERSION`` a number or ``latest``, the default).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import AlreadyExistsError
from ..terminal import human_size, text_table
from .common import print_json, workspace_of

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from ..core.workspace import Workspace
    from ..data.dataset import Dataset

__all__ = [
    "PROGRESS_AFTER_S",
    "cmd_datasets_download",
    "cmd_datasets_lineage",
    "cmd_datasets_list",
    "cmd_datasets_register",
    "cmd_datasets_show",
    "dataset_ref",
]

#: A first fingerprint that takes longer than this gets a progress bar on stderr.
PROGRESS_AFTER_S = 2.0
# File suffix -> the tabular reader (--format); a folder's files say which one, else csv.
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".txt": "csv", ".parquet": "parquet", ".jsonl": "jsonl", ".json": "jsonl"}


def dataset_ref(text: str) -> tuple[str, int | str]:
    """``NAME[:VERSION]`` -> ``(name, version)``; an argparse ``type`` (a bad one is a usage error)."""
    name, sep, version = text.partition(":")
    if not name:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME or NAME:VERSION")
    if not sep or version == "latest":
        return name, "latest"
    if not version.isdigit() or int(version) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: the version after ':' must be a number >= 1 or 'latest'")
    return name, int(version)


def _get(ws: Workspace, ref: tuple[str, int | str]) -> Dataset:
    from ..data.dataset import Dataset

    name, version = ref
    return Dataset.get_by_name(ws, name, version=version)


def _count(summary: dict[str, Any]) -> str:
    if summary.get("kind") == "tabular" and summary.get("rows") is not None:
        return f"{summary['rows']} rows"
    return f"{summary.get('file_count', 0)} files"


def cmd_datasets_list(args: argparse.Namespace) -> int:
    from ..data.dataset import Dataset

    summaries = [ds.summary() for ds in Dataset.list(workspace_of(args))]
    if args.json:
        print_json(summaries)
        return 0
    rows = [
        (s["name"], s["version"], s["kind"], _count(s), human_size(s["total_size"]), _when(s["created_time"]))
        for s in summaries
    ]
    print(text_table(["NAME", "VERSION", "KIND", "ROWS/FILES", "SIZE", "CREATED"], rows, empty=None))
    return 0


def _when(epoch: float | None) -> str:
    if epoch is None:
        return ""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(epoch))


def cmd_datasets_show(args: argparse.Namespace) -> int:
    ds = _get(workspace_of(args), args.dataset)
    data = {**ds.summary(), "schema": ds.schema, "lineage": ds.get_lineage()}
    if args.json:
        print_json(data)
        return 0
    for key in ("name", "version", "id", "kind", "digest", "description", "source"):
        if data.get(key) not in (None, ""):
            print(f"{key + ':':14}{data[key]}")
    print(f"{'created:':14}{_when(data['created_time'])}")
    print(f"{'content:':14}{data['file_count']} files, {human_size(data['total_size'])}", end="")
    print(f", {data['rows']} rows" if data.get("rows") is not None else "")
    if data["tags"]:
        print("tags:")
        for k, v in data["tags"].items():
            print(f"  {k} = {v}")
    if data["schema"]:
        print("schema:")
        for column in data["schema"]:
            print(f"  {column['name']}: {column['type']}")
    _print_lineage(data["lineage"])
    return 0


def _print_lineage(lineage: dict[str, list[str]]) -> None:
    print("runs:" if lineage["runs"] else "runs:         (none)")
    for run_id in lineage["runs"]:
        print(f"  {run_id}")
    print("models:" if lineage["models"] else "models:       (none)")
    for model in lineage["models"]:
        print(f"  {model}")


class _ProgressBar:
    """``progress(done_bytes, total_bytes)`` for ``register``: a bar on stderr once the first
    fingerprint has taken ``PROGRESS_AFTER_S`` (a quick one shows nothing). Called from hashing
    threads, hence the lock."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __call__(self, done: int, total: int) -> None:
        with self._lock:
            if self._bar is None:
                if time.monotonic() - self.started < PROGRESS_AFTER_S:
                    return
                from rich.console import Console
                from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

                self._bar = Progress(
                    TextColumn(self.what),
                    BarColumn(),
                    DownloadColumn(binary_units=True),
                    TimeRemainingColumn(),
                    console=Console(file=sys.stderr),
                )
                self._bar.start()
                self._task = self._bar.add_task(self.what, total=total)
            assert self._task is not None
            self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.stop()


def _tabular_format(path: str, given: str | None) -> str:
    if given:
        return given
    local = Path(path.split("://", 1)[-1])
    suffix = local.suffix.lower()
    if suffix in _FORMATS:
        return _FORMATS[suffix]
    if local.is_dir():
        for child in sorted(local.rglob("*")):
            if child.is_file() and child.suffix.lower() in _FORMATS:
                return _FORMATS[child.suffix.lower()]
    return "csv"


def cmd_datasets_register(args: argparse.Namespace) -> int:
    from ..data.dataset import Dataset

    ws = workspace_of(args)
    path = args.path
    if args.tabular or args.format:
        kind = _tabular_format(path, args.format)
        if kind == "parquet":
            ds: Any = Dataset.Tabular.from_parquet_files(path)
        elif kind == "jsonl":
            ds = Dataset.Tabular.from_json_lines_files(path)
        else:
            ds = Dataset.Tabular.from_delimited_files(path, separator="\t" if kind == "tsv" else ",")
    else:
        ds = Dataset.File.from_files(path)
    progress = _ProgressBar(f"fingerprinting {args.name}")
    try:
        registered = ds.register(
            ws,
            args.name,
            description=args.description,
            create_new_version=args.create_new_version,
            progress=progress,
        )
    finally:
        progress.close()
    size = human_size(registered.total_size)
    rows = f", {registered.rows} rows" if registered.rows is not None else ""
    print(
        f"{registered.name}:{registered.version} ({registered.kind}, {registered.file_count} files, {size}{rows}) "
        f"digest {registered.digest}"
    )
    return 0


def cmd_datasets_download(args: argparse.Namespace) -> int:
    ds = _get(workspace_of(args), args.dataset)
    try:
        files = ds.download_files(args.dir, overwrite=args.overwrite)
    except AlreadyExistsError as exc:
        raise AlreadyExistsError(f"{exc}; pass --overwrite to replace it, or download into another folder") from None
    print(f"{len(files)} files of {ds.name}:{ds.version} in {Path(args.dir).resolve()}")
    return 0


def cmd_datasets_lineage(args: argparse.Namespace) -> int:
    ds = _get(workspace_of(args), args.dataset)
    lineage = ds.get_lineage()
    if args.json:
        print_json({"dataset": f"{ds.name}:{ds.version}", "digest": ds.digest, **lineage})
        return 0
    print(f"{ds.name}:{ds.version} (digest {ds.digest})")
    _print_lineage(lineage)
    return 0


def add_parsers(sub: Any) -> None:
    """The ``datasets`` command group, on the ``mlws`` parser's subcommands."""
    from .common import Parser

    group = sub.add_parser("datasets", help="versioned datasets").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = group.add_parser("list", help="list datasets (the latest version of each)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets_list)
    p = group.add_parser("show", help="one dataset version: summary, schema, lineage")
    p.add_argument("dataset", type=dataset_ref, metavar="NAME[:VERSION]")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets_show)
    p = group.add_parser("register", help="register files (or a table) as a new dataset version")
    p.add_argument("path", help="a local file, folder or glob, or a URL")
    p.add_argument("--name", "-n", required=True)
    p.add_argument("--tabular", action="store_true", help="a table (delimited, parquet or JSON lines files)")
    p.add_argument(
        "--format",
        choices=("csv", "tsv", "parquet", "jsonl"),
        help="the tabular files' format (implies --tabular; default: from their extension, else csv)",
    )
    p.add_argument("--description", "-d")
    p.add_argument(
        "--create-new-version",
        action="store_true",
        help="the name exists: make a new version (the same content keeps the existing one)",
    )
    p.set_defaults(func=cmd_datasets_register)
    p = group.add_parser("download", help="download a dataset version's files into a folder")
    p.add_argument("dataset", type=dataset_ref, metavar="NAME[:VERSION]")
    p.add_argument("dir", help="the folder (created if missing)")
    p.add_argument("--overwrite", action="store_true", help="replace files that exist there")
    p.set_defaults(func=cmd_datasets_download)
    p = group.add_parser("lineage", help="the runs and models that used a dataset version")
    p.add_argument("dataset", type=dataset_ref, metavar="NAME[:VERSION]")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_datasets_lineage)
