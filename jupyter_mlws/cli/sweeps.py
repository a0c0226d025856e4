"""``mlws sweep SCRIPT --param NAME=EXPRESSION... --metric M --goal max|min --runs N`` (issue 18) and
``mlws sweep show RUN_ID``.

The sweep is v1's HyperDrive: ``HyperDriveConfig`` over a ``ScriptRunConfig`` whose fixed arguments come
after ``--``. Mistakes on the command line (a bad ``--param``, ``--policy``, a missing ``--metric``) are
usage errors: one line, exit 2. Watching prints each trial as it starts and ends, then the ranking; each
look is one call of ``sweeps.views.sweep_view``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from ..errors import InvalidArgumentError, NotFoundError
from ..terminal import text_table
from .common import print_json, workspace_of

__all__ = ["add_parsers", "cmd_sweep", "split_sweep"]

TOP = 10
_TERMINAL = ("Completed", "Failed", "Canceled")


def _table(view: Mapping[str, Any], top: int) -> str:
    from ..sweeps import tables

    headers = [h if h in view["parameters"] else h.upper() for h in tables.trial_headers(view)]
    return text_table(headers, tables.trial_rows(view, top=top), empty="(no trials yet)")


def _best_line(view: Mapping[str, Any]) -> str:
    from ..sweeps.tables import value_text

    best = view["best_run_id"]
    metric = view["primary_metric"]["name"]
    if best is None:
        return f"Best run: none yet (no trial logged {metric!r})"
    child = next(c for c in view["children"] if c["run_id"] == best)
    values = " ".join(f"{k}={value_text(v)}" for k, v in child["hyperparameters"].items())
    return f"Best run: {best} ({metric}={value_text(child['best_primary_metric'])}; {values})"


def _summary(view: Mapping[str, Any]) -> list[str]:
    metric = view["primary_metric"]
    seed = view["sampling"].get("seed")
    lines = [
        f"{'sweep:':14}{view['run_id']}",
        f"{'status:':14}{view['status']}",
        f"{'metric:':14}{metric['name']} ({metric['goal']})",
        f"{'sampling:':14}{view['sampling']['type']}" + (f", seed {seed}" if seed is not None else ""),
        f"{'policy:':14}{view['policy']['description']}",
        f"{'trials:':14}{len(view['children'])} of at most {view['max_total_runs']}, "
        f"{view['max_concurrent_runs']} at a time",
    ]
    if view.get("end_reason"):
        lines.append(f"{'ended:':14}{view['end_reason']}")
    return lines


def _usage(args: argparse.Namespace, message: str) -> NoReturn:
    args.usage(message)  # the parser's error: one line, exit 2
    raise AssertionError("unreachable")


def _show(args: argparse.Namespace) -> int:
    from ..sweeps.views import sweep_view

    if len(args.args) != 1:
        _usage(args, "sweep show takes one RUN_ID (the sweep's run id, printed by `mlws sweep`)")
    ws = workspace_of(args)
    run_id = args.args[0]
    try:
        view = sweep_view(ws, run_id)
    except NotFoundError:
        raise NotFoundError(f"no run has the id {run_id!r}; see `mlws runs list`") from None
    if args.json:
        print_json(view)
        return 0
    print("\n".join(_summary(view)))
    print()
    print(_table(view, args.top or 0))
    print(_best_line(view))
    return 0


def _config(args: argparse.Namespace) -> Any:
    """The ``HyperDriveConfig`` of the command line; a mistake in it is a usage error."""
    from ..core.run_config import ScriptRunConfig
    from ..sweeps.config import HyperDriveConfig
    from ..sweeps.spec import make_sampling, parameter_space, parse_policy_option

    given = (("--param", args.param), ("--metric", args.metric), ("--goal", args.goal), ("--runs", args.runs))
    missing = [option for option, value in given if not value]
    if missing:
        _usage(
            args,
            f"sweep needs {', '.join(missing)}, e.g. mlws sweep train.py --param 'lr=uniform(0.01, 0.1)' "
            "--metric acc --goal max --runs 10",
        )
    try:
        space = parameter_space(args.param)
        sampling = make_sampling(args.sampling, space, args.seed)
        policy = parse_policy_option(args.policy) if args.policy else None
        run_config = ScriptRunConfig(
            source_directory=Path(args.source),
            script=args.script,
            arguments=list(args.args),
            compute_target=args.compute,
            environment=args.environment,
        )
        config = HyperDriveConfig(
            run_config=run_config,
            hyperparameter_sampling=sampling,
            primary_metric_name=args.metric,
            primary_metric_goal=args.goal,
            max_total_runs=args.runs,
            max_concurrent_runs=args.concurrent,
            max_duration_minutes=args.max_minutes,
            policy=policy,
        )
        config.sweep_spec()  # fixed arguments that clash with sampled ones fail here, as a usage error
    except InvalidArgumentError as exc:
        _usage(args, exc.message)
    return config


def _trial_line(child: Mapping[str, Any], metric: str, first: bool) -> str:
    """One trial's change. Its first line names its values, even when a quick trial is first seen ended
    (the watch polls, so it can miss a short Running)."""
    from ..sweeps.tables import value_text

    head = f"trial {child['index']} {child['run_id']}: {child['status']}"
    parts = [" ".join(f"{k}={value_text(v)}" for k, v in child["hyperparameters"].items())] if first else []
    if child["status"] in _TERMINAL:
        if child["best_primary_metric"] is not None:
            parts.append(f"{metric}={value_text(child['best_primary_metric'])}")
        if child["stop_reason"]:
            parts.append(f"stopped: {child['stop_reason']}")
    elif not first:
        parts.append(" ".join(f"{k}={value_text(v)}" for k, v in child["hyperparameters"].items()))
    return f"{head}  {'  '.join(parts)}".rstrip()


def _watch(ws: Any, run_id: str) -> dict[str, Any]:
    """Print each trial's changes until the sweep ends; the last view."""
    from ..core.runs.waiting import RECONCILE_EVERY_S
    from ..sweeps.views import sweep_view

    seen: dict[str, str] = {}
    delay = 0.05
    next_check = time.monotonic() + RECONCILE_EVERY_S
    while True:
        view = sweep_view(ws, run_id)
        metric = view["primary_metric"]["name"]
        for child in view["children"]:
            if seen.get(child["run_id"]) != child["status"]:
                first = child["run_id"] not in seen
                seen[child["run_id"]] = child["status"]
                print(_trial_line(child, metric, first), flush=True)
        if view["status"] in _TERMINAL:
            return view
        if time.monotonic() >= next_check:
            # Watching a sweep is waiting on it: one whose controller died gets a new one.
            ws.reconcile_jobs([run_id])
            next_check = time.monotonic() + RECONCILE_EVERY_S
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


