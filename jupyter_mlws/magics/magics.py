"""IPython magics: ``%%submit``, ``%register`` and ``%mlws``. Thin: they parse, call the core, show.

Errors are one line (IPython's UsageError), never a traceback.
"""

from __future__ import annotations

import argparse
import html
import os
import shlex
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class

from ..core.experiment import Experiment
from ..core.layout import default_experiment_name
from ..core.model import Model
from ..core.names import MAX_KEY_LENGTH
from ..core.run_config import ScriptRunConfig
from ..core.runs import Run
from ..core.workspace import Workspace
from ..errors import MlwsError, NotFoundError
from ..terminal import human_size, text_table
from .params import parse_assignment, typed_value
from .provenance import execution_count, notebook_path

__all__ = ["MlwsMagics", "Table", "cell_display_name"]

CELL_SCRIPT = "__mlws_cell__.py"
_USAGE = (
    "experiments | runs [EXPERIMENT] | run ID | models | model NAME | datasets | dataset NAME"
    " | pipelines [runs [EXPERIMENT]] | pipeline ID | schedules | services | service NAME | workspace [PATH]"
)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:
        raise UsageError(f"{self.prog}: {message} (usage: {self.format_usage().strip().removeprefix('usage: ')})")

    def exit(self, status: int = 0, message: str | None = None) -> Any:
        if message:
            raise UsageError(message.strip())
        raise UsageError(self.format_help())


class Table:
    """Rows shown as an HTML table in a notebook and as aligned text in a terminal."""

    def __init__(self, headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str = "") -> None:
        self.headers = list(headers)
        self.rows = [["" if v is None else str(v) for v in row] for row in rows]
        self.title = title

    def _repr_html_(self) -> str:
        head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in self.headers)
        body = "".join(
            "<tr>" + "".join(f"<td style='text-align:left'>{html.escape(v)}</td>" for v in row) + "</tr>"
            for row in self.rows
        )
        caption = f"<caption style='text-align:left'><b>{html.escape(self.title)}</b></caption>" if self.title else ""
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        return text_table(self.headers, self.rows, self.title)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


