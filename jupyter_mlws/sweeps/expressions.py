"""Parameter expressions of a sweep's search space (v1's ``azureml.train.hyperdrive.parameter_expressions``).

Each function returns a :class:`ParameterExpression` whose JSON form is v1's list form ``[kind, [args...]]``
(``choice`` keeps v1's nesting: ``["choice", [[options...]]]``). :func:`draw` samples one value.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jupyter_mlws.errors import InvalidArgumentError

__all__ = [
    "ParameterExpression",
    "choice",
    "draw",
    "lognormal",
    "loguniform",
    "normal",
    "qlognormal",
    "qloguniform",
    "qnormal",
    "quniform",
    "randint",
    "uniform",
]

# kind -> names of its arguments (the order of v1's list form)
_SIGNATURES: dict[str, tuple[str, ...]] = {
    "choice": ("options",),
    "randint": ("upper",),
    "uniform": ("min_value", "max_value"),
    "quniform": ("min_value", "max_value", "q"),
    "loguniform": ("min_value", "max_value"),
    "qloguniform": ("min_value", "max_value", "q"),
    "normal": ("mu", "sigma"),
    "qnormal": ("mu", "sigma", "q"),
    "lognormal": ("mu", "sigma"),
    "qlognormal": ("mu", "sigma", "q"),
}


def _is_number(value: Any) -> bool:
    # bool is an int to Python, never a bound or a scale to a user
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _is_scalar(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)  # NaN and inf are not JSON
    return value is None or isinstance(value, str | int | bool)


def _call(kind: str, args: Sequence[Any]) -> str:
    names = _SIGNATURES.get(kind, ())
    if kind == "choice":
        return f"choice({', '.join(map(repr, args))})"
    return f"{kind}({', '.join(f'{n}={a!r}' for n, a in zip(names, args, strict=False))})"


def _validate(kind: str, args: tuple[Any, ...]) -> None:
    if kind not in _SIGNATURES:
        raise InvalidArgumentError(
            f"unknown parameter expression {kind!r}: use one of {', '.join(sorted(_SIGNATURES))}"
        )
    where = _call(kind, args)
    if kind == "choice":
        if not args:
            raise InvalidArgumentError("choice(): give at least one option, e.g. choice(0.01, 0.1) or choice([16, 32])")
        bad = [a for a in args if not _is_scalar(a)]
        if bad:
            raise InvalidArgumentError(
                f"{where}: option {bad[0]!r} is not a JSON scalar; options must be str, int, float, bool or None"
            )
        return
    names = _SIGNATURES[kind]
    if len(args) != len(names):
        raise InvalidArgumentError(f"{where}: takes {len(names)} arguments ({', '.join(names)}), got {len(args)}")
    for name, value in zip(names, args, strict=True):
        if not _is_number(value):
            raise InvalidArgumentError(f"{where}: {name} must be a finite number, got {value!r}")
    if kind == "randint":
        (upper,) = args
        if not isinstance(upper, int) or upper < 1:
            raise InvalidArgumentError(f"{where}: upper must be an int >= 1 (values are drawn from [0, upper))")
        return
    if "min_value" in names and not args[0] < args[1]:
        raise InvalidArgumentError(f"{where}: min_value must be less than max_value; swap or widen them")
    if "sigma" in names and args[1] <= 0:
        raise InvalidArgumentError(f"{where}: sigma must be greater than 0")
    if "q" in names and args[2] <= 0:
        raise InvalidArgumentError(f"{where}: q must be greater than 0 (values are rounded to multiples of q)")
    if kind in ("loguniform", "qloguniform"):
        # the bounds are exponents: exp(710) overflows a float
        for name, value in zip(names[:2], args[:2], strict=True):
            if abs(value) > 700:
                raise InvalidArgumentError(
                    f"{where}: {name} is an exponent (values are exp(uniform(min_value, max_value))); "
                    f"pass e.g. math.log(1e-3), not 1e-3's size itself"
                )
    if kind in ("lognormal", "qlognormal") and abs(args[0]) + 20 * args[1] > 700:
        # mu and sigma describe log(value): exp() of a draw this far out overflows a float
        raise InvalidArgumentError(
            f"{where}: mu and sigma are those of log(value) (values are exp(normal(mu, sigma))); "
            f"pass e.g. mu=math.log(100), sigma=0.5"
        )


@dataclass(frozen=True)
class ParameterExpression:
    """One parameter's distribution: ``kind`` (e.g. ``"uniform"``) and its ``args``."""

    kind: str
    args: tuple[Any, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.args, tuple):
            object.__setattr__(self, "args", tuple(self.args))
        _validate(self.kind, self.args)

    def to_json(self) -> list[Any]:
        """v1's list form, ``[kind, [args...]]`` (``["choice", [[options...]]]`` for choice)."""
        if self.kind == "choice":
            return ["choice", [list(self.args)]]
        return [self.kind, list(self.args)]

    @classmethod
    def from_json(cls, obj: Any) -> ParameterExpression:
        """Parse v1's list form (or return a ParameterExpression as is)."""
        if isinstance(obj, ParameterExpression):
            return obj
        if (
            not isinstance(obj, list | tuple)
            or len(obj) != 2
            or not isinstance(obj[0], str)
            or not isinstance(obj[1], list | tuple)
        ):
            raise InvalidArgumentError(
                f"not a parameter expression: {obj!r}; expected v1's list form [kind, [args...]], "
                f'e.g. ["uniform", [0.01, 0.1]]'
            )
        kind, args = obj[0], list(obj[1])
        if kind == "choice":
            return choice(*args)
        return cls(kind, tuple(args))

    def __str__(self) -> str:
        return _call(self.kind, self.args)


