"""``HyperDriveConfig`` and ``PrimaryMetricGoal`` (v1's names and signatures): what a sweep runs (a
run config whose arguments or notebook parameters get sampled values), how it samples, when it stops
trials early, and its budget. ``exp.submit(config)`` hands the config this experiment
(:meth:`HyperDriveConfig._submit_to_experiment`)."""

from __future__ import annotations

import enum
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgumentError
from .policies import NoTerminationPolicy
from .sampling import BayesianParameterSampling, GridParameterSampling, RandomParameterSampling

if TYPE_CHECKING:
    from ..core.experiment import Experiment
    from .run import HyperDriveRun

__all__ = ["HYPERDRIVE_RUN_TYPE", "HyperDriveConfig", "PrimaryMetricGoal"]

HYPERDRIVE_RUN_TYPE = "hyperdrive"
SWEEP_TARGET = "local"  # the sweep run itself is filed under the local target: its agent drives it
MAX_TOTAL_RUNS = 10_000
MAX_DURATION_MINUTES = 10080  # v1's default and its maximum: a week


class PrimaryMetricGoal(enum.StrEnum):
    """Whether the primary metric is to be maximised or minimised (v1's values)."""

    MAXIMIZE = "MAXIMIZE"
    MINIMIZE = "MINIMIZE"

    @classmethod
    def parse(cls, value: Any) -> PrimaryMetricGoal:
        if isinstance(value, cls):
            return value
        text = str(value).strip().lower() if isinstance(value, str) else ""
        if text in ("maximize", "max", "maximise"):
            return cls.MAXIMIZE
        if text in ("minimize", "min", "minimise"):
            return cls.MINIMIZE
        raise InvalidArgumentError(
            f"primary_metric_goal must be PrimaryMetricGoal.MAXIMIZE or PrimaryMetricGoal.MINIMIZE, got {value!r}"
        )

    @property
    def direction(self) -> str:
        """``"maximize"`` or ``"minimize"`` (what the samplers and policies take)."""
        return self.value.lower()


_SAMPLINGS = (GridParameterSampling, RandomParameterSampling, BayesianParameterSampling)


