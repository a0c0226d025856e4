"""Early termination policies of a sweep (v1's ``BanditPolicy``, ``MedianStoppingPolicy``,
``TruncationSelectionPolicy`` and ``NoTerminationPolicy``) and :func:`should_stop`, the pure decision.

An interval is one logged value of a child's primary metric: interval k of a run is its k-th value.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any

from jupyter_mlws.errors import InvalidArgumentError

__all__ = [
    "BanditPolicy",
    "EarlyTerminationPolicy",
    "MedianStoppingPolicy",
    "NoTerminationPolicy",
    "TruncationSelectionPolicy",
    "policy_from_json",
    "should_stop",
]


def _check_int(policy: str, name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        bounds = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise InvalidArgumentError(f"{policy}: {name} must be an int {bounds}, got {value!r}")
    return value


def _check_slack(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value < 0:
        raise InvalidArgumentError(f"BanditPolicy: {name} must be a number >= 0, got {value!r}")
    return value


def _intervals(evaluation_interval: int, delay_evaluation: int) -> str:
    every = "every interval" if evaluation_interval == 1 else f"every {evaluation_interval} intervals"
    first = -(-max(1, delay_evaluation) // evaluation_interval) * evaluation_interval
    return f"checked {every} from interval {first}"


class EarlyTerminationPolicy:
    """Base of the policies: how often (``evaluation_interval``) and from when (``delay_evaluation``)."""

    TYPE = ""

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        name = type(self).__name__
        self._evaluation_interval = _check_int(name, "evaluation_interval", evaluation_interval, 1)
        self._delay_evaluation = _check_int(name, "delay_evaluation", delay_evaluation, 0)

    @property
    def evaluation_interval(self) -> int:
        return self._evaluation_interval

    @property
    def delay_evaluation(self) -> int:
        return self._delay_evaluation

    def to_json(self) -> dict[str, Any]:
        """``{"type", "evaluation_interval", "delay_evaluation", ...}``."""
        return {
            "type": self.TYPE,
            "evaluation_interval": self._evaluation_interval,
            "delay_evaluation": self._delay_evaluation,
        }

    def describe(self) -> str:
        """One line for people: what the policy stops, and when it looks."""
        raise NotImplementedError

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EarlyTerminationPolicy) and other.to_json() == self.to_json()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.to_json().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_json().items() if k != "type")
        return f"{type(self).__name__}({args})"


class BanditPolicy(EarlyTerminationPolicy):
    """Stops a run whose best metric falls behind the best run's by more than a slack (a factor or an
    amount; give exactly one)."""

    TYPE = "bandit"

    def __init__(
        self,
        evaluation_interval: int = 1,
        slack_factor: float | None = None,
        slack_amount: float | None = None,
        delay_evaluation: int = 0,
    ) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        if (slack_factor is None) == (slack_amount is None):
            raise InvalidArgumentError(
                "BanditPolicy: give exactly one of slack_factor (a ratio, e.g. 0.1) and slack_amount "
                "(an absolute distance, e.g. 0.05)"
            )
        self._slack_factor = _check_slack("slack_factor", slack_factor)
        self._slack_amount = _check_slack("slack_amount", slack_amount)

    @property
    def slack_factor(self) -> float | None:
        return self._slack_factor

    @property
    def slack_amount(self) -> float | None:
        return self._slack_amount

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "slack_factor": self._slack_factor, "slack_amount": self._slack_amount}

    def describe(self) -> str:
        if self._slack_factor is not None:
            slack = f"by more than slack factor {self._slack_factor:g}"
        else:
            slack = f"by more than slack amount {self._slack_amount:g}"
        return (
            f"Bandit: stops a run behind the best run {slack}; "
            f"{_intervals(self._evaluation_interval, self._delay_evaluation)}"
        )


class MedianStoppingPolicy(EarlyTerminationPolicy):
    """Stops a run whose best metric is worse than the median of all runs' running averages."""

    TYPE = "median_stopping"

    def __init__(self, evaluation_interval: int = 1, delay_evaluation: int = 5) -> None:
        super().__init__(evaluation_interval, delay_evaluation)

    def describe(self) -> str:
        return (
            "Median stopping: stops a run whose best value is worse than the median of the runs' running "
            f"averages; {_intervals(self._evaluation_interval, self._delay_evaluation)}"
        )


class TruncationSelectionPolicy(EarlyTerminationPolicy):
    """Stops the runs in the worst ``truncation_percentage`` percent at each evaluation."""

    TYPE = "truncation_selection"

    def __init__(self, truncation_percentage: int, evaluation_interval: int = 1, delay_evaluation: int = 0) -> None:
        super().__init__(evaluation_interval, delay_evaluation)
        self._truncation_percentage = _check_int(
            "TruncationSelectionPolicy", "truncation_percentage", truncation_percentage, 1, 99
        )

    @property
    def truncation_percentage(self) -> int:
        return self._truncation_percentage

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "truncation_percentage": self._truncation_percentage}

    def describe(self) -> str:
        return (
            f"Truncation selection: stops the runs in the worst {self._truncation_percentage}%; "
            f"{_intervals(self._evaluation_interval, self._delay_evaluation)}"
        )


class NoTerminationPolicy(EarlyTerminationPolicy):
    """Stops nothing: every run runs to its end."""

    TYPE = "no_termination"

    def __init__(self) -> None:
        super().__init__(1, 0)

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE}

    def describe(self) -> str:
        return "No early termination: every run runs to its end"


