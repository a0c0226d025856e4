"""Many models (issue 19): v1's ``ParallelRunConfig`` and ``ParallelRunStep``.

A ``ParallelRunStep`` is a pipeline step like the others (a job on its compute target, with a
snapshot, an environment, logs, reuse) whose command is the built-in runner
(:mod:`.parallel_runner`): the runner splits the step's input into mini-batches — a tabular
dataset by ``partition_keys`` (one pandas DataFrame per partition, e.g. per store) or by
``mini_batch_size`` bytes, a file dataset by ``mini_batch_size`` files — makes one child run per
mini-batch and fans them out through the target's task executor, where the entry script's
``init()`` runs once per worker process and ``run(mini_batch)`` once per mini-batch, with
``Run.get_context()`` answering the mini-batch's child run.

Failures are counted per mini-batch against ``error_threshold`` (-1: any number); past it the step
stops and fails with the reason. With ``output_action="append_row"`` the rows ``run()`` returns are
written, space separated, to ``parallel_run_step.txt`` (or ``append_row_file_name``) in the step's
``output`` (else in the step run's ``outputs/``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from .data import PipelineData, PipelineDataInput
from .steps import PipelineStep, _target_name

__all__ = ["DEFAULT_APPEND_ROW_FILE", "ParallelRunConfig", "ParallelRunStep", "parse_mini_batch_size"]

DEFAULT_APPEND_ROW_FILE = "parallel_run_step.txt"  # v1's name
OUTPUT_ACTIONS = ("append_row", "summary_only")
_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}
# v1: "only lowercase letters, numbers and dashes, starting with a letter, 3 to 32 characters".
_STEP_NAME = re.compile(r"^[a-z][a-z0-9-]{2,31}$")


def _whole(name: str, value: Any, minimum: int, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"ParallelRunConfig: {name} must be a whole number >= {minimum}, got {value!r}")
    return value


def parse_mini_batch_size(value: Any, files: bool) -> int:
    """``mini_batch_size`` as a number: files per mini-batch for a file dataset (``10`` or ``"10"``),
    bytes for a tabular one (``"1MB"``, ``"256KB"``, ``1024``)."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _SIZE.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) < 1:
        raise InvalidArgumentError(
            f"ParallelRunConfig: mini_batch_size {value!r} is not a size: give a number of files for a file "
            "dataset (e.g. '10') or a size for a tabular dataset (e.g. '1MB', '256KB')"
        )
    unit = (match.group(2) or "").upper()
    if files and unit:
        raise InvalidArgumentError(
            f"ParallelRunConfig: mini_batch_size {value!r} is a size, but the input is a file dataset: give the "
            "number of files per mini-batch (e.g. '10')"
        )
    return int(match.group(1)) * _UNITS[unit]