def _positive_int(name: str, value: Any, upper: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise InvalidArgumentError(f"{name} must be a whole number from 1 to {upper}, got {value!r}")
    return value


class HyperDriveConfig:
    """A hyperparameter sweep (v1's ``HyperDriveConfig``).

    ``run_config`` is a ``ScriptRunConfig`` (sampled values are appended to its arguments, keyed by
    the argument, e.g. ``"--learning-rate"``) or a ``NotebookRunConfig`` (sampled values become
    papermill parameters, the key's leading dashes dropped and inner dashes made underscores).
    """

    def __init__(
        self,
        run_config: Any = None,
        hyperparameter_sampling: Any = None,
        primary_metric_name: str | None = None,
        primary_metric_goal: Any = None,
        max_total_runs: int | None = None,
        max_concurrent_runs: int | None = None,
        max_duration_minutes: int | float = MAX_DURATION_MINUTES,
        policy: Any = None,
        estimator: Any = None,
        resume_from: Any = None,
        resume_child_runs: Any = None,
        pipeline: Any = None,
        debug_flag: Any = None,
        custom_run_id: str | None = None,
    ) -> None:
        if estimator is not None:
            raise InvalidArgumentError(
                "HyperDriveConfig(estimator=...): estimators are deprecated in v1 and not supported; "
                "pass run_config=ScriptRunConfig(...)"
            )
        if pipeline is not None:
            raise InvalidArgumentError("HyperDriveConfig(pipeline=...) is not supported; pass run_config")
        if resume_from is not None or resume_child_runs is not None:
            raise InvalidArgumentError(
                "HyperDriveConfig(resume_from=..., resume_child_runs=...) is not supported: a sweep resumes "
                "on its own after a crash; start a new sweep to warm-start from another"
            )
        if run_config is None or not callable(getattr(run_config, "job_spec", None)):
            raise InvalidArgumentError(
                "HyperDriveConfig needs run_config=ScriptRunConfig(...) (or a NotebookRunConfig), "
                f"got {type(run_config).__name__}"
            )
        if not isinstance(hyperparameter_sampling, _SAMPLINGS):
            raise InvalidArgumentError(
                "hyperparameter_sampling must be a GridParameterSampling, RandomParameterSampling or "
                f"BayesianParameterSampling, got {type(hyperparameter_sampling).__name__}"
            )
        if not isinstance(primary_metric_name, str) or not primary_metric_name.strip():
            raise InvalidArgumentError(
                "primary_metric_name must name the metric the script logs (e.g. 'accuracy'), "
                f"got {primary_metric_name!r}"
            )
        if max_total_runs is None:
            raise InvalidArgumentError("HyperDriveConfig needs max_total_runs (how many trials at most)")
        self.run_config = run_config
        self.hyperparameter_sampling = hyperparameter_sampling
        self.primary_metric_name = primary_metric_name.strip()
        self.primary_metric_goal = PrimaryMetricGoal.parse(primary_metric_goal)
        self.max_total_runs = _positive_int("max_total_runs", max_total_runs, MAX_TOTAL_RUNS)
        self.max_concurrent_runs = (
            self.max_total_runs
            if max_concurrent_runs is None
            else _positive_int("max_concurrent_runs", max_concurrent_runs, MAX_TOTAL_RUNS)
        )
        if (
            isinstance(max_duration_minutes, bool)
            or not isinstance(max_duration_minutes, int | float)
            or not 0 < max_duration_minutes <= MAX_DURATION_MINUTES
        ):
            raise InvalidArgumentError(
                f"max_duration_minutes must be a number above 0 and at most {MAX_DURATION_MINUTES} (a week), "
                f"got {max_duration_minutes!r}"
            )
        self.max_duration_minutes = max_duration_minutes
        policy = NoTerminationPolicy() if policy is None else policy
        if not callable(getattr(policy, "to_json", None)):
            raise InvalidArgumentError(
                "policy must be a BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy or "
                f"NoTerminationPolicy, got {type(policy).__name__}"
            )
        self.policy = policy
        self.debug_flag = debug_flag
        self.custom_run_id = custom_run_id

    def sweep_spec(self) -> dict[str, Any]:
        """The sweep run's job spec: the trials' template and everything the controller needs."""
        child = self.run_config.job_spec()
        if child.get("inputs"):
            raise InvalidArgumentError(
                "a sweep's run_config cannot take dataset inputs yet: register the dataset and read it "
                "by name in the script (Dataset.get_by_name)"
            )
        sampling = self.hyperparameter_sampling.to_json()
        if child["kind"] == "notebook":
            names = [notebook_parameter(name) for name in sampling["space"]]
            if len(set(names)) != len(names):
                raise InvalidArgumentError(
                    f"the sweep's parameters {list(sampling['space'])} name the same notebook parameter twice"
                )
        else:
            fixed = {str(a) for a in child.get("arguments") or []}
            clash = sorted(name for name in sampling["space"] if name in fixed)
            if clash:
                raise InvalidArgumentError(
                    f"the run config's arguments already give {clash}: leave sampled arguments out of "
                    "ScriptRunConfig(arguments=...)"
                )
        seed = sampling.get("seed")
        return {
            "kind": HYPERDRIVE_RUN_TYPE,
            "source_directory": child["source_directory"],
            "compute_target": SWEEP_TARGET,
            "environment": child.get("environment"),
            "child": child,
            "sampling": sampling,
            # A seed for the draws, chosen now when none was given: a resumed controller draws the same.
            "seed": int(seed) if seed is not None else secrets.randbelow(2**31),
            "policy": self.policy.to_json(),
            "primary_metric": {"name": self.primary_metric_name, "goal": self.primary_metric_goal.direction},
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self.max_duration_minutes,
        }

    def _submit_to_experiment(
        self, experiment: Experiment, tags: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> HyperDriveRun:
        if kwargs:
            raise InvalidArgumentError(f"submit() got unknown keyword(s) {sorted(kwargs)} for a HyperDriveConfig")
        from .run import submit_sweep

        return submit_sweep(experiment, self, tags=tags)


def notebook_parameter(name: str) -> str:
    """The papermill parameter a sweep key sets: ``"--learning-rate"`` -> ``"learning_rate"``."""
    return name.lstrip("-").replace("-", "_")
