"""``mlws init``, ``quickstart`` and ``experiments list``."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from ..core.experiment import Experiment
from ..core.services.reclaim import GcReport, Reclaimable
from ..core.values import iso_utc
from ..core.workspace import Workspace
from ..terminal import text_table
from .common import parse_options, print_json, workspace_of

__all__ = [
    "cmd_experiments_list",
    "cmd_gc",
    "cmd_init",
    "cmd_quickstart",
    "cmd_workspace_check",
    "cmd_workspace_migrate",
]


def cmd_init(args: argparse.Namespace) -> int:
    ws = Workspace.create(
        args.path,
        name=args.name,
        metadata_url=args.metadata_url,
        artifact_url=args.artifact_url,
        exist_ok=True,
        artifact_options=parse_options(args.artifact_option) or None,
    )
    metadata = ws.get_details()["metadata_url"]
    print(f"workspace {ws.name!r} at {ws.root} (metadata: {metadata}, artifacts: {ws.artifact_url})")
    if ws.database_environment():
        # The password was used for this command only; it is never written into the workspace.
        print(
            "note: the database password is not stored in the workspace; give it to later commands, "
            "jobs and the Jupyter server in PGPASSWORD or ~/.pgpass",
            file=sys.stderr,
        )
    return 0


def cmd_workspace_migrate(args: argparse.Namespace) -> int:
    from ..core.migration import migrate_workspace

    ws = workspace_of(args)
    options = parse_options(args.artifact_option)
    say = None if args.json else (lambda message: print(message, file=sys.stderr, flush=True))
    report = migrate_workspace(ws, args.to, args.artifact_url, options, switch=args.switch, progress=say)
    if args.json:
        print_json(report.as_dict())
        return 0
    rows = sum(report.rows.values())
    print(
        f"copied {ws.root} into {report.metadata_url} + {report.artifact_url}: {rows} rows in "
        f"{sum(1 for n in report.rows.values() if n)} tables, {report.blobs} blobs ({report.blob_bytes} bytes)"
        + (f", {report.datastore_files} datastore files" if report.datastore_files else "")
    )
    print("verified: every table has the same rows on both sides, every blob is there with its digest")
    for note in report.notes:
        print(f"note: {note}")
    if report.switched:
        print(
            f"this workspace ({ws.root}) now uses the team workspace; its former database and artifacts stay "
            "as a backup"
        )
    print("open it from another folder or machine with:")
    print(f"  {report.open_code()}")
    print(
        "giving each process the database password in PGPASSWORD or ~/.pgpass and the object store's keys in "
        "AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY"
    )
    return 0


def cmd_workspace_check(args: argparse.Namespace) -> int:
    report = workspace_of(args).services.housekeeping.check()
    if args.json:
        print_json(report.to_json())
        return 0 if report.clean else 1
    for problem in report.problems:
        owners = ", ".join(problem.referenced_by[:3]) + (
            f" and {len(problem.referenced_by) - 3} more" if len(problem.referenced_by) > 3 else ""
        )
        detail = f" ({problem.detail})" if problem.detail else ""
        print(f"{problem.problem} blob {problem.digest}{detail}: referenced by {owners}")
    if report.clean:
        print(f"clean: {report.checked} referenced blobs, each present with its digest")
        return 0
    print(f"{len(report.problems)} problem(s) among {report.checked} referenced blobs")
    return 1


def cmd_gc(args: argparse.Namespace) -> int:
    from ..compute.housekeeping import sweep_machine
    from ..serving.layout import service_environments

    ws = workspace_of(args)
    hk = ws.services.housekeeping
    dry, grace = args.dry_run, args.grace
    report = GcReport(dry, grace, args.keep_days, args.event_days)
    blobs = hk.collect(dry_run=dry, grace_seconds=grace)
    report.items += [Reclaimable("blob", b.digest, b.size) for b in blobs.blobs]
    report.fresh_blobs = blobs.kept_fresh
    report.items += hk.collect_temp_files(dry_run=dry, grace_seconds=grace)
    # Compute knows venvs, images and job folders; serving which of them its services run on.
    machine = sweep_machine(ws, args.keep_days, grace, dry_run=dry, pinned=service_environments(ws.path))
    report.items += machine.items
    report.kept += machine.kept
    report.events = hk.prune_events(dry_run=dry, event_days=args.event_days)
    if args.json:
        print_json(report.to_json())
        return 0
    print_gc_report(report)
    return 0


def print_gc_report(report: GcReport) -> None:
    verb = "would remove" if report.dry_run else "removed"
    for item in report.ordered():
        detail = f" ({item.detail})" if item.detail else ""
        print(f"{verb} {item.kind} {item.name} {item.size} bytes{detail}")
    counts = ", ".join(f"{n} {kind}s" for kind, n in report.counts().items() if n or kind == "blob")
    print(f"{'would reclaim' if report.dry_run else 'reclaimed'} {report.reclaimed_bytes} bytes ({counts})")
    pruned = "would prune" if report.dry_run else "pruned"
    print(f"{pruned} {report.events} events older than {report.event_days:g} days")
    if report.fresh_blobs:
        print(f"kept {report.fresh_blobs} unreferenced blob(s) written within the last {report.grace_seconds:g} s")
    for reason in report.kept:
        print(f"kept {reason}")


def cmd_quickstart(args: argparse.Namespace) -> int:
    import shutil

    from .. import quickstart
    from ..core.run_config import ScriptRunConfig
    from ..quickstart import train

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
    ws = workspace_of(args)
    experiments = ws.services.queries.experiments()
    items = [{"name": e.name, "id": e.id, "created_time": iso_utc(e.created_time)} for e in experiments]
    if args.json:
        print_json(items)
    else:
        print(text_table(["NAME", "CREATED"], [(i["name"], i["created_time"]) for i in items], empty=None))
    return 0
