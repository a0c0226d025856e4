"""A sweep given as text (``mlws sweep --param``, ``%%submit --sweep SPEC.json``): parameters such as
``"lr=uniform(0.01, 0.1)"`` and a JSON sweep spec, turned into the v1 objects.

Expressions are read with :mod:`ast`, never evaluated: only a call of one of the expression functions
(``choice``, ``randint``, ``uniform``, ``quniform``, ``loguniform``, ``qloguniform``, ``normal``,
``qnormal``, ``lognormal``, ``qlognormal``) with literal arguments (numbers, strings, booleans,
``None``, a list/tuple or ``range(...)`` inside ``choice``, and ``log(x)`` of a number for the
exponents ``loguniform`` takes) is accepted.

A sweep spec (JSON)::

    {"sampling": "random" | "grid" | "bayesian",
     "parameters": {"--lr": "uniform(0.01, 0.1)", "epochs": "choice(2, 3)"},
     "primary_metric": "acc", "goal": "max" | "min",
     "max_total_runs": 20, "max_concurrent_runs": 2, "max_duration_minutes": 60, "seed": 1,
     "policy": {"type": "bandit", "slack_factor": 0.1, "evaluation_interval": 1, "delay_evaluation": 0}}

A bare parameter name (``lr``) becomes the script argument ``--lr``.
"""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidArgumentError
from . import expressions
from .config import PrimaryMetricGoal
from .expressions import ParameterExpression
from .policies import (
    BanditPolicy,
    EarlyTerminationPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
)
from .sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    HyperParameterSampling,
    RandomParameterSampling,
)

__all__ = [
    "SPEC_KEYS",
    "SweepSpec",
    "argument_name",
    "load_spec",
    "make_policy",
    "make_sampling",
    "parse_expression",
    "parse_parameter",
    "parse_policy_option",
    "parse_spec",
]

_KINDS = (
    "choice",
    "randint",
    "uniform",
    "quniform",
    "loguniform",
    "qloguniform",
    "normal",
    "qnormal",
    "lognormal",
    "qlognormal",
)
_NAME = re.compile(r"^(-{1,2})?[A-Za-z_][A-Za-z0-9_.-]*$")
_EXAMPLE = 'e.g. "lr=uniform(0.01, 0.1)", "epochs=choice(2, 3)" or "--C=loguniform(-3, 2)"'

SAMPLINGS: dict[str, type[HyperParameterSampling]] = {
    "random": RandomParameterSampling,
    "grid": GridParameterSampling,
    "bayesian": BayesianParameterSampling,
}
# what a user may call a policy -> its type (the short forms are the CLI's: `--policy median`)
_POLICY_TYPES = {
    "bandit": BanditPolicy.TYPE,
    "median": MedianStoppingPolicy.TYPE,
    "median_stopping": MedianStoppingPolicy.TYPE,
    "truncation": TruncationSelectionPolicy.TYPE,
    "truncation_selection": TruncationSelectionPolicy.TYPE,
    "none": NoTerminationPolicy.TYPE,
    "no_termination": NoTerminationPolicy.TYPE,
}
_POLICY_KEYS = {
    BanditPolicy.TYPE: ("slack_factor", "slack_amount", "evaluation_interval", "delay_evaluation"),
    MedianStoppingPolicy.TYPE: ("evaluation_interval", "delay_evaluation"),
    TruncationSelectionPolicy.TYPE: ("truncation_percentage", "evaluation_interval", "delay_evaluation"),
    NoTerminationPolicy.TYPE: (),
}
SPEC_KEYS = (
    "sampling",
    "parameters",
    "primary_metric",
    "goal",
    "max_total_runs",
    "max_concurrent_runs",
    "max_duration_minutes",
    "seed",
    "policy",
)
_REQUIRED = ("parameters", "primary_metric", "goal", "max_total_runs")


