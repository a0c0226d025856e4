"""The ``mlws`` command: a thin adapter over the public API and the services.

One module per group of commands (``workspace``, ``runs``, ``submit``, ``compute`` with ``dask``, ``models``,
``datasets``, ``pipelines``, ``services`` with ``deploy``, ``sweeps``, ``drift``,
``secrets``); errors print one line on stderr and
exit 1 (2 for usage errors); never a traceback unless ``MLWS_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from ..core.layout import DRIVER_LOG
from ..core.services.reclaim import DEFAULT_EVENT_DAYS, DEFAULT_KEEP_DAYS
from ..errors import MlwsError
from . import compute as compute_cmds
from . import datasets as datasets_cmds
from . import drift as drift_cmds
from . import models as models_cmds
from . import pipelines as pipelines_cmds
from . import runs as runs_cmds
from . import secrets as secrets_cmds
from . import services as services_cmds
from . import submit as submit_cmds
from . import sweeps as sweeps_cmds
from . import workspace as workspace_cmds
from .common import Parser

__all__ = ["build_parser", "main"]

ARTIFACT_OPTION_HELP = (
    "a non-secret fsspec storage option of the artifact store, e.g. endpoint_url=http://host:9000 (JSON values "
    'are decoded: client_kwargs=\'{"region_name": "eu-west-1"}\'); repeatable. Keys come from AWS_ACCESS_KEY_ID / '
    "AWS_SECRET_ACCESS_KEY, the endpoint may come from AWS_ENDPOINT_URL"
)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mlws", description="jupyter-mlws: a local-first machine-learning workspace")
    parser.add_argument(
        "--workspace", "-w", help="workspace folder (default: MLWS_WORKSPACE or the nearest .mlws/ upward)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    p = sub.add_parser("init", help="create a workspace")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--name")
    p.add_argument(
        "--metadata-url",
        help="e.g. postgresql+psycopg://user@host/db (default: SQLite); "
        "the password comes from PGPASSWORD or ~/.pgpass and is never stored",
    )
    p.add_argument("--artifact-url", help="a folder or fsspec URL (default: .mlws/artifacts)")
    p.add_argument("--artifact-option", action="append", default=[], metavar="KEY=VALUE", help=ARTIFACT_OPTION_HELP)
    p.set_defaults(func=workspace_cmds.cmd_init)

    workspace = sub.add_parser("workspace", help="the workspace itself").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = workspace.add_parser(
        "migrate",
        help="copy this workspace (database and every blob) into an empty team workspace, and verify the copy",
    )
    p.add_argument(
        "--to",
        required=True,
        metavar="METADATA_URL",
        help="the empty team database, e.g. postgresql+psycopg://user@host/dbname (a password there is used, "
        "never stored: later processes take it from PGPASSWORD or ~/.pgpass)",
    )
    p.add_argument(
        "--artifacts",
        required=True,
        dest="artifact_url",
        metavar="ARTIFACT_URL",
        help="the team's artifact store, e.g. s3://bucket/prefix",
    )
    p.add_argument("--artifact-option", action="append", default=[], metavar="KEY=VALUE", help=ARTIFACT_OPTION_HELP)
    p.add_argument(
        "--switch", action="store_true", help="afterwards point this workspace's config.json at the team workspace"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=workspace_cmds.cmd_workspace_migrate)
    p = workspace.add_parser("check", help="verify that every referenced blob is stored with its digest")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=workspace_cmds.cmd_workspace_check)

    p = sub.add_parser(
        "gc",
        help="remove what nothing needs: unreferenced blobs, unused environments, old events, finished jobs' folders",
    )
    p.add_argument("--dry-run", action="store_true", help="list what would go and the bytes, remove nothing")
    p.add_argument(
        "--grace",
        type=_seconds,
        default=3600.0,
        metavar="SECONDS",
        help="keep anything written or used within this many seconds (default 3600): registrations and jobs in flight",
    )
    p.add_argument(
        "--keep-days",
        type=_days("--keep-days"),
        default=DEFAULT_KEEP_DAYS,
        metavar="DAYS",
        help=f"keep environment venvs and Docker images used within this many days (default {DEFAULT_KEEP_DAYS:g})",
    )
    p.add_argument(
        "--event-days",
        type=_days("--event-days"),
        default=DEFAULT_EVENT_DAYS,
        metavar="DAYS",
        help=f"keep change-feed events of the last this many days (default {DEFAULT_EVENT_DAYS:g})",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=workspace_cmds.cmd_gc)

    p = sub.add_parser("quickstart", help="create a workspace, log a training run, register a model")
    p.add_argument("path", nargs="?", help="folder for the workspace (default: a new temporary folder)")
    p.add_argument("--epochs", type=int, default=20)
    p.set_defaults(func=workspace_cmds.cmd_quickstart)

    exps = sub.add_parser("experiments", help="experiments").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = exps.add_parser("list", help="list experiments")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=workspace_cmds.cmd_experiments_list)

    runs = sub.add_parser("runs", help="runs").add_subparsers(dest="action", required=True, parser_class=Parser)
    p = runs.add_parser("list", help="list runs, newest first")
    p.add_argument("--experiment", "-e")
    p.add_argument("--status")
    p.add_argument("--filter", help="e.g. \"metrics.acc > 0.5 and params.lr = '0.01'\"")
    p.add_argument("--max", type=int, default=100, help="at most this many runs (default 100)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=runs_cmds.cmd_runs_list)
    p = runs.add_parser("show", help="details, metrics and files of a run")
    p.add_argument("run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=runs_cmds.cmd_runs_show)
    p = runs.add_parser("logs", help="a run's driver log (user_logs/std_log.txt)")
    p.add_argument("run")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")
    p.add_argument("--name", default=DRIVER_LOG, help="another log file of the run")
    p.set_defaults(func=runs_cmds.cmd_runs_logs)
    p = runs.add_parser("cancel", help="cancel a run (a job gets SIGTERM, then SIGKILL)")
    p.add_argument("run")
    p.set_defaults(func=runs_cmds.cmd_runs_cancel)
    p = runs.add_parser("snapshot", help="download the code snapshot of a job as a zip")
    p.add_argument("run")
    p.add_argument("--output", "-o", default=None, help="zip file or folder (default: RUN-snapshot.zip here)")
    p.set_defaults(func=runs_cmds.cmd_runs_snapshot)

    p = sub.add_parser("submit", help="run a script or a notebook as a job: snapshot, queue, supervise")
    p.add_argument("script", help="the script or notebook (.ipynb), relative to --source")
    p.add_argument(
        "args", nargs="*", help="arguments for the script (after `--`, even ones that look like mlws options)"
    )
    p.add_argument("--experiment", "-e", help="experiment name (default: the source folder's name)")
    p.add_argument("--source", default=".", help="the folder to snapshot (default: here)")
    p.add_argument("--compute", "-c", default="local", help="compute target (default: local)")
    p.add_argument("--environment", help="a registered environment, NAME or NAME:VERSION (default: this interpreter)")
    p.add_argument("--max-seconds", type=float, default=None, help="cancel the run after this long")
    p.add_argument("--param", "-p", action="append", default=[], help="a notebook parameter name=value")
    p.add_argument("--kernel", help="the notebook's kernel (default: its own kernelspec)")
    p.add_argument("--wait", action="store_true", help="stream the log and wait for the end")
    p.set_defaults(func=submit_cmds.cmd_submit)

    compute_cmds.add_parsers(sub)

    models = sub.add_parser("models", help="model registry").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = models.add_parser("list", help="list model versions, newest first")
    p.add_argument("--name")
    p.add_argument("--latest", action="store_true", help="only the newest version of each model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=models_cmds.cmd_models_list)
    p = models.add_parser("show", help="one model version (NAME, NAME:VERSION or NAME:ALIAS)")
    p.add_argument("model")
    p.add_argument("--version", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=models_cmds.cmd_models_show)
    p = models.add_parser("download", help="download a model version's files")
    p.add_argument("model")
    p.add_argument("--version", type=int)
    p.add_argument("--output", "-o", default=".")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=models_cmds.cmd_models_download)

    datasets_cmds.add_parsers(sub)
    pipelines_cmds.add_parsers(sub)
    services_cmds.add_parsers(sub)
    sweeps_cmds.add_parsers(sub)
    drift_cmds.add_parsers(sub)
    secrets_cmds.add_parsers(sub)
    return parser


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a number of seconds, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a number of seconds >= 0, got {text!r}")
    return value


def _days(option: str) -> Callable[[str], float]:
    def days(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 <= value < float("inf"):
            raise argparse.ArgumentTypeError(f"a number of days >= 0 (e.g. {option} 30), got {text!r}")
        return value

    return days


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``mlws`` with ``argv`` (default: this process's arguments, as the ``mlws`` command)."""
    try:
        return _main(argv)
    finally:
        if argv is None:
            _quick_exit()


def _quick_exit() -> None:
    """The command is done: leave its objects to the operating system. Python's last garbage
    collection at exit walks every object SQLAlchemy and the rest made — 70-100 ms of a `mlws runs
    list`, measured (issue 22). Frozen objects are skipped by it; everything that matters is already
    committed (each write is a transaction) and the atexit handlers (buffered metrics) still run. Only
    for the command itself: a caller passing ``argv`` (tests, scripts) keeps its collector."""
    import gc

    sys.stdout.flush()
    gc.freeze()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    words = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(sweeps_cmds.split_sweep(words) or submit_cmds.split_submit(words))
    # The `mlws` command itself (not a caller's main([...])) may run in its workspace's warm agent.
    args.forward_words = words if argv is None else None
    try:
        code: int = args.func(args)
        return code
    except MlwsError as exc:
        print(f"mlws: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mlws: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`mlws runs list | head`): not an error; keep Python quiet at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("MLWS_DEBUG"):
            raise
        print(f"mlws: error: {type(exc).__name__}: {exc} (set MLWS_DEBUG=1 for a traceback)", file=sys.stderr)
        return 1
