"""The ``mlws`` command: a thin adapter over the public API.

Errors print one line on stderr and exit 1 (2 for usage errors); never a traceback unless
``MLWS_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .core.experiment import Experiment
from .core.jsonable import json_safe
from .core.layout import DEFAULT_EXPERIMENT, DRIVER_LOG
from .core.model import Model
from .core.values import iso_utc
from .core.workspace import Workspace
from .errors import AlreadyExistsError, InvalidArgumentError, MlwsError, NotFoundError
from .terminal import text_table

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit 2
        self.exit(2, f"{self.prog}: usage error: {message} (see {self.prog} --help)\n")


def _workspace(args: argparse.Namespace) -> Workspace:
    return Workspace(args.workspace) if args.workspace else Workspace.from_config()


def _print_json(value: Any) -> None:
    print(json.dumps(json_safe(value), indent=2, default=str, allow_nan=False))


def _fmt_metric(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


# -- commands ---------------------------------------------------------------------------------------
def cmd_init(args: argparse.Namespace) -> int:
    ws = Workspace.create(
        args.path,
        name=args.name,
        metadata_url=args.metadata_url,
        artifact_url=args.artifact_url,
        exist_ok=True,
    )
    metadata = ws.get_details()["metadata_url"]
    print(f"workspace {ws.name!r} at {ws.root} (metadata: {metadata}, artifacts: {ws.artifact_url})")
    return 0


def cmd_quickstart(args: argparse.Namespace) -> int:
    import shutil

    from . import quickstart
    from .core.run_config import ScriptRunConfig
    from .quickstart import train

    folder = args.path or tempfile.mkdtemp(prefix="mlws-quickstart-")
    ws = Workspace.create(folder)
    exp = Experiment(ws, "quickstart")
    print(f"Workspace: {ws.root}  ({ws.path})")
    with exp.start_logging(display_name="quickstart training") as run:
        train(run, epochs=args.epochs, output_dir=os.path.join(ws.root, "outputs"))
    model = run.register_model("quickstart-model", "outputs/model.json", tags={"source": "quickstart"})
    metrics = run.get_metrics()
    print(f"Run:       {run.id} in experiment {exp.name!r}: {run.get_status()}")
    print(
        f"Metrics:   loss {metrics['loss'][-1]:.4f}, accuracy {metrics['accuracy'][-1]:.3f} after {args.epochs} epochs"
    )
    print(f"Model:     {model.id} ({', '.join(model.get_file_names())})")
    # The same training as a job: a snapshot of a folder, run by a supervisor on the local target.
    job_dir = ws.root / "quickstart_job"
    job_dir.mkdir(exist_ok=True)
    shutil.copyfile(quickstart.__file__, job_dir / "train.py")
    job = exp.submit(
        ScriptRunConfig(source_directory=job_dir, script="train.py", arguments=["--epochs", str(args.epochs)]),
        tags={"source": "quickstart"},
    )
    job.wait_for_completion()
    job_metrics = job.get_metrics()
    print(f"Job:       {job.id}: {job.get_status()}, accuracy {job_metrics['accuracy'][-1]:.3f}")
    print(f"           files: {', '.join(job.get_file_names())}")
    print(f"Database:  {ws.get_details()['metadata_url']}")
    print(f"Artifacts: {ws.artifact_url}")
    print(f"Next:      mlws --workspace {ws.root} runs list")
    return 0


def cmd_experiments_list(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    experiments = ws.services.queries.experiments()
    items = [{"name": e.name, "id": e.id, "created_time": iso_utc(e.created_time)} for e in experiments]
    if args.json:
        _print_json(items)
    else:
        print(text_table(["NAME", "CREATED"], [(i["name"], i["created_time"]) for i in items]))
    return 0


def cmd_runs_list(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    filters = [args.filter] if args.filter else []
    if args.status:
        from .core.status import RunStatus

        filters.append(f"attributes.status = '{RunStatus.parse(args.status).value}'")
    text = " and ".join(f"({f})" for f in filters) or None
    queries = ws.services.queries
    experiment_ids = None
    if args.experiment:
        try:
            experiment_ids = [queries.experiment(args.experiment).id]
        except NotFoundError:
            raise NotFoundError(f"experiment {args.experiment!r} not found; see `mlws experiments list`") from None
    page = queries.run_summaries(experiment_ids, filter=text, max_results=args.max)
    items = [s.as_dict() for s in page.items]
    if args.json:
        _print_json(items)
        return 0
    keys: list[str] = []
    for item in items:
        keys.extend(k for k in item["metrics"] if k not in keys)
    keys = keys[:4]
    rows = [
        (
            i["id"],
            i["experiment"],
            i["status"],
            i["display_name"],
            i["start_time"],
            *(_fmt_metric(i["metrics"].get(k)) for k in keys),
        )
        for i in items
    ]
    print(text_table(["RUN", "EXPERIMENT", "STATUS", "NAME", "STARTED", *keys], rows))
    return 0


def cmd_runs_show(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    run = ws.get_run(args.run)
    details = run.get_details()
    metrics = run.get_metrics()
    files = run.get_file_names()
    if args.json:
        _print_json({**details, "metrics": metrics, "files": files})
        return 0
    for key in ("runId", "experiment", "displayName", "status", "startTimeUtc", "endTimeUtc", "parentRunId"):
        if details.get(key) is not None:
            print(f"{key + ':':16}{details[key]}")
    for section in ("params", "tags", "properties"):
        if details[section]:
            print(f"{section}:")
            for k, v in details[section].items():
                print(f"  {k} = {v}")
    if metrics:
        print("metrics:")
        for name, value in metrics.items():
            if isinstance(value, list):
                shown = f"{len(value)} values, last {_fmt_metric(value[-1]) if value else ''}"
            elif isinstance(value, dict):
                shown = f"table with columns {', '.join(value)}"
            else:
                shown = value if isinstance(value, str) else _fmt_metric(value)
            print(f"  {name}: {shown}")
    if files:
        print("files:")
        for name in files:
            print(f"  {name}")
    if "error" in details:
        print(f"error:          {details['error'].get('message')}")
    return 0


def _default_experiment(source: Path) -> str:
    name = "".join(c if c.isalnum() or c in "-_." else "-" for c in source.resolve().name).strip("-._")
    return name or DEFAULT_EXPERIMENT


def _relative_to_source(script: str, source: Path) -> str:
    """``mlws submit notebooks/train.ipynb --source notebooks``: a path from here that lies in the
    source folder means that file (the job sees it relative to the snapshot)."""
    if (source / script).exists() or not Path(script).exists():
        return script
    try:
        return Path(script).resolve().relative_to(source.resolve()).as_posix()
    except ValueError:
        return script


def cmd_submit(args: argparse.Namespace) -> int:
    from .core.run_config import NotebookRunConfig, ScriptRunConfig

    ws = _workspace(args)
    source = Path(args.source)
    args.script = _relative_to_source(args.script, source)
    experiment = Experiment(ws, args.experiment or _default_experiment(source))
    config: ScriptRunConfig | NotebookRunConfig
    if args.script.endswith(".ipynb"):
        if args.args:
            raise InvalidArgumentError("a notebook takes --param name=value, not command-line arguments")
        parameters = {}
        for item in args.param:
            name, sep, value = item.partition("=")
            if not sep:
                raise InvalidArgumentError(f"--param takes name=value, got {item!r}")
            parameters[name.strip()] = value  # converted to the type of the notebook's default
        config = NotebookRunConfig(
            source_directory=source,
            notebook=args.script,
            parameters=parameters,
            compute_target=args.compute,
            environment=args.environment,
            kernel_name=args.kernel,
            max_run_duration_seconds=args.max_seconds,
        )
    else:
        if args.param or args.kernel:
            raise InvalidArgumentError("--param and --kernel are for notebooks (.ipynb); pass script arguments")
        config = ScriptRunConfig(
            source_directory=source,
            script=args.script,
            arguments=args.args,
            compute_target=args.compute,
            environment=args.environment,
            max_run_duration_seconds=args.max_seconds,
        )
    run = experiment.submit(config)
    print(f"Submitted {run.id} to {args.compute} (experiment {experiment.name!r})", flush=True)
    if not args.wait:
        print(f"Follow it with: mlws runs logs {run.id} --follow")
        return 0
    details = run.wait_for_completion(show_output=True, raise_on_error=False)
    return 0 if details["status"] == "Completed" else 1


def cmd_runs_logs(args: argparse.Namespace) -> int:
    from .core.status import TERMINAL_STATUSES

    run = _workspace(args).get_run(args.run)
    offset = 0
    delay = 0.05
    try:
        while True:
            data, offset = run.read_log(offset, name=args.name)
            if data:
                sys.stdout.write(data.decode("utf-8", errors="replace"))
                sys.stdout.flush()
                delay = 0.05
                continue
            if not args.follow or run.status in TERMINAL_STATUSES:
                data, offset = run.read_log(offset, name=args.name)  # what came in before the end
                sys.stdout.write(data.decode("utf-8", errors="replace"))
                return 0
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
    except KeyboardInterrupt:
        return 0


def cmd_runs_cancel(args: argparse.Namespace) -> int:
    run = _workspace(args).get_run(args.run)
    run.cancel()
    print(f"{run.id}: {run.get_status()}")
    return 0


def cmd_runs_snapshot(args: argparse.Namespace) -> int:
    run = _workspace(args).get_run(args.run)
    print(run.download_snapshot(args.output))
    return 0


def cmd_compute_list(args: argparse.Namespace) -> int:
    from .core.compute import ComputeTarget, compute_target_types

    targets = [t.serialize() for t in ComputeTarget.list(_workspace(args))]
    if args.json:
        _print_json(targets)
    else:
        rows = [(t["name"], t["type"], ", ".join(f"{k}={v}" for k, v in t["config"].items())) for t in targets]
        print(text_table(["NAME", "TYPE", "SETTINGS"], rows))
        # Broken plug-ins warn here (on stderr) and are left out.
        print(f"\ntarget types available: {', '.join(sorted(compute_target_types.available()))}")
    return 0


def _model_from_args(ws: Workspace, spec: str, version: int | None) -> Model:
    name, _, v = spec.partition(":")
    if v:
        if not v.isdigit():
            return Model(ws, name, alias=v)
        version = int(v)
    return Model(ws, name, version=version)


def cmd_models_list(args: argparse.Namespace) -> int:
    ws = _workspace(args)
    models = Model.list(ws, name=args.name, latest=args.latest)
    if args.json:
        _print_json([m.serialize() for m in models])
        return 0
    rows = [
        (
            m.name,
            m.version,
            ",".join(m.aliases),
            ",".join(f"{k}={v}" for k, v in m.tags.items()),
            m.run_id,
            m.created_time.isoformat(timespec="seconds"),
        )
        for m in models
    ]
    print(text_table(["NAME", "VERSION", "ALIASES", "TAGS", "RUN", "CREATED"], rows))
    return 0


def cmd_models_show(args: argparse.Namespace) -> int:
    model = _model_from_args(_workspace(args), args.model, args.version)
    data = model.serialize()
    if args.json:
        _print_json(data)
        return 0
    for key in ("id", "description", "run_id", "created_time"):
        if data[key] is not None:
            print(f"{key + ':':14}{data[key]}")
    for key in ("aliases",):
        if data[key]:
            print(f"{key + ':':14}{', '.join(data[key])}")
    for section in ("tags", "properties"):
        if data[section]:
            print(f"{section}:")
            for k, v in data[section].items():
                print(f"  {k} = {v}")
    print("files:")
    for f in data["files"]:
        print(f"  {f['path']}  ({f['size']} bytes)")
    return 0


def cmd_models_download(args: argparse.Namespace) -> int:
    model = _model_from_args(_workspace(args), args.model, args.version)
    try:
        path = model.download(args.output, exist_ok=args.overwrite)
    except AlreadyExistsError as exc:
        raise AlreadyExistsError(
            f"{str(exc).split(';')[0]}; pass --overwrite to replace it or choose another folder with -o DIR"
        ) from None
    print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlws", description="jupyter-mlws: a local-first machine-learning workspace")
    parser.add_argument(
        "--workspace", "-w", help="workspace folder (default: MLWS_WORKSPACE or the nearest .mlws/ upward)"
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("init", help="create a workspace")
    p.add_argument("path", nargs="?", default=".")
    p.add_argument("--name")
    p.add_argument("--metadata-url", help="e.g. postgresql+psycopg://user:password@host/db (default: SQLite)")
    p.add_argument("--artifact-url", help="a folder or fsspec URL (default: .mlws/artifacts)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("quickstart", help="create a workspace, log a training run, register a model")
    p.add_argument("path", nargs="?", help="folder for the workspace (default: a new temporary folder)")
    p.add_argument("--epochs", type=int, default=20)
    p.set_defaults(func=cmd_quickstart)

    exps = sub.add_parser("experiments", help="experiments").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    p = exps.add_parser("list", help="list experiments")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_experiments_list)

    runs = sub.add_parser("runs", help="runs").add_subparsers(dest="action", required=True, parser_class=_Parser)
    p = runs.add_parser("list", help="list runs, newest first")
    p.add_argument("--experiment", "-e")
    p.add_argument("--status")
    p.add_argument("--filter", help="e.g. \"metrics.acc > 0.5 and params.lr = '0.01'\"")
    p.add_argument("--max", type=int, default=100, help="at most this many runs (default 100)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_list)
    p = runs.add_parser("show", help="details, metrics and files of a run")
    p.add_argument("run")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_runs_show)
    p = runs.add_parser("logs", help="a run's driver log (user_logs/std_log.txt)")
    p.add_argument("run")
    p.add_argument("--follow", "-f", action="store_true", help="keep printing until the run ends")
    p.add_argument("--name", default=DRIVER_LOG, help="another log file of the run")
    p.set_defaults(func=cmd_runs_logs)
    p = runs.add_parser("cancel", help="cancel a run (a job gets SIGTERM, then SIGKILL)")
    p.add_argument("run")
    p.set_defaults(func=cmd_runs_cancel)
    p = runs.add_parser("snapshot", help="download the code snapshot of a job as a zip")
    p.add_argument("run")
    p.add_argument("--output", "-o", default=None, help="zip file or folder (default: RUN-snapshot.zip here)")
    p.set_defaults(func=cmd_runs_snapshot)

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
    p.set_defaults(func=cmd_submit)

    computes = sub.add_parser("compute", help="compute targets").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    p = computes.add_parser("list", help="list compute targets")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_compute_list)

    models = sub.add_parser("models", help="model registry").add_subparsers(
        dest="action", required=True, parser_class=_Parser
    )
    p = models.add_parser("list", help="list model versions, newest first")
    p.add_argument("--name")
    p.add_argument("--latest", action="store_true", help="only the newest version of each model")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_list)
    p = models.add_parser("show", help="one model version (NAME, NAME:VERSION or NAME:ALIAS)")
    p.add_argument("model")
    p.add_argument("--version", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models_show)
    p = models.add_parser("download", help="download a model version's files")
    p.add_argument("model")
    p.add_argument("--version", type=int)
    p.add_argument("--output", "-o", default=".")
    p.add_argument("--overwrite", action="store_true")
    p.set_defaults(func=cmd_models_download)
    return parser


_SUBMIT_OPTIONS = {
    "--experiment": 1, "-e": 1, "--source": 1, "--compute": 1, "-c": 1, "--max-seconds": 1, "--wait": 0,
    "--environment": 1,
    "--param": 1, "-p": 1, "--kernel": 1,
}  # fmt: skip


def _split_submit(argv: list[str]) -> list[str]:
    """``mlws submit train.py --epochs 3 --wait``: mlws takes its own options wherever they stand;
    everything else (and all after ``--``) goes to the script, in order."""
    if "submit" not in argv:
        return argv
    at = argv.index("submit")
    head, rest = argv[: at + 1], argv[at + 1 :]
    ours: list[str] = []
    theirs: list[str] = []
    script = ""
    script_seen = False
    i = 0
    while i < len(rest):
        token = rest[i]  # a command-line word
        name = token.split("=", 1)[0]
        if token == "--":  # noqa: S105 - the end-of-options marker, not a password
            theirs.extend(rest[i + 1 :])
            break
        if name in _SUBMIT_OPTIONS or (not script_seen and token.startswith("-")):
            width = 0 if "=" in token else _SUBMIT_OPTIONS.get(name, 0)
            ours.extend(rest[i : i + 1 + width])
            i += 1 + width
            continue
        if not script_seen:
            script_seen = True
            script = token
        else:
            theirs.append(token)
        i += 1
    if not script_seen:
        return argv
    # The script and its arguments last, behind "--", so argparse reads them as positionals.
    return [*head, *ours, "--", script, *theirs]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_split_submit(list(sys.argv[1:] if argv is None else argv)))
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


if __name__ == "__main__":
    sys.exit(main())