# -- one parameter ------------------------------------------------------------------------------------------
def argument_name(name: str) -> str:
    """The script argument a parameter name stands for: ``"lr"`` -> ``"--lr"``; ``"--lr"``, ``"-C"`` as given."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidArgumentError(
            f"parameter name {name!r} is not an argument name: use letters, digits, '_', '-' or '.', "
            f"starting with a letter (optionally after '-' or '--'), e.g. lr or --learning-rate"
        )
    return name if name.startswith("-") else f"--{name}"


def _number(node: ast.expr, where: str) -> int | float:
    value = _literal(node, where, inside_choice=False)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentError(f"{where}: {ast.unparse(node)!r} is not a number")
    return value


def _literal(node: ast.expr, where: str, inside_choice: bool) -> Any:
    """A literal argument of an expression: a JSON scalar, a signed number, ``log(number)``; inside
    ``choice`` also a list, a tuple or ``range(...)`` of them."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, bool | int | float | str)):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _number(node.operand, where)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.Name) and node.id in ("true", "false", "null"):  # JSON spellings
        return {"true": True, "false": False, "null": None}[node.id]
    if isinstance(node, ast.Call) and not node.keywords:
        func = node.func
        called = (
            func.id
            if isinstance(func, ast.Name)
            else f"math.{func.attr}"
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "math"
            else ""
        )
        if called in ("log", "math.log", "exp", "math.exp") and len(node.args) == 1:
            x = _number(node.args[0], where)
            if called.endswith("log"):
                if x <= 0:
                    raise InvalidArgumentError(f"{where}: log({x!r}) needs a number above 0")
                return math.log(x)
            return math.exp(x)
        if inside_choice and called == "range" and 1 <= len(node.args) <= 3:
            bounds = [_number(a, where) for a in node.args]
            if not all(isinstance(b, int) for b in bounds):
                raise InvalidArgumentError(f"{where}: range() takes whole numbers")
            return list(range(*[int(b) for b in bounds]))
    if inside_choice and isinstance(node, ast.List | ast.Tuple):
        return [_literal(item, where, inside_choice=False) for item in node.elts]
    raise InvalidArgumentError(
        f"{where}: {ast.unparse(node)!r} is not allowed; arguments must be numbers, quoted strings, "
        "true/false/None (lists or range(...) only inside choice)"
    )


MAX_EXPRESSION_LENGTH = 10_000


def parse_expression(text: str) -> ParameterExpression:
    """See :func:`_parse_expression`; an expression too deep or too long to read is a clear error too."""
    if isinstance(text, str) and len(text) > MAX_EXPRESSION_LENGTH:
        raise InvalidArgumentError(
            f"the parameter expression is {len(text)} characters long (at most {MAX_EXPRESSION_LENGTH}): "
            "list long choices in a JSON sweep spec instead"
        )
    try:
        return _parse_expression(text)
    except (RecursionError, MemoryError, ValueError) as exc:
        if isinstance(exc, InvalidArgumentError):
            raise
        raise InvalidArgumentError(
            f"cannot read the parameter expression {str(text)[:60]!r}…: it is nested too deeply; write a call "
            "such as uniform(0.01, 0.1) or choice(2, 3)"
        ) from None


