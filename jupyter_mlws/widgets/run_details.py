"""``RunDetails(run).show()``: a live view of a run in the notebook.

Status with elapsed time, a tail of the driver log, a plotly chart per metric series, params, tags,
properties, files and child runs; a pipeline run's steps; a sweep's trials (their sampled values,
primary metric and why the policy stopped them), each trial's primary metric over time and a
parallel-coordinates chart of the parameters against the metric. A background thread refreshes it
about once a second while the run is active (the kernel stays free), does a last refresh when the run
ends, and then stops.
"""

from __future__ import annotations

import html
import sys
import threading
import time
from collections import deque
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go

from ..core.runs import Run
from ..core.runs.waiting import RECONCILE_EVERY_S
from ..core.status import TERMINAL_STATUSES, RunStatus
from ..pipelines.driver import graph as pipeline_graph
from ..pipelines.engine import PIPELINE_RUN_TYPE
from ..sweeps import tables as sweep_tables
from ..sweeps.config import HYPERDRIVE_RUN_TYPE
from ..sweeps.views import sweep_view
from ..terminal import text_table

__all__ = ["RunDetails"]

_COLORS = {
    "Completed": "#1a7f37",
    "Failed": "#cf222e",
    "Canceled": "#6e7781",
    "CancelRequested": "#9a6700",
    "Running": "#0969da",
}


def _table(rows: dict[str, Any] | list[list[Any]], headers: list[str] | None = None) -> str:
    if isinstance(rows, dict):
        rows = [[k, v] for k, v in rows.items()]
    if not rows:
        return "<i>none</i>"
    head = "".join(f"<th style='text-align:left'>{html.escape(h)}</th>" for h in headers or [])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table>{f'<tr>{head}</tr>' if head else ''}{body}</table>"