def cmd_sweep(args: argparse.Namespace) -> int:
    """``mlws sweep SCRIPT ...`` or ``mlws sweep show RUN_ID``."""
    from ..core.experiment import Experiment
    from ..core.layout import default_experiment_name

    if args.script is None:
        _usage(args, "sweep needs a SCRIPT (or: sweep show RUN_ID)")
    if args.script == "show":
        return _show(args)
    config = _config(args)
    ws = workspace_of(args)
    source = Path(args.source)
    experiment = Experiment(ws, args.experiment or default_experiment_name(source))
    run = experiment.submit(config)
    print(
        f"Submitted sweep {run.id} (experiment {experiment.name!r}): up to {config.max_total_runs} trials of "
        f"{args.script} on {args.compute}, {config.max_concurrent_runs} at a time",
        flush=True,
    )
    if args.no_wait:
        print(f"Follow it with: mlws sweep show {run.id}")
        return 0
    try:
        view = _watch(ws, run.id)
    except KeyboardInterrupt:
        print(f"\nStopped watching; the sweep goes on. See it with: mlws sweep show {run.id}")
        return 130
    print()
    print(f"Sweep {run.id}: {view['status']}" + (f" ({view['end_reason']})" if view.get("end_reason") else ""))
    print(_table(view, TOP if args.top is None else args.top))
    print(_best_line(view))
    return 0 if view["status"] == "Completed" else 1


# -- the parser -----------------------------------------------------------------------------------------------
_SWEEP_OPTIONS = {
    "--param": 1, "-p": 1, "--metric": 1, "-m": 1, "--goal": 1, "--runs": 1, "--concurrent": 1, "--sampling": 1,
    "--seed": 1, "--policy": 1, "--experiment": 1, "-e": 1, "--compute": 1, "-c": 1, "--source": 1,
    "--environment": 1, "--max-minutes": 1, "--top": 1, "--no-wait": 0, "--json": 0, "--help": 0, "-h": 0,
}  # fmt: skip


