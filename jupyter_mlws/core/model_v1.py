"""Azure ML v1's model keywords as plain values: ``Model.Framework``, ``ResourceConfiguration`` and the
properties they become. No workspace here, so a Docker job's ``RemoteRun`` words them the same way."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgumentError

__all__ = [
    "FRAMEWORK_PROPERTY",
    "FRAMEWORK_VERSION_PROPERTY",
    "RESOURCES_PROPERTY",
    "SAMPLE_INPUT",
    "SAMPLE_OUTPUT",
    "Framework",
    "ResourceConfiguration",
    "v1_model_properties",
]

#: Properties that hold v1's ``model_framework``, ``model_framework_version`` and ``resource_configuration``.
FRAMEWORK_PROPERTY = "model_framework"
FRAMEWORK_VERSION_PROPERTY = "model_framework_version"
RESOURCES_PROPERTY = "resource_configuration"
#: ``datasets`` purposes of v1's ``sample_input_dataset`` / ``sample_output_dataset``.
SAMPLE_INPUT, SAMPLE_OUTPUT = "sample_input", "sample_output"


class Framework:
    """Azure ML v1's ``Model.Framework`` constants (the values v1 stores)."""

    CUSTOM = "Custom"
    MULTI = "Multi"
    ONNX = "Onnx"
    PYTORCH = "PyTorch"
    SCIKITLEARN = "ScikitLearn"
    TENSORFLOW = "TensorFlow"
    TFKERAS = "TfKeras"


class ResourceConfiguration:
    """Azure ML v1's resources a model needs to run (``cpu`` cores, ``memory_in_gb``, ``gpu`` count);
    kept with the model version as the ``resource_configuration`` property (a deployment reads it)."""

    def __init__(self, cpu: float | None = None, memory_in_gb: float | None = None, gpu: int | None = None) -> None:
        for key, value in (("cpu", cpu), ("memory_in_gb", memory_in_gb), ("gpu", gpu)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or value < 0):
                raise InvalidArgumentError(f"ResourceConfiguration {key} must be a number of 0 or more, got {value!r}")
        self.cpu = cpu
        self.memory_in_gb = memory_in_gb
        self.gpu = gpu

    def serialize(self) -> dict[str, Any]:
        return {"cpu": self.cpu, "memory_in_gb": self.memory_in_gb, "gpu": self.gpu}

    @staticmethod
    def deserialize(payload: Mapping[str, Any]) -> ResourceConfiguration:
        return ResourceConfiguration(payload.get("cpu"), payload.get("memory_in_gb"), payload.get("gpu"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ResourceConfiguration) and other.serialize() == self.serialize()

    def __hash__(self) -> int:
        return hash(tuple(self.serialize().items()))

    def __repr__(self) -> str:
        return f"ResourceConfiguration(cpu={self.cpu!r}, memory_in_gb={self.memory_in_gb!r}, gpu={self.gpu!r})"


def v1_model_properties(
    framework: str | None, framework_version: str | None, resources: ResourceConfiguration | None
) -> dict[str, str]:
    properties = {}
    if framework is not None:
        properties[FRAMEWORK_PROPERTY] = str(framework)
    if framework_version is not None:
        properties[FRAMEWORK_VERSION_PROPERTY] = str(framework_version)
    if resources is not None:
        if not isinstance(resources, ResourceConfiguration):
            raise InvalidArgumentError(
                f"resource_configuration must be a ResourceConfiguration(cpu=, memory_in_gb=, gpu=), got {resources!r}"
            )
        properties[RESOURCES_PROPERTY] = json.dumps(resources.serialize(), sort_keys=True)
    return properties
