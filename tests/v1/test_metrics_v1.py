"""Metrics the Azure ML v1 way (issue 14, item 3, the metric half): ``run.log`` takes strings and
booleans (a text-valued metric), ``log_list`` takes strings, and v1's four chart metrics
(``log_confusion_matrix``, ``log_accuracy_table``, ``log_residuals``, ``log_predictions``) take
their JSON documents — on a run, an offline run and a Docker job's run (through its job API, without
a container here) — and come back from ``get_metrics()`` and the REST metrics reply."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_mlws import Experiment, Run, Workspace
from jupyter_mlws.compute.job_api import JobApi
from jupyter_mlws.core.runs import remote
from jupyter_mlws.core.runs.offline import OfflineRun
from jupyter_mlws.core.runs.remote import RemoteRun
from jupyter_mlws.errors import InvalidArgumentError
from tests.server.apispec import validate_schema

# The shapes of v1's reference documentation.
CONFUSION = {
    "schema_type": "confusion_matrix",
    "schema_version": "1.0.0",
    "data": {"class_labels": ["cat", "dog", "owl"], "matrix": [[5, 1, 0], [2, 6, 1], [0, 0, 7]]},
}
ACCURACY = {
    "schema_type": "accuracy_table",
    "schema_version": "1.0.1",
    "data": {
        "probability_tables": [[[4, 4, 0, 0], [3, 1, 3, 1], [0, 0, 4, 4]], [[4, 4, 0, 0], [2, 0, 4, 2], [0, 0, 4, 4]]],
        "percentile_tables": [[[4, 4, 0, 0], [0, 0, 4, 4]], [[4, 4, 0, 0], [0, 0, 4, 4]]],
        "probability_thresholds": [0.0, 0.5, 1.0],
        "percentile_thresholds": [0.0, 1.0],
        "class_labels": ["0", "1"],
    },
}
RESIDUALS = {
    "schema_type": "residuals",
    "schema_version": "1.0.0",
    "data": {"bin_edges": [-1.0, -0.5, 0.0, 0.5, 1.0], "bin_counts": [2, 10, 12, 3]},
}
PREDICTIONS = {
    "schema_type": "predictions",
    "schema_version": "1.0.0",
    "data": {
        "bin_averages": [0.25, 0.75],
        "bin_errors": [0.013, 0.042],
        "bin_counts": [56, 34],
        "bin_edges": [0.0, 0.5, 1.0],
    },
}


def test_text_and_booleans_are_metrics_as_in_v1(any_ws: Workspace) -> None:
    ws = any_ws  # SQLite and PostgreSQL keep them alike
    exp = Experiment(ws, "v1-text")
    run = exp.start_logging()
    run.log("message", "training started")
    run.log("message", np.str_("training ended"))  # several values -> a list, as for numbers
    run.log("converged", np.bool_(True))
    run.log("early_stop", False)
    run.log("optimizer", "adam", step=3)
    run.log_list("classes", ["cat", "dog", np.str_("owl")])
    run.log("accuracy", np.float32(0.5))  # numbers keep their path
    run.log("accuracy", 1)
    run.complete()

    expected = {
        "message": ["training started", "training ended"],
        "converged": True,
        "early_stop": False,
        "optimizer": "adam",
        "classes": ["cat", "dog", "owl"],
        "accuracy": [0.5, 1.0],
    }
    metrics = run.get_metrics()
    assert metrics == expected
    assert type(metrics["converged"]) is bool and type(metrics["message"][1]) is str
    assert Run(exp, run.id).get_metrics() == expected  # stored as such, not only remembered
    assert run.get_metrics("early_stop") == {"early_stop": False}

    # One name holds one kind: numbers refuse text and text refuses numbers, at the call ...
    with pytest.raises(InvalidArgumentError, match=r"'accuracy'.*already holds numbers"):
        run.log("accuracy", "high")
    with pytest.raises(InvalidArgumentError, match=r"'message'.*already holds text"):
        run.log("message", 3.0)
    with pytest.raises(InvalidArgumentError, match=r"'classes'.*already holds text"):
        run.log_list("classes", [1, 2])
    # ... and in the store, for a run object that did not log them.
    again = Run(exp, run.id)
    with pytest.raises(InvalidArgumentError, match="'converged' of this run holds text"):
        again.log_list("converged", [1.0])
        again.flush()
    with pytest.raises(InvalidArgumentError, match="'message' of this run holds text"):
        again.log("message", 2.0)
        again.flush()
    with pytest.raises(InvalidArgumentError, match="'accuracy' of this run holds numbers"):
        again.log("accuracy", "high")
    with pytest.raises(InvalidArgumentError, match="'mixed' takes text"):
        run.log_list("mixed", ["a", 1])
    with pytest.raises(InvalidArgumentError, match="'mixed' takes numbers here"):
        run.log_list("mixed", [1, "a"])
    assert run.get_metrics("accuracy") == {"accuracy": [0.5, 1.0]}


def test_the_four_v1_chart_metrics_round_trip(any_ws: Workspace) -> None:
    ws = any_ws
    run = Experiment(ws, "v1-charts").start_logging()
    run.log_confusion_matrix("confusion", CONFUSION, description="test set")
    run.log_accuracy_table("accuracy_table", json.dumps(ACCURACY))  # a JSON string, as v1 takes too
    run.log_residuals("residuals", RESIDUALS)
    numpy_predictions = copy.deepcopy(PREDICTIONS)
    numpy_predictions["data"]["bin_counts"] = np.array([56, 34])
    run.log_predictions("predictions", numpy_predictions)
    run.log_residuals("residuals", RESIDUALS)  # logged again -> a list, as every metric
    run.complete()
    metrics = run.get_metrics()
    assert metrics == {
        "confusion": CONFUSION,
        "accuracy_table": ACCURACY,
        "residuals": [RESIDUALS, RESIDUALS],
        "predictions": PREDICTIONS,
    }

    # What the run page reads (GET runs/{id}/metrics): kinds and values as openapi.yaml documents them.
    queries = ws.services.queries
    summaries = {s.name: s.kind for s in queries.metric_series(run.id)}
    assert summaries == {
        "confusion": "confusion_matrix",
        "accuracy_table": "accuracy_table",
        "residuals": "residuals",
        "predictions": "predictions",
    }
    for name, kind in summaries.items():
        view = queries.metric_view(run.id, name, 1000).as_dict()
        validate_schema("MetricSeries", view)
        assert view["kind"] == kind and view["value"] == metrics[name]
    text_run = Experiment(ws, "v1-charts").start_logging()
    text_run.log("note", "x")
    text_run.log_list("flags", [True, False])
    for name, value in (("note", "x"), ("flags", [True, False])):
        view = queries.metric_view(text_run.id, name, 1000).as_dict()
        validate_schema("MetricSeries", view)
        assert (view["kind"], view["value"]) == ("text", value)
    text_run.complete()


def _deep(depth: int) -> list[Any]:
    """A list nested ``depth`` deep (``str()`` of it exceeds the recursion limit)."""
    top: list[Any] = []
    inner = top
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return top


@pytest.mark.parametrize(
    ("method", "value", "error"),
    [
        ("log_confusion_matrix", "{not json", "'cm'.*not valid JSON"),
        ("log_confusion_matrix", [[1, 2], [3, 4]], "'cm'.*takes a dict or a JSON string"),
        (
            "log_confusion_matrix",
            {**CONFUSION, "schema_type": "residuals"},
            "schema_type must be 'confusion_matrix'.*log_residuals",
        ),
        ("log_confusion_matrix", {**CONFUSION, "data": {"class_labels": ["a", "b"]}}, "data lacks matrix"),
        (
            "log_confusion_matrix",
            {**CONFUSION, "data": {"class_labels": ["a", "b"], "matrix": [[1, 2], [3]]}},
            r"data.matrix\[1\] must have 2 entries",
        ),
        ("log_residuals", {**RESIDUALS, "data": {"bin_edges": [0, 1], "bin_counts": [1, 2]}}, "bin_edges must have 3"),
        ("log_residuals", {**RESIDUALS, "schema_version": 1}, "schema_version must be a string"),
        (
            "log_predictions",
            {**PREDICTIONS, "data": {**PREDICTIONS["data"], "bin_errors": [0.1, "x"]}},
            r"bin_errors\[1\] must be a number",
        ),
        (
            "log_accuracy_table",
            {**ACCURACY, "data": {**ACCURACY["data"], "percentile_tables": [[[1, 2, 3]], [[1, 2, 3, 4]]]}},
            r"percentile_tables\[0\] must have 2 entries",
        ),
        # Input no caller meant, refused as clearly: nesting deeper than the interpreter's stack, a
        # count too large for a float, an array where a number goes.
        ("log_confusion_matrix", "[" * 100_000 + "]" * 100_000, "'cm'.*nested too deeply"),
        (
            "log_confusion_matrix",
            {**CONFUSION, "data": {"class_labels": [_deep(100_000)], "matrix": [[1]]}},
            r"class_labels\[0\] must be a number, got list",
        ),
        ("log_residuals", {**RESIDUALS, "data": {"bin_edges": [0, 1], "bin_counts": [10**5000]}}, "too large"),
        (
            "log_residuals",
            {**RESIDUALS, "data": {"bin_edges": [0, 1], "bin_counts": [np.array([1, 2])]}},
            r"bin_counts\[0\] must be a number",
        ),
    ],
)
def test_a_wrong_chart_shape_is_refused_naming_the_field(ws: Workspace, method: str, value: Any, error: str) -> None:
    run = Experiment(ws, "v1-bad-charts").start_logging()
    with pytest.raises(InvalidArgumentError, match=error):
        getattr(run, method)("cm", value)
    run.log_confusion_matrix("cm", CONFUSION)  # the refusal claimed nothing
    with pytest.raises(InvalidArgumentError, match=r"'cm'.*already holds a confusion matrix"):
        run.log_residuals("cm", RESIDUALS)
    run.complete()
    assert run.get_metrics() == {"cm": CONFUSION}


def test_an_offline_run_prints_them_as_v1_does(capsys: pytest.CaptureFixture[str]) -> None:
    run = OfflineRun()
    run.log("message", "hello")
    run.log_list("words", ["a", "b"])
    run.log_confusion_matrix("cm", json.dumps(CONFUSION))
    with pytest.raises(InvalidArgumentError, match="'message' already holds text"):
        run.log("message", 1.0)
    with pytest.raises(InvalidArgumentError, match=r"'bad'.*takes a number, a string or a boolean"):
        run.log("bad", {"a": 1})
    out = capsys.readouterr().out
    assert "Attempted to log scalar metric message:\nhello" in out
    assert "Attempted to log confusion_matrix metric cm:" in out
    assert run.get_metrics() == {"message": "hello", "words": ["a", "b"], "cm": CONFUSION}


@pytest.fixture
def job_api(ws: Workspace, tmp_path: Path) -> Iterator[tuple[JobApi, Run]]:
    run = Experiment(ws, "v1-job").start_logging()
    folder = tmp_path / "api"
    folder.mkdir(mode=0o700)
    api = JobApi(ws, run.id, folder)
    api.start()
    yield api, run
    api.close()


def test_a_docker_jobs_run_logs_them_through_its_job_api(job_api: tuple[JobApi, Run]) -> None:
    api, run = job_api
    connection = remote._Connection(str(api.socket_path))
    proxy = RemoteRun(connection, run.id)
    proxy.log("loss", 0.25)
    proxy.log("message", "from the container")
    proxy.log("converged", np.bool_(False))
    proxy.log_list("classes", ["cat", "dog"])
    proxy.log_confusion_matrix("cm", CONFUSION)
    proxy.log_accuracy_table("acc", ACCURACY)
    proxy.log_residuals("res", json.dumps(RESIDUALS))
    proxy.log_predictions("pred", PREDICTIONS)
    with pytest.raises(InvalidArgumentError, match=r"'loss'.*already holds numbers"):
        proxy.log("loss", "low")
    proxy.flush()
    assert (
        proxy.get_metrics()
        == run.get_metrics()
        == {
            "message": "from the container",
            "converged": False,
            "classes": ["cat", "dog"],
            "cm": CONFUSION,
            "acc": ACCURACY,
            "res": RESIDUALS,
            "pred": PREDICTIONS,
            "loss": 0.25,
        }
    )
    # The supervisor checks again what a job sends by hand: it does not trust the job's side.
    with pytest.raises(InvalidArgumentError, match="data lacks class_labels, matrix"):
        connection.call(
            "log_chart", run_id=run.id, name="forged", kind="confusion_matrix", value={**CONFUSION, "data": {}}
        )
    with pytest.raises(InvalidArgumentError, match=r"'forged' takes text \(strings or booleans\) here, got dict"):
        connection.call("log_text", run_id=run.id, name="forged", values=[{"a": 1}])
    assert "forged" not in run.get_metrics()


def test_a_refused_text_or_number_claims_no_name(ws: Workspace) -> None:
    run = Experiment(ws, "v1-bad-values").start_logging()
    with pytest.raises(InvalidArgumentError, match="step"):
        run.log("note", "text", step="first")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match=r"'deep'.*got list"):
        run.log("deep", _deep(100_000))
    with pytest.raises(InvalidArgumentError, match=r"'huge'.*too large"):
        run.log("huge", 10**5000)
    run.log("note", 1.0)  # nothing was claimed by the refusals
    run.complete()
    assert run.get_metrics() == {"note": 1.0}