def policy_from_json(d: Mapping[str, Any] | EarlyTerminationPolicy | None) -> EarlyTerminationPolicy:
    """The policy of :meth:`EarlyTerminationPolicy.to_json`'s dict (None: no termination)."""
    if d is None:
        return NoTerminationPolicy()
    if isinstance(d, EarlyTerminationPolicy):
        return d
    kind = d.get("type") if isinstance(d, Mapping) else d
    args = {k: v for k, v in d.items() if k != "type"} if isinstance(d, Mapping) else {}
    interval = {k: args[k] for k in ("evaluation_interval", "delay_evaluation") if k in args}
    if kind == BanditPolicy.TYPE:
        return BanditPolicy(slack_factor=args.get("slack_factor"), slack_amount=args.get("slack_amount"), **interval)
    if kind == MedianStoppingPolicy.TYPE:
        return MedianStoppingPolicy(**interval)
    if kind == TruncationSelectionPolicy.TYPE:
        percentage: Any = args.get("truncation_percentage")  # checked by the class, which names what is wrong
        return TruncationSelectionPolicy(percentage, **interval)
    if kind == NoTerminationPolicy.TYPE:
        return NoTerminationPolicy()
    types = (BanditPolicy, MedianStoppingPolicy, TruncationSelectionPolicy, NoTerminationPolicy)
    raise InvalidArgumentError(
        f"unknown early termination policy {kind!r}: expected a dict with type one of "
        f"{', '.join(t.TYPE for t in types)}"
    )


def _normal_goal(goal: Any) -> bool:
    """True for maximize."""
    text = str(getattr(goal, "value", goal)).lower()
    if text not in ("maximize", "minimize"):
        raise InvalidArgumentError(f"goal must be 'maximize' or 'minimize' (PrimaryMetricGoal), got {goal!r}")
    return text == "maximize"


def _value_at(curve: Sequence[float], k: int, maximize: bool) -> float | None:
    """The best of the first k values (NaN and infinities ignored: a diverged value is no value), or
    None without one."""
    values = [float(v) for v in curve[:k] if math.isfinite(v)]
    if not values:
        return None
    return max(values) if maximize else min(values)


def _decimals(x: float) -> int:
    # two decimals for values near 1, more for small ones (0.0012, not 0.00)
    if x == 0 or not math.isfinite(x):
        return 2
    return max(2, 1 - math.floor(math.log10(abs(x))))


def _fmt(v: float, ref: float) -> tuple[str, str]:
    """v and ref with as many decimals as it takes to tell them apart (up to 12)."""
    d = max(_decimals(v), _decimals(ref))
    while f"{v:.{d}f}" == f"{ref:.{d}f}" and d < 12:
        d += 1
    return f"{v:.{d}f}", f"{ref:.{d}f}"


def should_stop(
    policy_json: Mapping[str, Any] | EarlyTerminationPolicy | None,
    goal: str,
    curves: Mapping[str, Sequence[float]],
    candidate: str,
    interval: int,
) -> str | None:
    """Is ``candidate`` stopped at its ``interval``-th logged primary-metric value? The reason, or None.

    ``curves`` holds every run's primary-metric series (finished runs included), in run order.
    """
    policy = policy_from_json(policy_json)
    maximize = _normal_goal(goal)
    k = _check_int("should_stop", "interval", interval, 1)
    if candidate not in curves:
        raise InvalidArgumentError(f"should_stop: candidate {candidate!r} has no curve; pass its series in curves")
    if isinstance(policy, NoTerminationPolicy):
        return None
    if k % policy.evaluation_interval != 0 or k < max(1, policy.delay_evaluation):
        return None
    # runs that have reached interval k take part, each with its best value so far
    values: dict[str, float] = {}
    for run, curve in curves.items():
        if len(curve) >= k:
            value = _value_at(curve, k, maximize)
            if value is not None:
                values[run] = value
    if candidate not in values:
        return None
    v = values[candidate]
    worse = "<" if maximize else ">"

    if isinstance(policy, BanditPolicy):
        best = max(values.values()) if maximize else min(values.values())
        if policy.slack_factor is not None:
            f = policy.slack_factor
            bound = best / (1 + f) if maximize else best * (1 + f)
            if (v < bound) if maximize else (v > bound):
                vs, bs = _fmt(v, best)
                op = "/" if maximize else "*"
                return f"BanditPolicy: {vs} {worse} best {bs} {op} (1 + {f:g}) at interval {k}"
        else:
            a = policy.slack_amount or 0.0
            bound = best - a if maximize else best + a
            if (v < bound) if maximize else (v > bound):
                vs, bs = _fmt(v, best)
                op = "-" if maximize else "+"
                return f"BanditPolicy: {vs} {worse} best {bs} {op} slack {a:g} at interval {k}"
        return None

    if isinstance(policy, MedianStoppingPolicy):
        averages = []
        for run in values:
            head = [float(x) for x in curves[run][:k] if math.isfinite(x)]
            averages.append(sum(head) / len(head))
        median = statistics.median(averages)
        if (v < median) if maximize else (v > median):
            vs, ms = _fmt(v, median)
            return f"MedianStoppingPolicy: {vs} {worse} median {ms} of running averages at interval {k}"
        return None

    if isinstance(policy, TruncationSelectionPolicy):
        n = len(values)
        n_cut = n * policy.truncation_percentage // 100
        order = {run: i for i, run in enumerate(values)}
        # worst first; among equal values the later run goes first (the earlier run got there first)
        ranked = sorted(values, key=lambda run: ((values[run] if maximize else -values[run]), -order[run]))
        if candidate in ranked[:n_cut]:
            side = "lowest" if maximize else "highest"
            vs = f"{v:.{_decimals(v)}f}"
            return (
                f"TruncationSelectionPolicy: {vs} is in the {side} {policy.truncation_percentage}% "
                f"of {n} runs at interval {k}"
            )
        return None

    raise InvalidArgumentError(f"should_stop: no rule for {type(policy).__name__}")
