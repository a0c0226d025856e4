"""``mlws pipelines list | runs | show | run | publish | disable | enable | schedules`` (issue 16, part 6).

Published pipelines are named by their id (``mlws pipelines list``), pipeline runs by their run id
(``mlws pipelines runs``); ``show`` takes either. The rows come from ``pipelines.tables``, the same
the ``%mlws pipelines`` magic shows.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..core.interfaces.pipeline_publishing import ACTIVE
from ..errors import InvalidArgumentError, InvalidStateError, NotFoundError
from ..terminal import text_table
from .common import Parser, print_json, workspace_of

if TYPE_CHECKING:
    from ..core.workspace import Workspace
    from ..pipelines.published import PublishedPipeline
    from ..pipelines.schedules import Schedule

__all__ = [
    "add_parsers",
    "cmd_pipelines_disable",
    "cmd_pipelines_enable",
    "cmd_pipelines_list",
    "cmd_pipelines_publish",
    "cmd_pipelines_run",
    "cmd_pipelines_runs",
    "cmd_pipelines_schedules",
    "cmd_pipelines_show",
    "parameter_values",
]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return text_table([h.upper() for h in headers], rows, empty=None)


def _published(ws: Workspace, pipeline_id: str) -> PublishedPipeline:
    from ..pipelines.published import PublishedPipeline

    try:
        return PublishedPipeline.get(ws, pipeline_id)
    except NotFoundError:
        raise NotFoundError(
            f"no published pipeline has the id {pipeline_id!r}; see `mlws pipelines list --all`"
        ) from None


def _schedule(ws: Workspace, schedule_id: str) -> Schedule:
    from ..pipelines.schedules import Schedule

    try:
        return Schedule.get(ws, schedule_id)
    except NotFoundError:
        raise NotFoundError(f"no schedule has the id {schedule_id!r}; see `mlws pipelines schedules --all`") from None


# -- published pipelines -------------------------------------------------------------------------------------
def cmd_pipelines_list(args: argparse.Namespace) -> int:
    from ..pipelines import tables
    from ..pipelines.published import PublishedPipeline

    pipelines = PublishedPipeline.list(workspace_of(args), active_only=not args.all)
    if args.json:
        print_json([tables.published_json(p) for p in pipelines])
        return 0
    print(_table(tables.PUBLISHED_HEADERS, tables.published_rows(pipelines)))
    return 0


def cmd_pipelines_runs(args: argparse.Namespace) -> int:
    from ..pipelines import tables
    from ..pipelines.views import pipeline_run_page

    ws = workspace_of(args)
    if args.experiment:
        try:
            ws.services.queries.experiment(args.experiment)
        except NotFoundError:
            raise NotFoundError(f"experiment {args.experiment!r} not found; see `mlws experiments list`") from None
    items = pipeline_run_page(ws, [args.experiment] if args.experiment else None, page_size=args.max)["items"]
    if args.json:
        print_json(items)
        return 0
    print(_table(tables.RUN_HEADERS, tables.run_rows(items)))
    return 0


def _show_run(ws: Workspace, run_id: str, as_json: bool) -> int:
    from ..pipelines import tables
    from ..pipelines.views import pipeline_run_view

    view = pipeline_run_view(ws, run_id)
    if as_json:
        print_json({"type": "pipeline_run", **view})
        return 0
    print(f"{'pipeline run:':15}{view['id']}")
    print(f"{'experiment:':15}{view['experiment']}")
    print(f"{'status:':15}{view['status']}")
    print(f"{'started:':15}{tables.time_text(view['start_time'])}")
    if view["end_time"]:
        print(f"{'ended:':15}{tables.time_text(view['end_time'])} ({tables.duration_text(view['duration_seconds'])})")
    if view["error"]:
        print(f"{'error:':15}{view['error']}")
    print()
    print(_table(tables.STEP_HEADERS, tables.step_rows(view)))
    _print_edges(tables.edge_lines(view))
    return 0


def _print_edges(edges: list[str]) -> None:
    if edges:
        print("\nedges:")
        for line in edges:
            print(f"  {line}")


def _show_published(pipeline: PublishedPipeline, as_json: bool) -> int:
    from ..pipelines import tables

    view = tables.definition_view(pipeline)
    if as_json:
        print_json({"type": "published_pipeline", **view})
        return 0
    for key in ("id", "name", "version", "description", "status"):
        if view.get(key) not in (None, ""):
            print(f"{key + ':':15}{view[key]}")
    print(f"{'created:':15}{tables.time_text(view['created_time'])}")
    print(f"{'endpoint:':15}{view['endpoint']}")
    if view["parameters"]:
        print("parameters:")
        for name, default in view["parameters"].items():
            print(f"  {name} = {default!r}")
    print()
    print(_table(tables.DEFINITION_HEADERS, tables.definition_rows(view)))
    _print_edges(tables.edge_lines(view))
    return 0


def cmd_pipelines_show(args: argparse.Namespace) -> int:
    from ..pipelines.published import PublishedPipeline

    ws = workspace_of(args)
    try:
        pipeline = PublishedPipeline.get(ws, args.id)
    except NotFoundError:
        pass
    else:
        return _show_published(pipeline, args.json)
    from ..pipelines.engine import PIPELINE_RUN_TYPE

    try:
        record = ws.services.queries.run(args.id)
    except NotFoundError:
        raise NotFoundError(
            f"no pipeline run or published pipeline has the id {args.id!r}; "
            "see `mlws pipelines runs` and `mlws pipelines list --all`"
        ) from None
    if record.run_type != PIPELINE_RUN_TYPE:
        raise NotFoundError(f"run {args.id!r} is not a pipeline run; see `mlws runs show {args.id}`")
    return _show_run(ws, args.id, args.json)


def parameter_values(items: Sequence[str], declared: dict[str, Any]) -> dict[str, Any]:
    """``-p name=value``… as pipeline parameters: numbers, booleans, null and JSON as such (like
    ``%%submit --param``), except for a parameter whose default is a string, which keeps the text."""
    from ..core.values import typed_value

    values: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InvalidArgumentError(f"--param takes name=value, got {item!r}")
        values[name] = text if isinstance(declared.get(name), str) else typed_value(text)
    return values


def cmd_pipelines_run(args: argparse.Namespace) -> int:
    from ..core.status import RunStatus
    from ..pipelines.views import pipeline_run_view

    ws = workspace_of(args)
    pipeline = _published(ws, args.pipeline)
    if pipeline.status != ACTIVE:
        raise InvalidStateError(
            f"published pipeline {pipeline.name!r} ({pipeline.id}) is disabled; "
            f"enable it with `mlws pipelines enable {pipeline.id}`"
        )
    values = parameter_values(args.param, pipeline.parameters)
    run = pipeline.submit(ws, args.experiment, values)
    if args.json and not args.wait:
        print_json(
            {"id": run.id, "experiment": args.experiment, "status": run.get_status(), "pipeline_id": pipeline.id}
        )
        return 0
    if not args.json:
        print(f"Submitted {run.id} (published pipeline {pipeline.name!r}, experiment {args.experiment!r})", flush=True)
    if not args.wait:
        print(f"Follow it with: mlws pipelines show {run.id}")
        return 0
    run.wait_for_completion(show_output=not args.json, raise_on_error=False)
    status = run.get_status()
    if args.json:
        print_json({"type": "pipeline_run", **pipeline_run_view(ws, run.id)})
    return 0 if status == RunStatus.COMPLETED.value else 1


def cmd_pipelines_publish(args: argparse.Namespace) -> int:
    from ..pipelines import tables
    from ..pipelines.engine import PIPELINE_RUN_TYPE
    from ..pipelines.runs import PipelineRun

    ws = workspace_of(args)
    run = PipelineRun.get(ws, args.run)
    if run.type != PIPELINE_RUN_TYPE:
        raise InvalidArgumentError(
            f"run {args.run!r} is not a pipeline run (its type is {run.type!r}); see `mlws pipelines runs`"
        )
    published = run.publish_pipeline(args.name, description=args.description, version=args.version)
    if args.json:
        print_json(tables.published_json(published))
        return 0
    version = f" version {published.version}" if published.version else ""
    print(f"Published {published.name!r}{version} as {published.id} (from pipeline run {run.id})")
    print(f"Run it with: mlws pipelines run {published.id} --experiment NAME")
    return 0


def _set_pipeline_status(args: argparse.Namespace, enable: bool) -> int:
    pipeline = _published(workspace_of(args), args.pipeline)
    pipeline.enable() if enable else pipeline.disable()
    print(f"{pipeline.id} ({pipeline.name}): {pipeline.status}")
    return 0


def cmd_pipelines_disable(args: argparse.Namespace) -> int:
    return _set_pipeline_status(args, enable=False)


def cmd_pipelines_enable(args: argparse.Namespace) -> int:
    return _set_pipeline_status(args, enable=True)


# -- schedules ----------------------------------------------------------------------------------------------
def cmd_pipelines_schedules(args: argparse.Namespace) -> int:
    from ..pipelines import tables
    from ..pipelines.schedules import Schedule

    ws = workspace_of(args)
    schedules = [tables.schedule_json(s) for s in Schedule.list(ws, active_only=not args.all)]
    if args.json:
        print_json(schedules)
        return 0
    print(_table(tables.SCHEDULE_HEADERS, tables.schedule_rows(ws, schedules)))
    return 0


def _set_schedule_status(args: argparse.Namespace, enable: bool) -> int:
    from ..pipelines import tables

    schedule = _schedule(workspace_of(args), args.schedule)
    schedule.enable() if enable else schedule.disable()
    following = tables.time_text(schedule.next_fire_time())
    print(f"{schedule.id} ({schedule.name}): {schedule.status}" + (f", next fire {following} UTC" if following else ""))
    return 0


def cmd_schedules_disable(args: argparse.Namespace) -> int:
    return _set_schedule_status(args, enable=False)


def cmd_schedules_enable(args: argparse.Namespace) -> int:
    return _set_schedule_status(args, enable=True)


# -- the parser -----------------------------------------------------------------------------------------------
def add_parsers(sub: Any) -> None:
    """The ``pipelines`` command group, on the ``mlws`` parser's subcommands."""
    group = sub.add_parser("pipelines", help="published pipelines, pipeline runs and schedules").add_subparsers(
        dest="action", required=True, parser_class=Parser
    )
    p = group.add_parser("list", help="list published pipelines, oldest first")
    p.add_argument("--all", action="store_true", help="disabled ones too")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pipelines_list)

    p = group.add_parser("runs", help="list pipeline runs, newest first")
    p.add_argument("--experiment", "-e")
    p.add_argument("--max", type=int, default=100, help="at most this many runs (default 100)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pipelines_runs)

    p = group.add_parser("show", help="a pipeline run's steps and edges, or a published pipeline's definition")
    p.add_argument("id", metavar="ID", help="a pipeline run id or a published pipeline id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pipelines_show)

    p = group.add_parser("run", help="submit a published pipeline")
    p.add_argument("pipeline", metavar="PUBLISHED_ID")
    p.add_argument("--experiment", "-e", required=True)
    p.add_argument("--param", "-p", action="append", default=[], help="a pipeline parameter name=value")
    p.add_argument("--wait", action="store_true", help="print step status changes until the end")
    p.add_argument("--json", action="store_true", help="the new run as JSON (with --wait: once it ended)")
    p.set_defaults(func=cmd_pipelines_run)

    p = group.add_parser("publish", help="publish the pipeline a pipeline run ran")
    p.add_argument("run", metavar="RUN_ID")
    p.add_argument("--name", "-n", required=True)
    p.add_argument("--description", "-d")
    p.add_argument("--version")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_pipelines_publish)

    for action, func, text in (
        ("disable", cmd_pipelines_disable, "refuse submissions of a published pipeline (its schedules stop)"),
        ("enable", cmd_pipelines_enable, "accept submissions of a published pipeline again"),
    ):
        p = group.add_parser(action, help=text)
        p.add_argument("pipeline", metavar="PUBLISHED_ID")
        p.set_defaults(func=func)

    schedules = group.add_parser("schedules", help="list schedules (or: schedules disable|enable ID)")
    schedules.add_argument("--all", action="store_true", help="disabled ones too")
    schedules.add_argument("--json", action="store_true")
    schedules.set_defaults(func=cmd_pipelines_schedules)
    actions = schedules.add_subparsers(dest="schedule_action", metavar="{list,disable,enable}", parser_class=Parser)
    p = actions.add_parser("list", help="list schedules")
    # SUPPRESS: not given here, the value given before `list` (or the default) stays.
    p.add_argument("--all", action="store_true", default=argparse.SUPPRESS, help="disabled ones too")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_pipelines_schedules)
    for action, func, text in (
        ("disable", cmd_schedules_disable, "stop a schedule firing"),
        ("enable", cmd_schedules_enable, "let a schedule fire again, from now on"),
    ):
        p = actions.add_parser(action, help=text)
        p.add_argument("schedule", metavar="SCHEDULE_ID")
        p.set_defaults(func=func)