@magics_class
class MlwsMagics(Magics):
    """``%load_ext jupyter_mlws`` registers these."""

    def __init__(self, shell: Any = None) -> None:
        super().__init__(shell)
        self._workspace: Workspace | None = None
        self.last_run: Run | None = None

    # -- workspace ----------------------------------------------------------------------------------------
    def workspace(self, create: bool = False) -> Workspace:
        """The selected workspace, else the nearest one upward; created here on the first write."""
        if self._workspace is not None:
            return self._workspace
        try:
            self._workspace = Workspace.from_config()
        except NotFoundError:
            if not create:
                raise
            self._workspace = Workspace.create(os.getcwd())
            print(f"Created a workspace in {self._workspace.path}")
        return self._workspace

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except MlwsError as exc:
            raise UsageError(str(exc)) from None

    # -- %%submit -------------------------------------------------------------------------------------------
    @line_cell_magic
    def submit(self, line: str, cell: str | None = None) -> Any:
        """Run the cell (``%%submit``) or a notebook (``%submit NOTEBOOK.ipynb``) as a job.

        %%submit [--experiment E] [--compute T] [--environment N[:V]] [--param k=v]... [--no-wait] [--as NAME]
                 [--display-name TEXT] [--sweep SPEC.json]
        %submit NOTEBOOK.ipynb [--param k=v]... [--kernel K] [--experiment E] [--compute T] [--environment N[:V]]
                [--no-wait] [--as NAME] [--display-name TEXT]

        A ``%%submit`` run's display name (what the sidebar shows) is ``--display-name``, else the
        cell's first comment line (``# train the baseline``), else ``cell 7 of train.ipynb`` (the
        cell's execution count and the kernel's notebook, when known).

        The snapshot is the notebook's folder (this kernel's working directory). With ``--sweep`` the
        cell is the entry script of a sweep's trials (v1's HyperDrive): SPEC.json is a sweep spec (a JSON
        file in the notebook's folder, or the JSON itself; see ``jupyter_mlws.sweeps.spec``); each
        trial gets its sampled values as arguments (``--lr 0.05``) and as variables of the cell (``lr``).
        """
        if cell is None:
            return self._submit_notebook_line(line)
        parser = _Parser(prog="%%submit", add_help=False)
        parser.add_argument("--experiment", "-e")
        parser.add_argument("--compute", "-c", default="local")
        parser.add_argument("--environment")
        parser.add_argument("--param", "-p", action="append", default=[])
        parser.add_argument("--no-wait", action="store_true")
        parser.add_argument("--as", dest="name", default="_run")
        parser.add_argument("--display-name")
        parser.add_argument("--sweep")
        args = parser.parse_args(_split(line))
        if not args.name.isidentifier():
            raise UsageError(f"%%submit: --as takes a Python name, got {args.name!r}")
        return self._guard(self._submit, args, cell)

    def _submit_notebook_line(self, line: str) -> Any:
        parser = _Parser(prog="%submit", add_help=False)
        parser.add_argument("notebook")
        parser.add_argument("--experiment", "-e")
        parser.add_argument("--compute", "-c", default="local")
        parser.add_argument("--kernel")
        parser.add_argument("--environment")
        parser.add_argument("--param", "-p", action="append", default=[])
        parser.add_argument("--no-wait", action="store_true")
        parser.add_argument("--as", dest="name", default="_run")
        parser.add_argument("--display-name")
        args = parser.parse_args(_split(line))
        if not args.notebook.endswith(".ipynb"):
            raise UsageError("%submit runs a notebook (NAME.ipynb); use %%submit to run a cell")
        if not args.name.isidentifier():
            raise UsageError(f"%submit: --as takes a Python name, got {args.name!r}")
        return self._guard(self._submit_notebook, args)

    def _submit_notebook(self, args: argparse.Namespace) -> None:
        from ..core.run_config import NotebookRunConfig

        # Values as typed on the line; the notebook's parameters cell decides their types.
        params = dict(parse_assignment(item, "--param") for item in args.param)
        config = NotebookRunConfig(
            source_directory=Path.cwd(),
            notebook=args.notebook,
            parameters=params,
            compute_target=args.compute,
            environment=args.environment,
            kernel_name=args.kernel,
        )
        config.job_spec()  # bad parameters or kernels fail here, before a workspace is made
        config.display_name = _checked_display_name(args.display_name, "%submit")
        ws = self.workspace(create=True)
        name = args.experiment or default_experiment_name(Path.cwd(), "notebook")
        run = Experiment(ws, name).submit(config, tags={"mlws.source": "%submit"})
        self._bind(run, args.name, args.compute, name, args.no_wait)

    def _bind(self, run: Run, as_name: str, compute: str, experiment: str, no_wait: bool) -> None:
        self.last_run = run
        if self.shell is not None:
            self.shell.user_ns[as_name] = run
        print(f"Submitted {run.id} to {compute} (experiment {experiment!r}); bound to `{as_name}`")
        if not no_wait:
            from ..widgets import RunDetails

            RunDetails(run).show()

    def _submit(self, args: argparse.Namespace, cell: str) -> None:
        params = {}
        for item in args.param:
            key, value = parse_assignment(item, "--param")
            params[key] = typed_value(value)
        folder = Path.cwd()
        header = "".join(f"{key} = {value!r}\n" for key, value in params.items())
        spec = None
        if args.sweep is not None:
            from ..sweeps.spec import load_spec

            spec = load_spec(args.sweep, folder)  # a bad spec fails here, before a workspace is made
            header += _sampled_header(spec.parameters, params)
        script = f"# generated by %%submit from a notebook cell\n{header}{cell}"
        config = ScriptRunConfig(
            source_directory=folder, script=CELL_SCRIPT, compute_target=args.compute, environment=args.environment
        )
        config.extra_files = {CELL_SCRIPT: script.encode()}
        explicit = _checked_display_name(args.display_name, "%%submit")
        display_name = explicit or cell_display_name(cell, execution_count(self.shell), notebook_path(self.shell))
        config.display_name = display_name
        submitted: Any = config if spec is None else spec.hyperdrive_config(config)
        ws = self.workspace(create=True)
        name = args.experiment or default_experiment_name(folder, "notebook")
        source = "%%submit" if spec is None else "%%submit --sweep"
        run = Experiment(ws, name).submit(submitted, tags={"mlws.source": source})
        if params:
            run.log_params(params)
        if spec is not None:
            print(
                f"Sweep over {', '.join(spec.parameters)}: up to {submitted.max_total_runs} trials, "
                f"{submitted.max_concurrent_runs} at a time, {spec.primary_metric_name} "
                f"({spec.primary_metric_goal.direction})"
            )
        self._bind(run, args.name, args.compute, name, args.no_wait)

    # -- %register -----------------------------------------------------------------------------------------
    @line_magic
    def register(self, line: str) -> Any:
        """Register a model version from a local path or from a run's files.

        %register NAME PATH [--tag k=v]... [--property k=v]... [--description TEXT] [--run ID|last]
        """
        parser = _Parser(prog="%register", add_help=False)
        parser.add_argument("name")
        parser.add_argument("path")
        parser.add_argument("--tag", action="append", default=[])
        parser.add_argument("--property", action="append", default=[])
        parser.add_argument("--description")
        parser.add_argument("--run")
        args = parser.parse_args(_split(line))
        return self._guard(self._register, args)

    def _register(self, args: argparse.Namespace) -> Model:
        tags = dict(parse_assignment(t, "--tag") for t in args.tag)
        props = dict(parse_assignment(p, "--property") for p in args.property)
        ws = self.workspace(create=args.run is None)
        run = None
        if args.run == "last":
            run = self.last_run or next(iter(ws.search_runs(max_results=1).runs), None)
            if run is None:
                raise UsageError("%register: --run last, but no run exists yet")
        elif args.run:
            run = ws.get_run(args.run)
        model = Model.register(
            ws, args.path, args.name, tags=tags, properties=props, description=args.description, run=run
        )
        where = f"from run {run.id}" if run else f"from {args.path}"
        print(
            f"Registered {model.name} version {model.version} ({model.id}) {where}: "
            f"{', '.join(model.get_file_names())}; stored in {ws.artifact_url}"
        )
        return model

    # -- %mlws --------------------------------------------------------------------------------------------
    @line_magic
    def mlws(self, line: str) -> Any:
        """Tables of the workspace.

        %mlws experiments | runs [EXPERIMENT] | run ID | models | model NAME | datasets | dataset NAME
              | pipelines [runs [EXPERIMENT]] | pipeline ID | schedules | services | service NAME
              | workspace [PATH]

        ``pipelines``: the published pipelines (``pipelines runs``: recent pipeline runs); ``pipeline
        ID``: a pipeline run's steps (reused or not, and why), or a published pipeline's steps.
        ``services``: the deployed web services (state, scoring URI, models); ``service NAME``: one of them.
        """
        words = _split(line)
        if not words:
            raise UsageError(f"%mlws {_USAGE}")
        command, rest = words[0], words[1:]
        handlers = {
            "experiments": (self._experiments, 0, 0),
            "runs": (self._runs, 0, 1),
            "run": (self._run, 1, 1),
            "models": (self._models, 0, 0),
            "model": (self._model, 1, 1),
            "datasets": (self._datasets, 0, 0),
            "dataset": (self._dataset, 1, 1),
            "pipelines": (self._pipelines, 0, 2),
            "pipeline": (self._pipeline, 1, 1),
            "schedules": (self._schedules, 0, 0),
            "services": (self._services, 0, 0),
            "service": (self._service, 1, 1),
            "workspace": (self._select, 0, 1),
        }
        if command not in handlers:
            raise UsageError(f"%mlws: unknown command {command!r}; use one of: {', '.join(handlers)}")
        fn, low, high = handlers[command]
        if not low <= len(rest) <= high:
            raise UsageError(f"%mlws {command}: takes {low}-{high} argument(s), got {len(rest)}")
        return self._guard(fn, *rest)

    def _experiments(self) -> Table:
        ws = self.workspace()
        rows = [[e.name, e.id] for e in ws.services.queries.experiments()]
        return Table(["Experiment", "Id"], rows, f"Experiments in {ws.name}")

    def _runs(self, experiment: str | None = None) -> Table:
        queries = self.workspace().services.queries
        ids = None if experiment is None else [queries.experiment(experiment).id]
        page = queries.run_summaries(ids, max_results=50)
        names: list[str] = []
        for s in page.items:
            names.extend(n for n in s.metrics if n not in names)
        names = names[:4]
        rows = [
            [s.id, s.record.experiment_name, s.record.status.value, s.record.display_name or "",
             *(_fmt(s.metrics.get(n, "")) for n in names)]
            for s in page.items
        ]  # fmt: skip
        return Table(["Run", "Experiment", "Status", "Name", *names], rows, "Runs, newest first")

    def _run(self, run_id: str) -> Table:
        run = self.workspace().get_run(run_id)
        details = run.get_details()
        rows: list[list[Any]] = [["status", details["status"]], ["experiment", details["experiment"]]]
        rows += [["started", details["startTimeUtc"]], ["ended", details["endTimeUtc"]]]
        for name, value in run.get_metrics().items():
            shown = f"{len(value)} values, last {_fmt(value[-1])}" if isinstance(value, list) and value else value
            rows.append([f"metric {name}", _fmt(shown)])
        rows += [[f"param {k}", v] for k, v in details["params"].items()]
        rows += [[f"tag {k}", v] for k, v in details["tags"].items()]
        rows += [["file", f] for f in run.get_file_names()]
        rows += [[f"input {i['name']}", _input_text(i)] for i in details.get("inputDatasets", [])]
        if details.get("error"):
            rows.append(["error", details["error"].get("message")])
        return Table(["Field", "Value"], rows, f"Run {run.id}")

    def _models(self) -> Table:
        models = Model.list(self.workspace(), latest=True)
        rows = [[m.name, m.version, ", ".join(m.aliases), m.run_id or ""] for m in models]
        return Table(["Model", "Latest version", "Aliases", "Run"], rows, "Models")

    def _model(self, name: str) -> Table:
        versions = Model.list(self.workspace(), name=name)
        if not versions:
            raise NotFoundError(f"model {name!r} is not registered in this workspace")
        rows = [
            [m.version, ", ".join(m.aliases), ", ".join(f"{k}={v}" for k, v in m.tags.items()), m.run_id or "",
             m.created_time.isoformat(timespec="seconds")]
            for m in versions
        ]  # fmt: skip
        return Table(["Version", "Aliases", "Tags", "Run", "Created"], rows, f"Model {name}")

    def _datasets(self) -> Table:
        from ..data.dataset import Dataset

        rows = [
            [s["name"], s["version"], s["kind"], _content(s), human_size(s["total_size"]), s["description"] or ""]
            for s in (ds.summary() for ds in Dataset.list(self.workspace()))
        ]
        return Table(["Dataset", "Latest version", "Kind", "Rows/files", "Size", "Description"], rows, "Datasets")

    def _dataset(self, name: str) -> Table:
        from ..data.dataset import Dataset

        versions = Dataset.list_versions(self.workspace(), name)
        if not versions:
            raise NotFoundError(f"dataset {name!r} is not registered in this workspace; see %mlws datasets")
        rows = []
        for ds in versions:
            s, lineage = ds.summary(), ds.get_lineage()
            used = f"{len(lineage['runs'])} runs, {len(lineage['models'])} models"
            rows.append([s["version"], _content(s), human_size(s["total_size"]), s["digest"][:12], used])
        return Table(["Version", "Rows/files", "Size", "Digest", "Used by"], rows, f"Dataset {name}")

    def _pipelines(self, what: str | None = None, experiment: str | None = None) -> Table:
        from ..pipelines import tables
        from ..pipelines.published import PublishedPipeline
        from ..pipelines.views import pipeline_run_page

        ws = self.workspace()
        if what == "runs":
            if experiment is not None:
                ws.services.queries.experiment(experiment)  # an unknown name is an error, not an empty table
            items = pipeline_run_page(ws, None if experiment is None else [experiment], page_size=50)["items"]
            return Table(tables.RUN_HEADERS, tables.run_rows(items), "Pipeline runs, newest first")
        if what is not None or experiment is not None:
            raise UsageError("%mlws pipelines [runs [EXPERIMENT]]: published pipelines, or recent pipeline runs")
        pipelines = PublishedPipeline.list(ws, active_only=False)
        return Table(tables.PUBLISHED_HEADERS, tables.published_rows(pipelines), "Published pipelines")

    def _pipeline(self, pipeline_id: str) -> Table:
        from ..pipelines import tables
        from ..pipelines.published import PublishedPipeline
        from ..pipelines.views import pipeline_run_view

        ws = self.workspace()
        try:
            published = PublishedPipeline.get(ws, pipeline_id)
        except NotFoundError:
            view = pipeline_run_view(ws, pipeline_id)
            title = f"Pipeline run {view['id']}: {view['status']}"
            return Table(tables.STEP_HEADERS, tables.step_rows(view), title)
        view = tables.definition_view(published)
        title = f"Published pipeline {view['name']} ({view['id']}): {view['status']}"
        return Table(tables.DEFINITION_HEADERS, tables.definition_rows(view), title)

    def _schedules(self) -> Table:
        from ..pipelines import tables
        from ..pipelines.schedules import Schedule

        ws = self.workspace()
        summaries = [tables.schedule_json(s) for s in Schedule.list(ws, active_only=False)]
        return Table(tables.SCHEDULE_HEADERS, tables.schedule_rows(ws, summaries), "Pipeline schedules")

    def _services(self) -> Table:
        from ..serving import tables
        from ..serving.webservice import Webservice

        views = [tables.service_json(s) for s in Webservice.list(self.workspace())]
        return Table(tables.SERVICE_HEADERS, tables.service_rows(views), "Web services")

    def _service(self, name: str) -> Table:
        from ..serving import tables
        from ..serving.webservice import Webservice

        try:
            service = Webservice(self.workspace(), name)
        except NotFoundError:
            raise NotFoundError(f"no web service is named {name!r}; see %mlws services") from None
        view = tables.service_json(service)
        return Table(tables.DETAIL_HEADERS, tables.detail_rows(view), f"Web service {name}: {view['state']}")

    def _select(self, path: str | None = None) -> Table:
        if path is not None:
            self._workspace = Workspace(path)
        ws = self.workspace()
        details = ws.get_details()
        return Table(["Setting", "Value"], [[k, v] for k, v in details.items()], f"Workspace {ws.name}")