class ParallelRunConfig:
    """v1's ``ParallelRunConfig``::

        ParallelRunConfig(environment, entry_script, error_threshold, output_action, compute_target,
                          node_count=1, process_count_per_node=None, mini_batch_size=None,
                          source_directory=None, description=None, logging_level="INFO",
                          run_invocation_timeout=60, run_max_try=3, append_row_file_name=None,
                          allowed_failed_count=None, allowed_failed_percent=None,
                          partition_keys=None, environment_variables=None)

    The entry script (in ``source_directory``) has ``init()`` and ``run(mini_batch)``.
    ``error_threshold`` counts failed mini-batches (-1: ignore every failure); ``allowed_failed_count``
    and ``allowed_failed_percent`` are further limits on the same count. ``mini_batch_size`` is a number
    of files for a file dataset (default 10) or a size for a tabular one (default ``"1MB"``);
    ``partition_keys`` splits a tabular dataset by those columns' values instead (one mini-batch per
    partition). The step fans out to ``node_count * process_count_per_node`` workers (default: one
    per core of this machine). ``run_invocation_timeout`` (seconds) bounds each ``run()`` call in a
    worker process's main thread; a failing ``run()`` is tried ``run_max_try`` times in all.
    ``environment=None`` runs with the submitting interpreter.
    """

    def __init__(
        self,
        environment: Any = None,
        entry_script: str | None = None,
        error_threshold: int | None = None,
        output_action: str | None = None,
        compute_target: Any = None,
        node_count: int = 1,
        process_count_per_node: int | None = None,
        mini_batch_size: int | str | None = None,
        source_directory: str | os.PathLike[str] | None = None,
        description: str | None = None,
        logging_level: str = "INFO",
        run_invocation_timeout: int = 60,
        run_max_try: int = 3,
        append_row_file_name: str | None = None,
        allowed_failed_count: int | None = None,
        allowed_failed_percent: float | None = None,
        partition_keys: Sequence[str] | None = None,
        environment_variables: Mapping[str, str] | None = None,
    ) -> None:
        if not isinstance(entry_script, str) or not entry_script.strip() or not entry_script.endswith(".py"):
            raise InvalidArgumentError(
                f"ParallelRunConfig needs entry_script, a .py file in source_directory with init() and "
                f"run(mini_batch), got {entry_script!r}"
            )
        if error_threshold is None:
            raise InvalidArgumentError(
                "ParallelRunConfig needs error_threshold: how many mini-batches may fail (-1: any number)"
            )
        threshold = _whole("error_threshold", error_threshold, -1)
        assert threshold is not None
        if output_action not in OUTPUT_ACTIONS:
            raise InvalidArgumentError(
                f"ParallelRunConfig: output_action is 'append_row' or 'summary_only', got {output_action!r}"
            )
        if compute_target is None:
            raise InvalidArgumentError(
                "ParallelRunConfig needs compute_target: a compute target or its name (e.g. 'local')"
            )
        target = _target_name(compute_target)
        nodes = _whole("node_count", node_count, 1)
        processes = _whole("process_count_per_node", process_count_per_node, 1, optional=True)
        if partition_keys is not None:
            if isinstance(partition_keys, str) or not isinstance(partition_keys, Sequence) or not partition_keys:
                raise InvalidArgumentError(
                    f"ParallelRunConfig: partition_keys is a non-empty list of column names, got {partition_keys!r}"
                )
            for key in partition_keys:
                if not isinstance(key, str) or not key.strip():
                    raise InvalidArgumentError(f"ParallelRunConfig: partition_keys holds column names, got {key!r}")
            if len(set(partition_keys)) != len(partition_keys):
                raise InvalidArgumentError(
                    f"ParallelRunConfig: partition_keys repeats a column: {list(partition_keys)}"
                )
            if mini_batch_size is not None:
                raise InvalidArgumentError(
                    "ParallelRunConfig: give partition_keys or mini_batch_size, not both (with partition_keys "
                    "each partition is one mini-batch)"
                )
        if mini_batch_size is not None:
            # Checked as a number of files now; a unit is checked against the input's kind at run time.
            parse_mini_batch_size(mini_batch_size, files=False)
        level = str(logging_level).upper() if isinstance(logging_level, str) else None
        if level not in _LEVELS:
            raise InvalidArgumentError(
                f"ParallelRunConfig: logging_level is one of {', '.join(_LEVELS)}, got {logging_level!r}"
            )
        timeout = _whole("run_invocation_timeout", run_invocation_timeout, 1)
        tries = _whole("run_max_try", run_max_try, 1)
        if append_row_file_name is not None:
            if output_action != "append_row":
                raise InvalidArgumentError(
                    "ParallelRunConfig: append_row_file_name is for output_action='append_row' only"
                )
            if (
                not isinstance(append_row_file_name, str)
                or not append_row_file_name.strip()
                or Path(append_row_file_name).name != append_row_file_name
                or append_row_file_name in (".", "..")
            ):
                raise InvalidArgumentError(
                    f"ParallelRunConfig: append_row_file_name is a file name (no folder), got {append_row_file_name!r}"
                )
        failed_count = _whole("allowed_failed_count", allowed_failed_count, 0, optional=True)
        if allowed_failed_percent is not None and (
            isinstance(allowed_failed_percent, bool)
            or not isinstance(allowed_failed_percent, int | float)
            or not 0 <= allowed_failed_percent <= 100
        ):
            raise InvalidArgumentError(
                f"ParallelRunConfig: allowed_failed_percent is a number from 0 to 100, got {allowed_failed_percent!r}"
            )
        if environment_variables is not None and (
            not isinstance(environment_variables, Mapping)
            or not all(isinstance(k, str) and isinstance(v, str) for k, v in environment_variables.items())
        ):
            raise InvalidArgumentError("ParallelRunConfig: environment_variables is a dict of strings to strings")
        self.environment = environment
        self.entry_script = entry_script
        self.error_threshold: int = threshold
        self.output_action: str = output_action
        self.compute_target = compute_target
        self.compute_target_name = target
        self.node_count = nodes
        self.process_count_per_node = processes
        self.mini_batch_size = mini_batch_size
        self.source_directory = str(Path(source_directory if source_directory is not None else ".").absolute())
        self.description = description
        self.logging_level: str = level
        self.run_invocation_timeout = timeout
        self.run_max_try = tries
        self.append_row_file_name = append_row_file_name
        self.allowed_failed_count = failed_count
        self.allowed_failed_percent = allowed_failed_percent
        self.partition_keys = list(partition_keys) if partition_keys is not None else None
        self.environment_variables = dict(environment_variables or {})

    def _settings(self) -> dict[str, Any]:
        """What the runner needs (JSON, part of the step's reuse key through its argv)."""
        return {
            "entry_script": self.entry_script,
            "error_threshold": self.error_threshold,
            "output_action": self.output_action,
            "node_count": self.node_count,
            "process_count_per_node": self.process_count_per_node,
            "mini_batch_size": None if self.mini_batch_size is None else str(self.mini_batch_size),
            "partition_keys": self.partition_keys,
            "logging_level": self.logging_level,
            "run_invocation_timeout": self.run_invocation_timeout,
            "run_max_try": self.run_max_try,
            "append_row_file_name": self.append_row_file_name or DEFAULT_APPEND_ROW_FILE,
            "allowed_failed_count": self.allowed_failed_count,
            "allowed_failed_percent": self.allowed_failed_percent,
        }

    def __repr__(self) -> str:
        return (
            f"ParallelRunConfig(entry_script={self.entry_script!r}, compute_target={self.compute_target_name!r}, "
            f"error_threshold={self.error_threshold}, output_action={self.output_action!r})"
        )


