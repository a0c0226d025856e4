"""How a sweep picks its children's hyperparameters: v1's sampling classes and the samplers behind them.

The v1 classes (:class:`GridParameterSampling`, :class:`RandomParameterSampling`,
:class:`BayesianParameterSampling`) only describe a search space; :func:`make_sampler` turns their JSON
into a :class:`Sampler` the sweep's controller asks for child ``index``'s values.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.sweeps.expressions import ParameterExpression, draw, quantize

__all__ = [
    "BayesianParameterSampling",
    "GridParameterSampling",
    "HyperParameterSampling",
    "RandomParameterSampling",
    "Sampler",
    "Trial",
    "make_sampler",
    "sampling_from_json",
]

TRIAL_STATES = ("running", "completed", "failed", "canceled")
_BAYESIAN_KINDS = ("choice", "uniform", "quniform")


def _parse_space(parameter_space: Any, sampling: str) -> dict[str, ParameterExpression]:
    if not isinstance(parameter_space, Mapping):
        raise InvalidArgumentError(
            f"{sampling}: parameter_space must be a dict of argument name -> expression, "
            f'e.g. {{"--learning-rate": uniform(0.01, 0.1)}}; got {type(parameter_space).__name__}'
        )
    if not parameter_space:
        raise InvalidArgumentError(
            f'{sampling}: parameter_space is empty; give at least one parameter, e.g. {{"--C": choice(0.1, 1, 10)}}'
        )
    space: dict[str, ParameterExpression] = {}
    for name, expr in parameter_space.items():
        if not isinstance(name, str) or not name.strip():
            raise InvalidArgumentError(
                f"{sampling}: parameter name {name!r} must be a non-empty string, such as the script's "
                f'argument "--learning-rate"'
            )
        try:
            space[name] = ParameterExpression.from_json(expr)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{sampling}: parameter {name!r}: {exc}") from None
    return space


def _check_properties(properties: Any, sampling: str) -> dict[str, Any] | None:
    if properties is not None and not isinstance(properties, Mapping):
        raise InvalidArgumentError(f"{sampling}: properties must be a dict or None, got {type(properties).__name__}")
    return dict(properties) if properties is not None else None


def _check_seed(seed: Any, sampling: str) -> int | None:
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**32):
        raise InvalidArgumentError(f"{sampling}: seed must be a whole number from 0 to 2**32 - 1 or None, got {seed!r}")
    return seed


def _v1_positional(
    seed: int | Mapping[str, Any] | None, properties: Mapping[str, Any] | None, sampling: str
) -> tuple[int | None, Mapping[str, Any] | None]:
    """``(seed, properties)``: v1's signature is ``(parameter_space, properties=None)``, so a dict in
    second place is v1's properties."""
    if not isinstance(seed, Mapping):
        return seed, properties
    if properties is not None:
        raise InvalidArgumentError(f"{sampling}: properties given twice; pass seed= and properties= by keyword")
    return None, seed


class HyperParameterSampling:
    """Base of the sampling classes: a search space (and, for random and Bayesian, a seed)."""

    TYPE = ""
    SAMPLING_NAME = ""

    def __init__(
        self, parameter_space: Mapping[str, Any], seed: int | None = None, properties: Mapping[str, Any] | None = None
    ) -> None:
        name = type(self).__name__
        self._space = _parse_space(parameter_space, name)
        self._seed = _check_seed(seed, name)
        self._properties = _check_properties(properties, name)

    @property
    def parameter_space(self) -> dict[str, ParameterExpression]:
        """Argument name -> expression, in the order given."""
        return dict(self._space)

    @property
    def seed(self) -> int | None:
        return self._seed

    @property
    def properties(self) -> dict[str, Any] | None:
        return dict(self._properties) if self._properties is not None else None

    def to_json(self) -> dict[str, Any]:
        """``{"type", "space": {name: [kind, [args]]}, "seed"}`` (and ``"properties"`` when given)."""
        out: dict[str, Any] = {
            "type": self.TYPE,
            "space": {name: expr.to_json() for name, expr in self._space.items()},
            "seed": self._seed,
        }
        if self._properties is not None:
            out["properties"] = dict(self._properties)
        return out

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, HyperParameterSampling)
            and type(other) is type(self)
            and other.to_json() == self.to_json()
        )

    def __hash__(self) -> int:
        return hash((self.TYPE, tuple(self._space.items()), self._seed))

    def __repr__(self) -> str:
        space = ", ".join(f"{name!r}: {expr}" for name, expr in self._space.items())
        return f"{type(self).__name__}({{{space}}}, seed={self._seed!r})"


class GridParameterSampling(HyperParameterSampling):
    """Every combination of the space's ``choice`` values (v1: only ``choice`` is allowed)."""

    TYPE = "grid"
    SAMPLING_NAME = "GRID"

    def __init__(self, parameter_space: Mapping[str, Any], properties: Mapping[str, Any] | None = None) -> None:
        super().__init__(parameter_space, None, properties)
        bad = [name for name, expr in self._space.items() if expr.kind != "choice"]
        if bad:
            raise InvalidArgumentError(
                f"GridParameterSampling: parameter {bad[0]!r} is {self._space[bad[0]]}; grid sampling takes only "
                f"choice(...) expressions: list the values with choice(...), or use RandomParameterSampling"
            )

    @property
    def size(self) -> int:
        """The number of points of the grid."""
        return math.prod(len(expr.args) for expr in self._space.values())


