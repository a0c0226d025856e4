"""Issue 13, finding 7 in the core: NaN/inf refused in numeric arguments (a NaN passes every "< 0" or
"<= 0" check and silently meant "no limit"), while NaN/inf metric values stay data; and a child run's
chosen id checked like every run id (it goes into URLs, file names and headers)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, ScriptRunConfig, Workspace
from jupyter_mlws.compute.docker import DockerCompute
from jupyter_mlws.compute.local import LocalCompute
from jupyter_mlws.errors import InvalidArgumentError

NON_FINITE = [math.nan, math.inf, -math.inf, 10**400]


@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf", "huge-int"])
def test_finite_number_refuses_what_no_bound_check_catches(value: object) -> None:
    from jupyter_mlws.core.values import finite_number

    with pytest.raises(InvalidArgumentError, match="timeout"):
        finite_number("timeout", value)


def test_finite_number_keeps_ints_and_floats() -> None:
    from jupyter_mlws.core.values import finite_number

    assert finite_number("x", 3) == 3 and type(finite_number("x", 3)) is int
    assert finite_number("x", 0.5) == 0.5
    for bad in (True, "1", None):
        with pytest.raises(InvalidArgumentError, match="x must be a number"):
            finite_number("x", bad)


@pytest.mark.parametrize("value", [*NON_FINITE, 0, -1, True, "10"], ids=str)
def test_max_run_duration_seconds_must_be_finite_and_positive(tmp_path: Path, value: object) -> None:
    (tmp_path / "job.py").write_text("print('hi')\n")
    config = ScriptRunConfig(source_directory=tmp_path, script="job.py", max_run_duration_seconds=value)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="max_run_duration_seconds"):
        config.job_spec()
    for fine in (10, 0.5, None):
        ok = ScriptRunConfig(source_directory=tmp_path, script="job.py", max_run_duration_seconds=fine)
        assert ok.job_spec()["max_run_duration_seconds"] == fine


def test_wait_for_completion_refuses_a_nan_or_negative_timeout(ws: Workspace) -> None:
    with Experiment(ws, "waits").start_logging() as run:
        pass
    for bad in (math.nan, math.inf, -1):
        with pytest.raises(InvalidArgumentError, match="timeout"):
            run.wait_for_completion(timeout=bad)
    assert run.wait_for_completion(timeout=0)["status"] == "Completed"


@pytest.mark.parametrize("target", [LocalCompute, DockerCompute], ids=["local", "docker"])
@pytest.mark.parametrize("value", NON_FINITE, ids=["nan", "inf", "-inf", "huge-int"])
def test_target_settings_refuse_non_finite_numbers(target: type, value: object) -> None:
    with pytest.raises(InvalidArgumentError, match="cancel_grace_seconds"):
        target.validate_config({"cancel_grace_seconds": value})
    assert target.validate_config({"cancel_grace_seconds": 2.5})["cancel_grace_seconds"] == 2.5


@pytest.mark.parametrize("value", [math.nan, math.inf], ids=["nan", "inf"])
def test_docker_cpus_refuse_non_finite_numbers(value: float) -> None:
    with pytest.raises(InvalidArgumentError, match="cpus"):
        DockerCompute.validate_config({"cpus": value})


def test_nan_and_inf_metric_values_are_still_logged(ws: Workspace) -> None:
    """Metric values are data, not arguments: MLflow and Azure ML keep NaN/inf, and so does this."""
    with Experiment(ws, "values").start_logging() as run:
        for value in (math.nan, math.inf, -math.inf):
            run.log("loss", value)
    values = run.get_metrics()["loss"]
    assert math.isnan(values[0]) and values[1:] == [math.inf, -math.inf]


@pytest.mark.parametrize(
    "run_id",
    ["", "../escape", "a/b", 'quote"d', "naïve", "x" * 256, "nul\x00", " lead", "-dash", 5],
    ids=["empty", "dotdot", "slash", "quote", "non-ascii", "too-long", "nul", "space", "dash-first", "int"],
)
def test_child_run_refuses_a_run_id_no_generated_id_could_be(ws: Workspace, run_id: object) -> None:
    with Experiment(ws, "family").start_logging() as parent:
        with pytest.raises(InvalidArgumentError, match="invalid run id"):
            parent.child_run(run_id=run_id)  # type: ignore[arg-type]
        assert parent.get_children() == []
        child = parent.child_run(run_id="chosen-child_1.0")
        assert child.id == "chosen-child_1.0" and [c.id for c in parent.get_children()] == [child.id]
        child.complete()


def test_flush_refuses_a_nan_timeout(ws: Workspace) -> None:
    run = Experiment(ws, "flush").start_logging()
    run.log("loss", 1.0)
    for bad in (float("nan"), float("inf"), "soon"):
        with pytest.raises(InvalidArgumentError, match="timeout"):
            run.flush(timeout=bad)  # type: ignore[arg-type]
    run.flush(timeout=30)
    assert run.get_metrics() == {"loss": 1.0}
    run.complete()
