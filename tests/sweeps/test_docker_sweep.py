"""A sweep's trials run on whatever target its run config names: here, containers of a real Docker
engine, two at a time."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlws import ComputeTarget, DockerCompute, Environment, GridParameterSampling, HyperDriveConfig, choice
from tests.support.docker import (
    TEST_IMAGE,
    engine,  # noqa: F401 - the Docker engine's session fixture
)

from .conftest import SweepKit

BUILD_TIMEOUT = 600.0  # the environment's image may have to be built first

pytestmark = pytest.mark.docker


def test_trials_run_in_containers_on_a_docker_target(engine: Any, kit: SweepKit) -> None:  # noqa: F811
    ComputeTarget.attach(kit.ws, "docker", DockerCompute.attach_configuration(base_image=TEST_IMAGE))
    config = kit.trial({"a": [0.25, 0.5], "b": [0.75]})
    config.run_config.target = "docker"
    env = Environment("dock")  # the Docker job tests' definition: its image is built once per engine
    env.python.pip_packages = ["six==1.16.0"]
    config.run_config.environment = env
    run = kit.exp.submit(
        HyperDriveConfig(
            run_config=config,
            hyperparameter_sampling=GridParameterSampling({"--curve": choice("a", "b")}),
            primary_metric_name="acc",
            primary_metric_goal="maximize",
            max_total_runs=2,
            max_concurrent_runs=2,
        )
    )
    run.wait_for_completion(timeout=BUILD_TIMEOUT)
    ranked = run.get_children_sorted_by_primary_metric()
    assert [(r["hyperparameters"], r["best_primary_metric"], r["status"]) for r in ranked] == [
        ({"--curve": "b"}, 0.75, "Completed"),
        ({"--curve": "a"}, 0.5, "Completed"),
    ]
    for child in run.get_children():
        assert child.get_details()["target"] == "docker"
        assert child.get_environment().name == "dock"
        log, _ = child.read_log(max_bytes=1 << 20)
        assert "IN_CONTAINER True" in log.decode()