def _sampled_header(parameters: Sequence[str], fixed: dict[str, Any]) -> str:
    """Lines that give the cell a trial's sampled values as variables (``--learning-rate 0.1`` ->
    ``learning_rate = 0.1``), read from its arguments; the arguments stay for argparse too."""
    names = {}
    for parameter in parameters:
        variable = parameter.lstrip("-").replace("-", "_").replace(".", "_")
        if variable.isidentifier():
            names[parameter] = variable
    clash = sorted(set(names.values()) & set(fixed))
    if clash:
        raise UsageError(f"%%submit: {clash} is both a --param and a swept parameter of --sweep; keep one")
    if not names:
        return ""
    lines = [
        "import sys as _mlws_sys, ast as _mlws_ast",
        "def _mlws_sampled(flag):",
        "    text = _mlws_sys.argv[_mlws_sys.argv.index(flag) + 1]",
        "    try:",
        "        return _mlws_ast.literal_eval(text)",
        "    except (ValueError, SyntaxError):",
        "        return text",
        *(f"{variable} = _mlws_sampled({parameter!r})" for parameter, variable in names.items()),
    ]
    return "# this trial's sampled values (a sweep's trial gets them as arguments)\n" + "\n".join(lines) + "\n"


def cell_display_name(cell: str, execution_count: int | None, notebook: str | None) -> str | None:
    """The display name of a ``%%submit`` run (issue 22): the cell's first comment line
    (``# train the baseline`` -> ``train the baseline``), else ``cell 7 of train.ipynb`` (``cell 7``
    when the notebook is not known; None without an execution count either)."""
    for line in cell.splitlines():
        text = line.strip()
        if not text.startswith("#") or text.startswith("#!"):
            continue  # code, or a shebang
        text = " ".join(text.lstrip("#").split())
        if not text or text.startswith(("%%", "-*-")) or "coding:" in text or "coding=" in text:
            continue  # a bare "#", a cell marker of jupytext/VS Code ("# %%"), an encoding declaration
        return _fit(text)
    if execution_count is None:
        return None
    name = f"cell {execution_count}"
    return _fit(f"{name} of {PurePath(notebook).name}") if notebook else name


def _fit(text: str) -> str:
    """Printable, at most MAX_KEY_LENGTH characters (a display name's limits), cut at the end."""
    text = "".join(ch for ch in text if ch.isprintable())
    return text if len(text) <= MAX_KEY_LENGTH else text[: MAX_KEY_LENGTH - 1].rstrip() + "…"


def _checked_display_name(value: str | None, prog: str) -> str | None:
    if value is None:
        return None
    if not value.strip() or len(value) > MAX_KEY_LENGTH:
        raise UsageError(
            f"{prog}: --display-name takes a non-empty name of at most {MAX_KEY_LENGTH} characters, got {value!r}"
        )
    return value.strip()


def _input_text(item: dict[str, Any]) -> str:
    """One of ``get_details()["inputDatasets"]``: ``name:version (mode)``, or the digest if unregistered."""
    ds = item["dataset"]
    which = f"{ds['name']}:{ds['version']}" if ds.get("name") else f"unregistered, digest {str(ds['digest'])[:12]}"
    return f"{which} ({item['mode']})"


def _content(summary: dict[str, Any]) -> str:
    if summary.get("rows") is not None:
        return f"{summary['rows']} rows"
    return f"{summary.get('file_count', 0)} files"


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot read the arguments: {exc}") from None