def _parse_expression(text: str) -> ParameterExpression:
    """``"uniform(0.01, 0.1)"`` -> the expression (read with ast; nothing is evaluated)."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgumentError(f"a parameter expression must be text such as 'uniform(0.01, 0.1)', got {text!r}")
    source = text.strip()
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError:
        raise InvalidArgumentError(
            f"cannot read the parameter expression {source!r}: write a call such as uniform(0.01, 0.1) "
            "or choice(2, 3) (check the parentheses and commas)"
        ) from None
    call = tree.body
    kind = call.func.id if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) else None
    if kind not in _KINDS:
        raise InvalidArgumentError(
            f"{source!r} is not a parameter expression: use one of {', '.join(_KINDS)}, e.g. uniform(0.01, 0.1)"
        )
    assert isinstance(call, ast.Call)
    where = source
    if any(isinstance(a, ast.Starred) for a in call.args):
        raise InvalidArgumentError(f"{where}: *arguments are not allowed")
    args = [_literal(a, where, inside_choice=kind == "choice") for a in call.args]
    kwargs: dict[str, Any] = {}
    for kw in call.keywords:
        if kw.arg is None:
            raise InvalidArgumentError(f"{where}: **arguments are not allowed")
        kwargs[kw.arg] = _literal(kw.value, where, inside_choice=False)
    if kind == "choice":
        if kwargs:
            raise InvalidArgumentError(f"{where}: choice takes its options as plain arguments, e.g. choice(2, 3)")
        if len(args) > 1 and any(isinstance(a, list) for a in args):
            raise InvalidArgumentError(
                f"{where}: give choice either options (choice(2, 3)) or one list (choice([2, 3])), not lists among them"
            )
    try:
        expression: ParameterExpression = getattr(expressions, kind)(*args, **kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"{where}: {exc}; e.g. {kind}{_EXAMPLE_ARGS.get(kind, '(...)')}") from None
    return expression


_EXAMPLE_ARGS = {
    "randint": "(10)",
    "uniform": "(0.01, 0.1)",
    "quniform": "(1, 10, 1)",
    "loguniform": "(-5, 0)",
    "qloguniform": "(0, 5, 1)",
    "normal": "(0, 1)",
    "qnormal": "(0, 1, 0.1)",
    "lognormal": "(0, 1)",
    "qlognormal": "(0, 1, 1)",
}


def parse_parameter(text: str) -> tuple[str, ParameterExpression]:
    """``"lr=uniform(0.01, 0.1)"`` -> ``("--lr", uniform(0.01, 0.1))``; ``"--C=loguniform(-3, 2)"``
    keeps its dashes."""
    if not isinstance(text, str):
        raise InvalidArgumentError(f"a parameter is text NAME=EXPRESSION ({_EXAMPLE}), got {text!r}")
    name, sep, expression = text.partition("=")
    if not sep or not name.strip() or not expression.strip():
        raise InvalidArgumentError(f"parameter {text!r}: write NAME=EXPRESSION, {_EXAMPLE}")
    try:
        return argument_name(name), parse_expression(expression)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"parameter {text!r}: {exc.message}") from None


def parameter_space(items: Sequence[str] | Mapping[str, Any]) -> dict[str, ParameterExpression]:
    """``["lr=uniform(...)", ...]`` or ``{"lr": "uniform(...)" | ["uniform", [...]]}`` -> the space."""
    space: dict[str, ParameterExpression] = {}
    pairs: list[tuple[str, ParameterExpression]] = []
    if isinstance(items, Mapping):
        for raw_name, value in items.items():
            if not isinstance(raw_name, str):
                raise InvalidArgumentError(f"parameter name {raw_name!r} must be text such as '--lr'")
            try:
                name = argument_name(raw_name)
                expr = parse_expression(value) if isinstance(value, str) else ParameterExpression.from_json(value)
            except InvalidArgumentError as exc:
                raise InvalidArgumentError(f"parameter {raw_name!r}: {exc.message}") from None
            pairs.append((name, expr))
    else:
        pairs = [parse_parameter(item) for item in items]
    for name, expr in pairs:
        if name in space:
            raise InvalidArgumentError(f"parameter {name!r} is given twice: keep one")
        space[name] = expr
    if not space:
        raise InvalidArgumentError(f"a sweep needs at least one parameter, {_EXAMPLE}")
    return space


# -- sampling and policy ----------------------------------------------------------------------------------------
def make_sampling(kind: str, space: Mapping[str, Any], seed: int | None = None) -> HyperParameterSampling:
    """``"random" | "grid" | "bayesian"`` over ``space`` (seeded: random and bayesian)."""
    key = str(kind).strip().lower() if isinstance(kind, str) else kind
    cls = SAMPLINGS.get(key) if isinstance(key, str) else None
    if cls is None:
        raise InvalidArgumentError(f"sampling {kind!r} is unknown: use one of {', '.join(SAMPLINGS)}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise InvalidArgumentError(f"seed must be a whole number, got {seed!r}")
    if cls is GridParameterSampling:
        if seed is not None:
            raise InvalidArgumentError("grid sampling is not random: leave out the seed (or use random sampling)")
        return GridParameterSampling(space)
    return cls(space, seed=seed)


def make_policy(value: Mapping[str, Any] | str | None) -> EarlyTerminationPolicy:
    """A policy from its JSON (``{"type": "bandit", "slack_factor": 0.1, ...}``; the type may be
    ``bandit``, ``median``, ``truncation``, ``none`` or the full names) or its bare type name."""
    if value is None:
        return NoTerminationPolicy()
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            f'policy must be an object such as {{"type": "bandit", "slack_factor": 0.1}}, got {value!r}'
        )
    raw = value.get("type")
    kind = _POLICY_TYPES.get(str(raw).strip().lower()) if isinstance(raw, str) else None
    if kind is None:
        raise InvalidArgumentError(
            f"policy type {raw!r} is unknown: use one of bandit, median, truncation, none "
            '(e.g. {"type": "bandit", "slack_factor": 0.1})'
        )
    args = {k: v for k, v in value.items() if k != "type"}
    unknown = sorted(set(args) - set(_POLICY_KEYS[kind]))
    if unknown:
        allowed = ", ".join(_POLICY_KEYS[kind]) or "nothing"
        raise InvalidArgumentError(f"policy {raw}: unknown setting(s) {', '.join(unknown)}; it takes {allowed}")
    if kind == BanditPolicy.TYPE:
        return BanditPolicy(**args)
    if kind == MedianStoppingPolicy.TYPE:
        return MedianStoppingPolicy(**args)
    if kind == TruncationSelectionPolicy.TYPE:
        if "truncation_percentage" not in args:
            raise InvalidArgumentError("policy truncation needs truncation_percentage (1 to 99), e.g. truncation:20")
        return TruncationSelectionPolicy(**args)
    return NoTerminationPolicy()


def parse_policy_option(text: str) -> EarlyTerminationPolicy:
    """The CLI's ``--policy``: ``bandit:slack_factor=0.1[,evaluation_interval=2]``, ``median``,
    ``median:delay_evaluation=2``, ``truncation:20`` (the percentage), ``none``."""
    kind, _sep, rest = text.partition(":")
    settings: dict[str, Any] = {"type": kind.strip()}
    if (
        kind.strip().lower() in ("truncation", "truncation_selection")
        and rest.strip()
        and "=" not in rest.split(",")[0]
    ):
        first, _comma, rest = rest.partition(",")
        settings["truncation_percentage"] = _setting_value("truncation_percentage", first)
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, raw = item.partition("=")
        if not eq or not key.strip():
            raise InvalidArgumentError(
                f"--policy {text!r}: settings are key=value, e.g. bandit:slack_factor=0.1,evaluation_interval=2"
            )
        settings[key.strip()] = _setting_value(key.strip(), raw)
    return make_policy(settings)


def _setting_value(key: str, raw: str) -> int | float:
    try:
        value = ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError):
        value = None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentError(f"policy setting {key} must be a number, got {raw.strip()!r}")
    return value


# -- a whole sweep ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SweepSpec:
    """A sweep as text gave it: everything of a ``HyperDriveConfig`` but its run config."""

    hyperparameter_sampling: HyperParameterSampling
    policy: EarlyTerminationPolicy
    primary_metric_name: str
    primary_metric_goal: PrimaryMetricGoal
    max_total_runs: int
    max_concurrent_runs: int | None = None
    max_duration_minutes: int | float = 10080

    def config_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``HyperDriveConfig`` (add ``run_config``)."""
        return {
            "hyperparameter_sampling": self.hyperparameter_sampling,
            "policy": self.policy,
            "primary_metric_name": self.primary_metric_name,
            "primary_metric_goal": self.primary_metric_goal,
            "max_total_runs": self.max_total_runs,
            "max_concurrent_runs": self.max_concurrent_runs,
            "max_duration_minutes": self.max_duration_minutes,
        }

    def hyperdrive_config(self, run_config: Any) -> Any:
        """The ``HyperDriveConfig`` of this spec for ``run_config``."""
        from .config import HyperDriveConfig

        return HyperDriveConfig(run_config=run_config, **self.config_kwargs())

    @property
    def parameters(self) -> list[str]:
        return list(self.hyperparameter_sampling.parameter_space)