def _input_name(item: Any) -> str | None:
    """The input name of one of a step's inputs (a dataset's ``as_named_input(name)``, pipeline data)."""
    if isinstance(item, PipelineDataInput):
        return item.input_name
    if isinstance(item, PipelineData):
        return item.name
    name = getattr(item, "name", None)
    if hasattr(item, "mode") and isinstance(name, str):  # a dataset's consumption config
        return name
    return None


class ParallelRunStep(PipelineStep):
    """v1's ``ParallelRunStep``::

        ParallelRunStep(name, parallel_run_config, inputs, output=None, side_inputs=None,
                        arguments=None, allow_reuse=True)

    ``inputs``: what is split into mini-batches — datasets as ``ds.as_named_input(name)`` (all
    tabular or all file datasets) or pipeline data of an earlier step (files). ``side_inputs``: more
    inputs each worker can read whole (``Run.get_context().input_datasets[name]``). ``output``: a
    ``PipelineData`` / ``OutputFileDatasetConfig`` that gets the append_row file. ``arguments`` are the
    entry script's ``sys.argv[1:]`` while it is imported and while ``init()`` runs.
    """

    def __init__(
        self,
        name: str,
        parallel_run_config: ParallelRunConfig,
        inputs: Sequence[Any],
        output: PipelineData | None = None,
        side_inputs: Sequence[Any] | None = None,
        arguments: Sequence[Any] | None = None,
        allow_reuse: bool = True,
    ) -> None:
        if not isinstance(name, str) or not _STEP_NAME.match(name):
            raise InvalidArgumentError(
                f"ParallelRunStep name {name!r} is invalid: use 3 to 32 lowercase letters, digits and '-', "
                "starting with a letter (as Azure ML v1 requires)"
            )
        if not isinstance(parallel_run_config, ParallelRunConfig):
            raise InvalidArgumentError(
                f"ParallelRunStep {name!r}: parallel_run_config must be a ParallelRunConfig, "
                f"got {type(parallel_run_config).__name__}"
            )
        if isinstance(inputs, str | bytes) or not isinstance(inputs, Sequence) or not inputs:
            raise InvalidArgumentError(
                f"ParallelRunStep {name!r}: inputs is a non-empty list of what to split into mini-batches, e.g. "
                "[ds.as_named_input('sales')]"
            )
        if output is not None and not isinstance(output, PipelineData):
            raise InvalidArgumentError(
                f"ParallelRunStep {name!r}: output is a PipelineData or OutputFileDatasetConfig, got {output!r}"
            )
        side = list(side_inputs or [])
        main_names: list[str] = []
        for position, item in enumerate(inputs):
            input_name = _input_name(item)
            if input_name is None:
                raise InvalidArgumentError(
                    f"ParallelRunStep {name!r}: inputs[{position}] ({item!r:.80}) is not a named input; pass a "
                    "dataset as ds.as_named_input('name'), or PipelineData / OutputFileDatasetConfig of an earlier step"
                )
            main_names.append(input_name)
        side_names = [_input_name(item) for item in side]
        for position, side_name in enumerate(side_names):
            if side_name is None:
                raise InvalidArgumentError(
                    f"ParallelRunStep {name!r}: side_inputs[{position}] is not a named input; pass "
                    "ds.as_named_input('name') or PipelineData"
                )
        every = [*main_names, *(n for n in side_names if n is not None)]
        if len(set(every)) != len(every):
            raise InvalidArgumentError(f"ParallelRunStep {name!r}: two inputs share a name: {every}")
        config = parallel_run_config
        super().__init__(
            name,
            [*inputs, *side],
            [output] if output is not None else [],
            arguments,
            config.compute_target_name,
            config.source_directory,
            allow_reuse,
            config.environment,
        )
        self.parallel_run_config = config
        self.output = output
        self.side_inputs = side
        self._main_inputs = main_names
        self._side_names = [n for n in side_names if n is not None]

    def _specific(self, inputs: dict[str, dict[str, Any]]) -> dict[str, Any]:
        config = self.parallel_run_config
        return {
            "kind": "parallel",
            "parallel": {
                **config._settings(),
                "inputs": self._main_inputs,
                "side_inputs": self._side_names,
                "output": self.output.name if self.output is not None else None,
            },
            "environment_variables": config.environment_variables,
            "description": config.description,
        }

    def _problems(self) -> list[str]:
        problems = super()._problems()
        entry = self.parallel_run_config.entry_script
        if not problems and not (Path(self.source_directory) / entry).is_file():
            problems.append(
                f"step {self.name!r}: entry_script {entry!r} is not in source_directory {self.source_directory!r}"
            )
        return problems


def level_number(level: str) -> int:
    """The ``logging`` level of a ``logging_level`` name."""
    return int(getattr(logging, level, logging.INFO))