def choice(*options: Any) -> ParameterExpression:
    """One of ``options`` (a single list, tuple or range stands for its items)."""
    if len(options) == 1 and isinstance(options[0], list | tuple | range):
        options = tuple(options[0])
    return ParameterExpression("choice", tuple(options))


def randint(upper: int) -> ParameterExpression:
    """A random integer in [0, upper)."""
    return ParameterExpression("randint", (upper,))


def uniform(min_value: float, max_value: float) -> ParameterExpression:
    """A value uniformly distributed between min_value and max_value."""
    return ParameterExpression("uniform", (min_value, max_value))


def quniform(min_value: float, max_value: float, q: float) -> ParameterExpression:
    """``round(uniform(min_value, max_value) / q) * q``."""
    return ParameterExpression("quniform", (min_value, max_value, q))


def loguniform(min_value: float, max_value: float) -> ParameterExpression:
    """``exp(uniform(min_value, max_value))``: the bounds are exponents, the values lie in [e^min, e^max]."""
    return ParameterExpression("loguniform", (min_value, max_value))


def qloguniform(min_value: float, max_value: float, q: float) -> ParameterExpression:
    """``round(exp(uniform(min_value, max_value)) / q) * q``."""
    return ParameterExpression("qloguniform", (min_value, max_value, q))


def normal(mu: float, sigma: float) -> ParameterExpression:
    """A value normally distributed with mean mu and standard deviation sigma."""
    return ParameterExpression("normal", (mu, sigma))


def qnormal(mu: float, sigma: float, q: float) -> ParameterExpression:
    """``round(normal(mu, sigma) / q) * q``."""
    return ParameterExpression("qnormal", (mu, sigma, q))


def lognormal(mu: float, sigma: float) -> ParameterExpression:
    """``exp(normal(mu, sigma))``."""
    return ParameterExpression("lognormal", (mu, sigma))


def qlognormal(mu: float, sigma: float, q: float) -> ParameterExpression:
    """``round(exp(normal(mu, sigma)) / q) * q``."""
    return ParameterExpression("qlognormal", (mu, sigma, q))


def quantize(value: float, q: float, as_int: bool) -> int | float:
    """``round(value / q) * q``; an int when ``as_int``, else a float without binary noise (0.3, not
    0.30000000000000004), since the value ends up in a script's argv and in the run's parameters."""
    steps = round(value / q)
    if as_int:
        return int(steps * q)
    exponent = Decimal(repr(float(q))).as_tuple().exponent
    result = steps * q
    if isinstance(exponent, int) and exponent < 0:
        result = round(result, -exponent)
    return float(result)


def draw(expr: ParameterExpression, rng: random.Random) -> Any:
    """One value of ``expr`` drawn with ``rng``."""
    kind, args = expr.kind, expr.args
    if kind == "choice":
        return args[rng.randrange(len(args))]
    if kind == "randint":
        return rng.randrange(args[0])
    if kind in ("uniform", "quniform", "loguniform", "qloguniform"):
        x = rng.uniform(args[0], args[1])
    else:
        x = rng.normalvariate(args[0], args[1])
    if kind in ("loguniform", "qloguniform", "lognormal", "qlognormal"):
        x = math.exp(x)
    if kind.startswith("q"):
        return quantize(x, args[2], all(isinstance(a, int) for a in args))
    return x
