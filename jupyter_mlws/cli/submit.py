"""``mlws submit SCRIPT|NOTEBOOK``: a job from the command line, options wherever they stand."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..compute.agent_socket import forward_command
from ..core.layout import default_experiment_name
from ..errors import InvalidArgumentError
from .common import workspace_of

__all__ = ["cmd_submit", "split_submit"]


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
    ws = workspace_of(args)
    if args.forward_words is not None and os.environ.get("MLWS_AGENT_COMMANDS", "1") != "0":
        # Run in a fork of the workspace's agent when one runs: it has the store open and its imports
        # done, which is most of this command's time (issue 22). None: no agent, run it here.
        code = forward_command(ws.root, ws.path, args.forward_words)
        if code is not None:
            return code
    from ..core.experiment import Experiment
    from ..core.run_config import NotebookRunConfig, ScriptRunConfig

    source = Path(args.source)
    args.script = _relative_to_source(args.script, source)
    experiment = Experiment(ws, args.experiment or default_experiment_name(source))
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


_SUBMIT_OPTIONS = {
    "--experiment": 1, "-e": 1, "--source": 1, "--compute": 1, "-c": 1, "--max-seconds": 1, "--wait": 0,
    "--environment": 1,
    "--param": 1, "-p": 1, "--kernel": 1,
}  # fmt: skip


def split_submit(argv: list[str]) -> list[str]:
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