def _elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class RunDetails:
    """A live widget for a run (script, notebook, pipeline run or sweep; children included)."""

    def __init__(self, run: Run, refresh_seconds: float = 1.0, log_lines: int = 200, max_points: int = 2000) -> None:
        self.run = run
        self.refresh_seconds = refresh_seconds
        self.max_points = max_points
        self._log_offset = 0
        self._log: deque[str] = deque(maxlen=log_lines)
        self._partial = ""
        self._counts: dict[str, int] = {}
        self._figures: dict[str, go.FigureWidget] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.status: RunStatus | None = None
        self._details: dict[str, Any] | None = None

        self.header = widgets.HTML()
        self.charts = widgets.VBox()
        self.log_view = widgets.HTML()
        self.info = widgets.HTML()
        self.files = widgets.HTML()
        self.children = widgets.HTML()
        self.tabs = widgets.Tab(children=[self.charts, self.log_view, self.info, self.files, self.children])
        for i, title in enumerate(["Metrics", "Log", "Params & tags", "Files", "Child runs"]):
            self.tabs.set_title(i, title)
        self.widget = widgets.VBox([self.header, self.tabs])
        self._pipeline = run.record.run_type == PIPELINE_RUN_TYPE
        self._graph_figure: go.FigureWidget | None = None
        if self._pipeline:  # a pipeline run: its steps as a graph with live states, then their table
            self.steps = widgets.VBox()
            self.tabs.children = (self.steps, *self.tabs.children)
            for i, title in enumerate(["Steps", "Metrics", "Log", "Params & tags", "Files", "Child runs"]):
                self.tabs.set_title(i, title)
        self._sweep = run.record.run_type == HYPERDRIVE_RUN_TYPE
        self.sweep: dict[str, Any] | None = None  # the last sweep_view, for a sweep
        self._final_curves: dict[str, tuple[list[Any], list[float]]] = {}  # trials that ended never change
        self.trial_table = widgets.HTML()
        self.curves_figure: go.FigureWidget | None = None
        self.parcoords_figure: go.FigureWidget | None = None
        if self._sweep:  # a sweep: its trials' table, their primary metric over time, parallel coordinates
            self.curves_figure = go.FigureWidget(
                layout=go.Layout(height=300, margin={"l": 40, "r": 10, "t": 40, "b": 30}, showlegend=True)
            )
            self.parcoords_figure = go.FigureWidget(
                data=[go.Parcoords(dimensions=[])],
                layout=go.Layout(height=320, margin={"l": 60, "r": 60, "t": 60, "b": 30}),
            )
            self.trials = widgets.VBox([self.trial_table, self.curves_figure, self.parcoords_figure])
            self.tabs.children = (self.trials, *self.tabs.children)
            for i, title in enumerate(["Trials", "Metrics", "Log", "Params & tags", "Files", "Child runs"]):
                self.tabs.set_title(i, title)

    # -- display ----------------------------------------------------------------------------------------
    def show(self) -> None:
        """Display the widget and keep it up to date while the run is active.

        What is displayed carries the widget's view and a text summary (status, elapsed time,
        latest metric values, params, tags, the last log lines, child runs): a front end without
        widgets (a notebook run by nbclient or papermill, terminal IPython) shows the text. Plain
        Python, with no IPython at all, prints the text.
        """
        self.refresh()
        shell = _shell()
        if shell is None:
            print(self.summary_text(), flush=True)
            return
        from IPython.display import display

        # The widget's view as ipywidgets displays it (protocol 2.0), with the summary as its text.
        view = {"version_major": 2, "version_minor": 0, "model_id": self.widget.model_id}
        bundle = {"application/vnd.jupyter.widget-view+json": view, "text/plain": self.summary_text()}
        display(bundle, raw=True)  # type: ignore[no-untyped-call]
        if type(shell).__name__ == "ZMQInteractiveShell":  # a kernel: a widget front end may be watching
            self.start()

    def _ipython_display_(self) -> None:  # `RunDetails(run)` as a cell's last line shows it too
        self.show()

    def __str__(self) -> str:
        return self.summary_text()

    def summary_text(self, log_lines: int = 10) -> str:
        """The run as text, as of the last refresh: what a front end without widgets shows."""
        details = self._details or {}
        record = self.run.record
        start = record.start_time or record.created_time
        end = record.end_time if record.end_time is not None else time.time()
        status = details.get("status", record.status.value)
        lines = [
            f"Run {record.display_name or record.run_id} ({record.run_id}) in experiment {record.experiment_name}",
            f"Status: {status}   Elapsed: {_elapsed(end - start)}",
        ]
        queries = self.run.workspace.services.queries
        metrics = queries.summaries([record])[0].metrics
        for title, values in (
            ("Metrics (latest)", {k: f"{v:.6g}" for k, v in metrics.items()}),
            ("Params", details.get("params") or {}),
            ("Tags", details.get("tags") or {}),
        ):
            if values:
                lines.append(f"{title}:")
                lines.extend(f"  {k}: {v}" for k, v in values.items())
        error = details.get("error")
        if error:
            lines.append(f"Error: {error.get('message')}")
        shown = [*self._log, self._partial] if self._partial else list(self._log)
        if shown:
            lines.append(f"Log (last {min(log_lines, len(shown))} lines):")
            lines.extend(f"  {line}" for line in shown[-log_lines:])
        if self._sweep:
            lines.extend(self._sweep_text())
            return "\n".join(lines)
        if self._pipeline:
            nodes = pipeline_graph(self.run.workspace, record.run_id)["nodes"]
            lines.append(f"Steps ({len(nodes)}):")
            for node in nodes:
                reuse = node["reuse"]
                why = f"  reused from {reuse['from']}" if reuse and reuse["reused"] else ""
                lines.append(f"  {node['name']} ({node['id']}): {node['status']}{why}")
            return "\n".join(lines)
        kids = queries.summaries(queries.children(record.run_id))
        if kids:
            lines.append(f"Child runs ({len(kids)}):")
            for kid in kids:
                values = ", ".join(f"{k}={v:.4g}" for k, v in list(kid.metrics.items())[:4])
                name = kid.record.display_name or kid.id
                lines.append(f"  {name} ({kid.id}): {kid.record.status.value}" + (f"  {values}" if values else ""))
        return "\n".join(lines)

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        if self.status in TERMINAL_STATUSES:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"mlws-run-details-{self.run.id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop refreshing (the run itself goes on)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)

    @property
    def updating(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        next_check = time.monotonic() + RECONCILE_EVERY_S
        while not self._stop.wait(self.refresh_seconds):
            try:
                if time.monotonic() >= next_check:
                    # Watching a job is waiting on it: one whose supervisor died must still end here.
                    self.run.workspace.reconcile_jobs([self.run.id])
                    next_check = time.monotonic() + RECONCILE_EVERY_S
                if self.refresh():
                    return  # the run ended: one last refresh was made, nothing more will change
            except Exception as exc:  # the view shows the problem instead of dying silently
                self.header.value += f"<br><span style='color:#cf222e'>refresh failed: {html.escape(str(exc))}</span>"

    # -- one refresh --------------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Update every part once; True when the run has ended."""
        run = self.run
        run.workspace.flush()  # points this kernel logged are shown too
        details = run.get_details()
        self._details = details
        self.status = RunStatus(details["status"])
        self._header(details)
        self._metrics()
        self._log_tail()
        sections = [
            f"<h4>{title}</h4>{_table(details[key])}"
            for title, key in (("Params", "params"), ("Tags", "tags"), ("Properties", "properties"))
        ]
        error = details.get("error")
        if error:
            text = error.get("traceback") or error.get("message")
            sections.append(f"<h4>Error</h4><pre>{html.escape(str(text))}</pre>")
        self.info.value = "".join(sections)
        self.files.value = _table([[name] for name in run.get_file_names()], ["File"])
        self._children()
        if self._pipeline:
            self._steps()
        if self._sweep:
            self._trials()
        return self.status in TERMINAL_STATUSES

    # -- a sweep ------------------------------------------------------------------------------------------
    def _sweep_text(self) -> list[str]:
        view = self.sweep if self.sweep is not None else sweep_view(self.run.workspace, self.run.id)
        metric = view["primary_metric"]
        lines = [
            f"Sweep: {metric['name']} ({metric['goal']}), {view['sampling']['type']} sampling, "
            f"{view['policy']['description']}",
            f"Trials ({len(view['children'])} of at most {view['max_total_runs']}, "
            f"{view['max_concurrent_runs']} at a time), best first:",
        ]
        table = text_table(sweep_tables.trial_headers(view), sweep_tables.trial_rows(view), empty="(no trials yet)")
        lines.extend(f"  {line}" for line in table.splitlines())
        if view["best_run_id"]:
            lines.append(f"Best run: {view['best_run_id']}")
        if view.get("end_reason"):
            lines.append(f"Ended: {view['end_reason']}")
        return lines

    def _trials(self) -> None:
        """The trials' table (best first), each trial's primary metric over time (one line per trial)
        and a parallel-coordinates chart of the sampled values and the metric."""
        view = sweep_view(self.run.workspace, self.run.id)
        self.sweep = view
        metric = view["primary_metric"]
        best = view["best_run_id"]
        summary = (
            f"<b>{html.escape(metric['name'])}</b> ({html.escape(metric['goal'])}) &nbsp; "
            f"{html.escape(view['sampling']['type'])} sampling &nbsp; {html.escape(view['policy']['description'])}"
            f"<br>{len(view['children'])} of at most {view['max_total_runs']} trials, "
            f"{view['max_concurrent_runs']} at a time"
            f"{' &nbsp; best: <b>' + html.escape(best) + '</b>' if best else ''}"
            f"{' &nbsp; ended: ' + html.escape(view['end_reason']) if view.get('end_reason') else ''}"
        )
        rows = sweep_tables.trial_rows(view)
        self.trial_table.value = f"<div>{summary}</div>" + _table(rows, sweep_tables.trial_headers(view))
        self._trial_curves(view)
        self._parcoords(view)

    def _trial_curves(self, view: dict[str, Any]) -> None:
        figure = self.curves_figure
        assert figure is not None
        name = view["primary_metric"]["name"]
        queries = self.run.workspace.services.queries
        traces: list[tuple[str, list[Any], list[float]]] = []
        for child in view["children"]:
            curve = self._final_curves.get(child["run_id"])
            if curve is None:
                points = queries.metric_history(child["run_id"], name)
                curve = (
                    [p.step if p.step is not None else i + 1 for i, p in enumerate(points)],
                    [p.value for p in points],
                )
                if child["status"] in {s.value for s in TERMINAL_STATUSES}:
                    self._final_curves[child["run_id"]] = curve
            traces.append((f"trial {child['index']}", *curve))
        with figure.batch_update():
            figure.layout.title = f"{name} per trial"
            for i, (label, x, y) in enumerate(traces):
                if i < len(figure.data):
                    figure.data[i].x, figure.data[i].y = x, y
                else:
                    figure.add_trace(go.Scatter(x=x, y=y, mode="lines+markers", name=label))

    def _parcoords(self, view: dict[str, Any]) -> None:
        """One line per trial that logged the metric, across an axis per parameter and the metric; text
        (or mixed) choices get an axis of their own values."""
        figure = self.parcoords_figure
        assert figure is not None
        scored = [c for c in view["children"] if c["best_primary_metric"] is not None]
        dimensions = [_dimension(name, [c["hyperparameters"].get(name) for c in scored]) for name in view["parameters"]]
        metric = view["primary_metric"]["name"]
        values = [c["best_primary_metric"] for c in scored]
        dimensions.append({"label": metric, "values": values})
        line = {"color": values, "colorscale": "Viridis", "showscale": bool(values)}
        if view["primary_metric"]["goal"] == "minimize":
            line["reversescale"] = True  # the best trials drawn in the same colour either way
        with figure.batch_update():
            figure.layout.title = f"{metric} by parameter ({len(scored)} trials)"
            figure.data[0].dimensions = dimensions
            figure.data[0].line = line

    def _steps(self) -> None:
        """The pipeline's graph (nodes in layers by depth, coloured by status; a reused step hollow,
        its reason on hover) and a table of the steps with why each was or was not reused."""
        data = pipeline_graph(self.run.workspace, self.run.id)
        nodes, edges = data["nodes"], data["edges"]
        positions = _layers(nodes, edges)
        edge_x: list[float | None] = []
        edge_y: list[float | None] = []
        for edge in edges:
            (x0, y0), (x1, y1) = positions[edge["source"]], positions[edge["target"]]
            edge_x += [x0, x1, None]
            edge_y += [y0, y1, None]
        reused = [bool(n["reuse"] and n["reuse"]["reused"]) for n in nodes]
        hover = [f"{n['name']}: {n['status']}" + (f"<br>{n['reuse']['reason']}" if n["reuse"] else "") for n in nodes]
        traces = [
            go.Scatter(x=edge_x, y=edge_y, mode="lines", line={"color": "#8c959f"}, hoverinfo="skip"),
            go.Scatter(
                x=[positions[n["id"]][0] for n in nodes],
                y=[positions[n["id"]][1] for n in nodes],
                mode="markers+text",
                text=[n["name"] for n in nodes],
                textposition="top center",
                hovertext=hover,
                hoverinfo="text",
                marker={
                    "size": 22,
                    "color": [_COLORS.get(n["status"], "#57606a") for n in nodes],
                    "symbol": ["circle-open" if r else "circle" for r in reused],
                    "line": {"width": 3},
                },
            ),
        ]
        if self._graph_figure is None:
            layout = go.Layout(
                height=120 + 60 * max(1, len({y for _x, y in positions.values()})),
                showlegend=False,
                xaxis={"visible": False},
                yaxis={"visible": False},
                margin={"l": 10, "r": 10, "t": 20, "b": 10},
            )
            self._graph_figure = go.FigureWidget(data=traces, layout=layout)
            self._steps_table = widgets.HTML()
            self.steps.children = (self._graph_figure, self._steps_table)
        else:
            with self._graph_figure.batch_update():
                for i, trace in enumerate(traces):
                    self._graph_figure.data[i].update(trace)
        rows = [
            [n["name"], n["status"], "yes" if r else "no", (n["reuse"] or {}).get("reason", "")]
            for n, r in zip(nodes, reused, strict=True)
        ]
        self._steps_table.value = _table(rows, ["Step", "Status", "Reused", "Why"])

    def _header(self, details: dict[str, Any]) -> None:
        record = self.run.record
        status = details["status"]
        start = record.start_time or record.created_time
        end = record.end_time if record.end_time is not None else time.time()
        color = _COLORS.get(status, "#57606a")
        name = html.escape(record.display_name or record.run_id)
        progress = details.get("tags", {}).get("mlws.progress", "") if status not in TERMINAL_STATUSES else ""
        self.header.value = (
            f"<b>{name}</b> &nbsp; <span style='background:{color};color:white;padding:1px 6px;border-radius:8px'>"
            f"{html.escape(status)}</span> &nbsp; elapsed {_elapsed(end - start)}"
            f"{' &nbsp; ' + html.escape(progress) if progress else ''}"
            f"<br><small>{html.escape(record.run_id)} in experiment {html.escape(record.experiment_name)}</small>"
        )

    def _metrics(self) -> None:
        for series in self.run.workspace.services.queries.metric_series(self.run.id):
            if series.kind != "scalar" or self._counts.get(series.name) == series.count:
                continue
            points = self.run.get_metric_history(series.name)
            if len(points) > self.max_points:
                stride = len(points) / self.max_points
                points = [points[int(i * stride)] for i in range(self.max_points - 1)] + [points[-1]]
            x = [p.step if p.step is not None else i for i, p in enumerate(points)]
            y = [p.value for p in points]
            figure = self._figures.get(series.name)
            if figure is None:
                figure = go.FigureWidget(
                    data=[go.Scatter(x=x, y=y, mode="lines+markers", name=series.name)],
                    layout=go.Layout(title=series.name, height=260, margin={"l": 40, "r": 10, "t": 40, "b": 30}),
                )
                self._figures[series.name] = figure
                self.charts.children = (*self.charts.children, figure)
            else:
                with figure.batch_update():
                    figure.data[0].x = x
                    figure.data[0].y = y
            self._counts[series.name] = series.count

    def _log_tail(self) -> None:
        while True:
            data, self._log_offset = self.run.read_log(self._log_offset)
            if not data:
                break
            text = self._partial + data.decode("utf-8", errors="replace")
            lines = text.split("\n")
            self._partial = lines.pop()
            self._log.extend(lines)
        shown = [*self._log, self._partial] if self._partial else list(self._log)
        self.log_view.value = (
            "<pre style='max-height:300px;overflow:auto'>" + html.escape("\n".join(shown)) + "</pre>"
            if shown
            else "<i>no output yet</i>"
        )

    def _children(self) -> None:
        queries = self.run.workspace.services.queries
        kids = queries.summaries(queries.children(self.run.id))
        if not kids:
            self.children.value = "<i>no child runs</i>"
            return
        names: list[str] = []
        for kid in kids:
            names.extend(n for n in kid.metrics if n not in names)
        names = names[:4]
        rows = [
            [
                k.record.display_name or k.id,
                k.record.status.value,
                *(f"{k.metrics[n]:.4g}" if n in k.metrics else "" for n in names),
            ]
            for k in kids
        ]
        self.children.value = _table(rows, ["Run", "Status", *names])


def _dimension(label: str, values: list[Any]) -> dict[str, Any]:
    """A parallel-coordinates axis: numbers as they are; anything else as the positions of its values."""
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return {"label": label, "values": values}
    positions: dict[str, int] = {}  # keyed by the text and type: True and 1 are two values here
    for value in values:
        positions.setdefault(f"{type(value).__name__}:{value!r}", len(positions))
    texts = [str(v) for v in {f"{type(v).__name__}:{v!r}": v for v in values}.values()]
    return {
        "label": label,
        "values": [positions[f"{type(v).__name__}:{v!r}"] for v in values],
        "tickvals": list(range(len(positions))),
        "ticktext": texts,
    }


def _layers(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> dict[str, tuple[float, float]]:
    """Positions for a small DAG: each node's layer is its longest path from a source (top to
    bottom), nodes of a layer side by side in the pipeline's order."""
    upstream: dict[str, list[str]] = {n["id"]: [] for n in nodes}
    for edge in edges:
        upstream[edge["target"]].append(edge["source"])
    depth: dict[str, int] = {}

    def level(node: str) -> int:
        if node not in depth:
            depth[node] = 0  # a cycle cannot happen (validated), this only guards the recursion
            depth[node] = 1 + max((level(u) for u in upstream[node]), default=-1)
        return depth[node]

    by_layer: dict[int, list[str]] = {}
    for n in nodes:
        by_layer.setdefault(level(n["id"]), []).append(n["id"])
    positions: dict[str, tuple[float, float]] = {}
    for layer, ids in by_layer.items():
        for i, node in enumerate(ids):
            positions[node] = (i - (len(ids) - 1) / 2, -float(layer))
    return positions


def _shell() -> Any:
    """The running IPython shell (a kernel or terminal IPython), or None in plain Python."""
    if "IPython" not in sys.modules:  # plain Python never imported it: no shell to display to
        return None
    from IPython import get_ipython

    return get_ipython()