class RandomParameterSampling(HyperParameterSampling):
    """Values drawn at random from every kind of expression; reproducible with ``seed``."""

    TYPE = "random"
    SAMPLING_NAME = "RANDOM"

    def __init__(
        self,
        parameter_space: Mapping[str, Any],
        seed: int | Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(parameter_space, *_v1_positional(seed, properties, "RandomParameterSampling"))


class BayesianParameterSampling(HyperParameterSampling):
    """Values chosen by a Bayesian optimizer (Optuna's TPE) from how earlier children did. v1 allows only
    ``choice``, ``uniform`` and ``quniform``."""

    TYPE = "bayesian"
    SAMPLING_NAME = "BayesianOptimization"

    def __init__(
        self,
        parameter_space: Mapping[str, Any],
        seed: int | Mapping[str, Any] | None = None,
        properties: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(parameter_space, *_v1_positional(seed, properties, "BayesianParameterSampling"))
        bad = [name for name, expr in self._space.items() if expr.kind not in _BAYESIAN_KINDS]
        if bad:
            raise InvalidArgumentError(
                f"BayesianParameterSampling: parameter {bad[0]!r} is {self._space[bad[0]]}; Bayesian sampling "
                f"supports only choice, uniform and quniform (as in v1): rewrite it with one of those "
                f"(e.g. a log scale as choice(1e-4, 1e-3, 1e-2)), or use RandomParameterSampling"
            )


_CLASSES: dict[str, type[HyperParameterSampling]] = {
    "grid": GridParameterSampling,
    "random": RandomParameterSampling,
    "bayesian": BayesianParameterSampling,
}


def sampling_from_json(d: Mapping[str, Any]) -> HyperParameterSampling:
    """The sampling object of :meth:`HyperParameterSampling.to_json`'s dict."""
    if isinstance(d, HyperParameterSampling):
        return d
    if not isinstance(d, Mapping) or d.get("type") not in _CLASSES:
        kind = d.get("type") if isinstance(d, Mapping) else d
        raise InvalidArgumentError(
            f"unknown sampling {kind!r}: expected a dict with type one of {', '.join(_CLASSES)} and a space"
        )
    cls = _CLASSES[d["type"]]
    space: Any = d.get("space")  # checked by the class, which names what is wrong
    properties = d.get("properties")
    if cls is GridParameterSampling:
        return GridParameterSampling(space, properties=properties)
    return cls(space, seed=d.get("seed"), properties=properties)


@dataclass(frozen=True)
class Trial:
    """What the controller knows of an earlier child: its values, best primary metric and state."""

    index: int
    values: Mapping[str, Any]
    metric: float | None  # best of its primary-metric series
    state: str  # "running" | "completed" | "failed" | "canceled"


class Sampler:
    """Gives child ``index`` its hyperparameter values. ``size`` is the number of points (grid) or None."""

    size: int | None = None

    def suggest(self, index: int, history: Sequence[Trial]) -> dict[str, Any] | None:
        """Child ``index``'s values, or None when the space is exhausted."""
        raise NotImplementedError


def _check_index(index: Any) -> int:
    if not isinstance(index, int) or isinstance(index, bool) or index < 0:
        raise InvalidArgumentError(f"sampler index must be an int >= 0, got {index!r}")
    return index


class _GridSampler(Sampler):
    def __init__(self, space: Mapping[str, ParameterExpression]) -> None:
        self._names = list(space)
        self._options = [space[name].args for name in self._names]
        self.size = math.prod(len(options) for options in self._options)

    def suggest(self, index: int, history: Sequence[Trial]) -> dict[str, Any] | None:
        index = _check_index(index)
        if index >= (self.size or 0):
            return None
        # the index-th point of itertools.product, in mixed radix (last name fastest), without enumerating
        picks: list[Any] = []
        for options in reversed(self._options):
            index, digit = divmod(index, len(options))
            picks.append(options[digit])
        return dict(zip(self._names, reversed(picks), strict=True))


class _RandomSampler(Sampler):
    def __init__(self, space: Mapping[str, ParameterExpression], seed: int) -> None:
        self._space = dict(space)
        self._seed = seed

    def suggest(self, index: int, history: Sequence[Trial]) -> dict[str, Any] | None:
        # one generator per index: a resumed sweep draws the same values for the same child
        rng = random.Random(f"{self._seed}:{_check_index(index)}")
        return {name: draw(expr, rng) for name, expr in self._space.items()}


class _BayesianSampler(Sampler):
    def __init__(
        self, space: Mapping[str, ParameterExpression], seed: int, goal: Literal["maximize", "minimize"]
    ) -> None:
        import optuna

        # Optuna logs every trial at INFO: noise in a notebook and in the sweep's log
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self._optuna = optuna
        self._space = dict(space)
        self._distributions: dict[str, Any] = {}
        for name, expr in self._space.items():
            if expr.kind == "choice":
                self._distributions[name] = optuna.distributions.CategoricalDistribution(expr.args)
            elif expr.kind == "uniform":
                self._distributions[name] = optuna.distributions.FloatDistribution(
                    float(expr.args[0]), float(expr.args[1])
                )
            elif expr.kind == "quniform":
                # quniform's values are the multiples of q that round(uniform/q) reaches: optimise the multiple
                low, high, q = expr.args
                self._distributions[name] = optuna.distributions.IntDistribution(round(low / q), round(high / q))
            else:
                raise InvalidArgumentError(
                    f"Bayesian sampling: parameter {name!r} is {expr}; only choice, uniform and quniform are supported"
                )
        self._study = optuna.create_study(direction=goal, sampler=optuna.samplers.TPESampler(seed=seed))
        self._asked: dict[int, tuple[Any, dict[str, Any]]] = {}  # index -> (optuna trial, values given)
        self._synced: set[int] = set()  # indices whose outcome the study knows

    def _external(self, name: str, raw: Any) -> Any:
        expr = self._space[name]
        if expr.kind == "quniform":
            q = expr.args[2]
            return quantize(raw * q, q, all(isinstance(a, int) for a in expr.args))
        return raw

    def _internal(self, name: str, value: Any) -> Any:
        expr = self._space[name]
        if expr.kind == "quniform":
            return round(value / expr.args[2])
        if expr.kind == "uniform":
            return float(value)
        return value

    def _sync(self, history: Sequence[Trial]) -> None:
        state_type = self._optuna.trial.TrialState
        for trial in history:
            if trial.state not in ("completed", "failed", "canceled") or trial.index in self._synced:
                continue
            self._synced.add(trial.index)
            metric = trial.metric
            if metric is not None and not math.isfinite(metric):
                metric = None
            asked = self._asked.get(trial.index)
            if asked is not None:
                optuna_trial = asked[0]
                if trial.state == "completed" and metric is not None:
                    self._study.tell(optuna_trial, values=metric)
                elif trial.state == "canceled" and metric is not None:
                    # stopped early (a policy or a user): TPE weighs a pruned trial by its last reported value
                    optuna_trial.report(metric, 0)
                    self._study.tell(optuna_trial, state=state_type.PRUNED)
                else:
                    self._study.tell(optuna_trial, state=state_type.FAIL)
                continue
            # a child this sampler never asked for (a resumed sweep): teach the study what it did
            try:
                params = {name: self._internal(name, trial.values[name]) for name in self._space}
                if trial.state == "completed" and metric is not None:
                    frozen = self._optuna.trial.create_trial(
                        params=params, distributions=self._distributions, value=metric
                    )
                elif trial.state == "canceled" and metric is not None:
                    frozen = self._optuna.trial.create_trial(
                        state=state_type.PRUNED,
                        params=params,
                        distributions=self._distributions,
                        intermediate_values={0: metric},
                    )
                else:
                    continue  # a failure without a metric teaches TPE nothing
                self._study.add_trial(frozen)
            except (KeyError, TypeError, ValueError):
                # values outside this space (an edited space, a hand-made child): nothing to learn from
                continue

    def suggest(self, index: int, history: Sequence[Trial]) -> dict[str, Any] | None:
        index = _check_index(index)
        self._sync(history)
        if index in self._asked:
            return dict(self._asked[index][1])
        optuna_trial = self._study.ask(self._distributions)
        values = {name: self._external(name, optuna_trial.params[name]) for name in self._space}
        self._asked[index] = (optuna_trial, values)
        return dict(values)


def _normal_goal(goal: Any) -> Literal["maximize", "minimize"]:
    text = str(getattr(goal, "value", goal)).lower()
    if text == "maximize":
        return "maximize"
    if text == "minimize":
        return "minimize"
    raise InvalidArgumentError(f"goal must be 'maximize' or 'minimize' (PrimaryMetricGoal), got {goal!r}")


def make_sampler(sampling_json: Mapping[str, Any], seed: int, goal: str = "maximize") -> Sampler:
    """The sampler of a sampling's JSON. The sampling's own seed wins over ``seed`` (the sweep's);
    ``goal`` is the primary metric's ("maximize" or "minimize"), used by Bayesian sampling."""
    sampling = sampling_from_json(sampling_json)
    space = sampling.parameter_space
    chosen = sampling.seed if sampling.seed is not None else _check_seed(seed, "make_sampler")
    if chosen is None:
        raise InvalidArgumentError("make_sampler: seed must be an int (the sweep's seed), got None")
    seed = chosen
    direction = _normal_goal(goal)
    if isinstance(sampling, GridParameterSampling):
        return _GridSampler(space)
    if isinstance(sampling, BayesianParameterSampling):
        return _BayesianSampler(space, seed, direction)
    return _RandomSampler(space, seed)