def _whole(name: str, value: Any, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgumentError(f"{name} must be a whole number of at least 1, got {value!r}")
    return value


def parse_spec(spec: Mapping[str, Any] | str) -> SweepSpec:
    """A sweep spec (a dict, or its JSON text) -> :class:`SweepSpec`. Every mistake is named with its fix."""
    if isinstance(spec, str):
        try:
            spec = json.loads(spec)
        except json.JSONDecodeError as exc:
            raise InvalidArgumentError(f"the sweep spec is not valid JSON: {exc}") from None
    if not isinstance(spec, Mapping):
        raise InvalidArgumentError(
            'a sweep spec is a JSON object such as {"parameters": {"--lr": "uniform(0.01, 0.1)"}, '
            f'"primary_metric": "acc", "goal": "max", "max_total_runs": 10}}, got {type(spec).__name__}'
        )
    unknown = sorted(set(spec) - set(SPEC_KEYS))
    if unknown:
        raise InvalidArgumentError(
            f"the sweep spec has unknown key(s) {', '.join(map(repr, unknown))}; the keys are {', '.join(SPEC_KEYS)}"
        )
    missing = [key for key in _REQUIRED if key not in spec]
    if missing:
        raise InvalidArgumentError(
            f"the sweep spec lacks {', '.join(map(repr, missing))}; e.g. "
            '{"parameters": {"--lr": "uniform(0.01, 0.1)"}, "primary_metric": "acc", "goal": "max", '
            '"max_total_runs": 10}'
        )
    parameters = spec["parameters"]
    if not isinstance(parameters, Mapping):
        raise InvalidArgumentError(
            'the sweep spec\'s "parameters" must be an object of name -> expression, e.g. '
            '{"--lr": "uniform(0.01, 0.1)", "epochs": "choice(2, 3)"}'
        )
    metric = spec["primary_metric"]
    if not isinstance(metric, str) or not metric.strip():
        raise InvalidArgumentError(
            f'"primary_metric" must name the metric the script logs, e.g. "accuracy"; got {metric!r}'
        )
    try:
        goal = PrimaryMetricGoal.parse(spec["goal"])
    except InvalidArgumentError:
        raise InvalidArgumentError(f'"goal" must be "max" or "min", got {spec["goal"]!r}') from None
    total = _whole("max_total_runs", spec["max_total_runs"], required=True)
    assert total is not None
    concurrent = _whole("max_concurrent_runs", spec.get("max_concurrent_runs"), required=False)
    duration = spec.get("max_duration_minutes", 10080)
    if isinstance(duration, bool) or not isinstance(duration, int | float) or duration <= 0:
        raise InvalidArgumentError(f"max_duration_minutes must be a number above 0, got {duration!r}")
    sampling = make_sampling(spec.get("sampling", "random"), parameter_space(parameters), spec.get("seed"))
    return SweepSpec(
        hyperparameter_sampling=sampling,
        policy=make_policy(spec.get("policy")),
        primary_metric_name=metric.strip(),
        primary_metric_goal=goal,
        max_total_runs=total,
        max_concurrent_runs=concurrent,
        max_duration_minutes=duration,
    )


def load_spec(value: str, folder: str | Path = ".") -> SweepSpec:
    """``%%submit --sweep VALUE``: inline JSON (``{...}``) or a JSON file, relative to ``folder``."""
    text = value.strip()
    if text.startswith("{"):
        return parse_spec(text)
    path = Path(folder) / text
    if not path.is_file():
        raise InvalidArgumentError(
            f"sweep spec file {text!r} not found in {Path(folder).resolve()}; give a JSON file next to the "
            "notebook, or the JSON itself"
        )
    try:
        return parse_spec(path.read_text(encoding="utf-8"))
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{path.name}: {exc.message}") from None
