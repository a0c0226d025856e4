"""v1 code names Azure ML's own base images; a Docker build uses the target's base image instead, and says so."""

from __future__ import annotations

import pytest

from jupyter_mlws.compute.environments.image import base_image_choice, base_image_of
from jupyter_mlws.core.environment import DEFAULT_BASE_IMAGE


@pytest.mark.parametrize(
    "image",
    [
        "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04",
        "mcr.microsoft.com/azureml/openmpi3.1.2-ubuntu18.04:20230103.v1",
        "MCR.microsoft.com/azureml/curated/sklearn-1.0:latest",
        "viennaglobal.azurecr.io/azureml/base:latest",
    ],
)
def test_an_azure_ml_base_image_stands_in_as_the_targets_with_a_note(image: str) -> None:
    definition = {"docker": {"base_image": image, "enabled": True}}
    chosen, note = base_image_choice(definition, {"base_image": "mlws-test-base:1"})
    assert chosen == "mlws-test-base:1"
    assert note is not None and image in note and "mlws-test-base:1" in note and "base_image" in note
    # no target setting: the project's default image
    assert base_image_of(definition, {}) == DEFAULT_BASE_IMAGE


def test_other_base_images_are_used_as_given() -> None:
    for image in (
        "python:3.12-slim",
        "registry.example.com/team/mcr.microsoft.com-mirror:1",
        "mcr.microsoft.com/devcontainers/python:3.11",
    ):
        assert base_image_choice({"docker": {"base_image": image}}, {"base_image": "x"}) == (image, None)


def test_no_base_image_means_the_targets() -> None:
    assert base_image_choice({"docker": {"base_image": None}}, {"base_image": "team:1"}) == ("team:1", None)
    assert base_image_choice({}, {}) == (DEFAULT_BASE_IMAGE, None)