def _command_at(argv: Sequence[str]) -> int | None:
    """Where the command word stands (after ``--workspace PATH``, if given)."""
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--workspace", "-w"):
            i += 2
        elif token.startswith("-"):
            i += 1
        else:
            return i
    return None


def split_sweep(argv: list[str]) -> list[str] | None:
    """``mlws sweep train.py --param 'lr=uniform(0.01,0.1)' --runs 4 -- --epochs 3``: mlws takes its own
    options wherever they stand (``--param`` values may start with ``--``: ``--param --C=...``); the
    script and its fixed arguments (the other words after it, and all after ``--``) go last, as
    ``mlws submit`` does. None when the command is not ``sweep``."""
    at = _command_at(argv)
    if at is None or argv[at] != "sweep":
        return None
    head, rest = argv[: at + 1], argv[at + 1 :]
    ours: list[str] = []
    theirs: list[str] = []
    i = 0
    while i < len(rest):
        token = rest[i]
        name = token.split("=", 1)[0]
        if token == "--":  # noqa: S105 - the end-of-options marker, not a password
            theirs.extend(rest[i + 1 :])
            break
        if name in _SWEEP_OPTIONS or (not theirs and token.startswith("-")):
            width = 0 if "=" in token else _SWEEP_OPTIONS.get(name, 0)
            if width and i + 1 < len(rest):
                ours.append(f"{token}={rest[i + 1]}")  # a value such as "--C=..." stays a value
                i += 2
                continue
            ours.append(token)
            i += 1
            continue
        theirs.append(token)
        i += 1
    return [*head, *ours, "--", *theirs] if theirs else [*head, *ours]


def add_parsers(sub: Any) -> None:
    """The ``sweep`` command, on the ``mlws`` parser's subcommands."""
    p = sub.add_parser(
        "sweep",
        help="a hyperparameter sweep of a script (v1's HyperDrive), or `sweep show RUN_ID`",
        description="mlws sweep SCRIPT --param 'lr=uniform(0.01, 0.1)' --param 'epochs=choice(2, 3)' --metric acc "
        "--goal max --runs 20 --concurrent 2 [-- fixed script arguments]; mlws sweep show RUN_ID",
    )
    p.add_argument("script", nargs="?", help="the trials' script, relative to --source (or `show`)")
    p.add_argument("args", nargs="*", help="fixed arguments for every trial, after `--` (for show: the RUN_ID)")
    p.add_argument(
        "--param", "-p", action="append", default=[],
        help="NAME=EXPRESSION, e.g. 'lr=uniform(0.01, 0.1)' or '--C=loguniform(-3, 2)'; a bare NAME is --NAME",
    )  # fmt: skip
    p.add_argument("--metric", "-m", help="the primary metric the script logs, e.g. acc")
    p.add_argument("--goal", choices=["max", "min", "maximize", "minimize"], help="max or min")
    p.add_argument("--runs", type=int, help="max_total_runs: how many trials at most")
    p.add_argument("--concurrent", type=int, help="max_concurrent_runs (default: all at once)")
    p.add_argument("--sampling", default="random", choices=["random", "grid", "bayesian"], help="(default: random)")
    p.add_argument("--seed", type=int, help="seed of random and Bayesian sampling")
    p.add_argument(
        "--policy", help="early termination: bandit:slack_factor=0.1[,evaluation_interval=1] | median | truncation:20"
    )
    p.add_argument("--max-minutes", type=float, default=10080, help="max_duration_minutes (default: a week)")
    p.add_argument("--experiment", "-e", help="experiment name (default: the source folder's name)")
    p.add_argument("--source", default=".", help="the folder to snapshot (default: here)")
    p.add_argument("--compute", "-c", default="local", help="the trials' compute target (default: local)")
    p.add_argument("--environment", help="a registered environment, NAME or NAME:VERSION")
    p.add_argument("--no-wait", action="store_true", help="submit and return")
    p.add_argument("--top", type=int, help=f"rows of the ranking (default: {TOP} after a sweep, all for show; 0: all)")
    p.add_argument("--json", action="store_true", help="show: the sweep as JSON")
    p.set_defaults(func=cmd_sweep, usage=p.error)
