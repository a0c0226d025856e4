"""Parameter expressions: v1's functions, their JSON list form, and the ranges of their draws."""

from __future__ import annotations

import math
import random
import statistics

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.sweeps.expressions import (
    ParameterExpression,
    choice,
    draw,
    lognormal,
    loguniform,
    normal,
    qlognormal,
    qloguniform,
    qnormal,
    quniform,
    randint,
    uniform,
)

N = 2000


def draws(expr: ParameterExpression, seed: int = 7, n: int = N) -> list:
    rng = random.Random(seed)
    return [draw(expr, rng) for _ in range(n)]


def is_multiple(value: float, q: float) -> bool:
    return abs(value / q - round(value / q)) < 1e-9


def test_choice_forms_and_values() -> None:
    assert choice(1, 2, 3) == choice([1, 2, 3]) == choice((1, 2, 3)) == choice(range(1, 4))
    assert choice(1, 2, 3).args == (1, 2, 3)
    values = draws(choice("a", "b", None, True, 0.5))
    assert set(values) == {"a", "b", None, True, 0.5}


def test_randint_stays_in_zero_to_upper() -> None:
    values = draws(randint(5))
    assert all(isinstance(v, int) for v in values)
    assert set(values) == {0, 1, 2, 3, 4}


def test_uniform_stays_in_its_bounds() -> None:
    values = draws(uniform(-2, 3))
    assert all(-2 <= v <= 3 for v in values)
    assert min(values) < -1.5 and max(values) > 2.5  # spread over the range, not stuck in a corner


def test_quniform_gives_multiples_of_q() -> None:
    values = draws(quniform(0, 1, 0.1))
    assert all(isinstance(v, float) and is_multiple(v, 0.1) and -0.05 <= v <= 1.05 for v in values)
    assert 0.3 in values  # no binary noise such as 0.30000000000000004
    ints = draws(quniform(0, 100, 5))
    assert all(isinstance(v, int) and v % 5 == 0 and 0 <= v <= 100 for v in ints)


def test_loguniform_bounds_are_exponents() -> None:
    values = draws(loguniform(math.log(1e-3), math.log(1e-1)))
    assert all(1e-3 * (1 - 1e-12) <= v <= 1e-1 * (1 + 1e-12) for v in values)
    # uniform in log space: about half the draws below the geometric middle 1e-2
    below = sum(v < 1e-2 for v in values) / len(values)
    assert 0.4 < below < 0.6


def test_qloguniform_gives_multiples_of_q_in_range() -> None:
    values = draws(qloguniform(math.log(1), math.log(1000), 10.0))
    assert all(isinstance(v, float) and is_multiple(v, 10) and 0 <= v <= 1000 for v in values)
    ints = draws(qloguniform(0, 5, 2))
    assert all(isinstance(v, int) and v % 2 == 0 and 0 <= v <= math.exp(5) + 1 for v in ints)


def test_normal_mean_and_sd() -> None:
    values = draws(normal(10, 2))
    assert abs(statistics.fmean(values) - 10) < 0.3
    assert 1.8 < statistics.stdev(values) < 2.2


def test_qnormal_gives_multiples_of_q() -> None:
    values = draws(qnormal(0, 5, 0.5))
    assert all(isinstance(v, float) and is_multiple(v, 0.5) for v in values)
    assert abs(statistics.fmean(values)) < 0.6
    assert all(isinstance(v, int) and v % 3 == 0 for v in draws(qnormal(10, 4, 3)))


def test_lognormal_is_exp_of_a_normal() -> None:
    values = draws(lognormal(1, 0.5))
    assert all(v > 0 for v in values)
    logs = [math.log(v) for v in values]
    assert abs(statistics.fmean(logs) - 1) < 0.1
    assert 0.4 < statistics.stdev(logs) < 0.6


def test_qlognormal_gives_non_negative_multiples_of_q() -> None:
    values = draws(qlognormal(2, 1, 0.25))
    assert all(isinstance(v, float) and v >= 0 and is_multiple(v, 0.25) for v in values)
    assert all(isinstance(v, int) and v >= 0 and v % 2 == 0 for v in draws(qlognormal(2, 1, 2)))


def test_draws_are_reproducible_with_the_same_generator_seed() -> None:
    expr = uniform(0, 1)
    assert draws(expr, seed=3, n=20) == draws(expr, seed=3, n=20)
    assert draws(expr, seed=3, n=20) != draws(expr, seed=4, n=20)


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: choice(), "at least one option"),
        (lambda: choice([]), "at least one option"),
        (lambda: choice([1, [2]]), "JSON scalar"),
        (lambda: choice(float("nan")), "JSON scalar"),
        (lambda: randint(0), "upper"),
        (lambda: randint(2.5), "upper"),
        (lambda: uniform(1, 1), "min_value must be less than max_value"),
        (lambda: uniform(2, 1), "min_value must be less than max_value"),
        (lambda: uniform("0", 1), "finite number"),
        (lambda: uniform(0, float("inf")), "finite number"),
        (lambda: uniform(True, 2), "finite number"),
        (lambda: quniform(0, 1, 0), "q must be greater than 0"),
        (lambda: qloguniform(0, 1, -1), "q must be greater than 0"),
        (lambda: loguniform(1e-3, 1e3), "exponent"),
        (lambda: normal(0, 0), "sigma must be greater than 0"),
        (lambda: lognormal(0, -1), "sigma must be greater than 0"),
        (lambda: qnormal(0, 1, 0), "q must be greater than 0"),
        (lambda: qlognormal(0, None, 1), "finite number"),
        (lambda: lognormal(1000, 1), "log\\(value\\)"),
    ],
)
def test_bad_arguments_name_the_expression_and_the_fix(make, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words) as info:
        make()
    assert "(" in str(info.value)  # the expression is named, e.g. "uniform(min_value=2, max_value=1)"


@pytest.mark.parametrize(
    "expr",
    [
        choice(16, 32, 64),
        choice("relu", "tanh", None, False),
        randint(10),
        uniform(0.01, 0.1),
        quniform(1, 10, 1),
        loguniform(-7, -1),
        qloguniform(0, 4, 0.5),
        normal(0, 1),
        qnormal(5, 2, 1),
        lognormal(0, 1),
        qlognormal(0, 1, 0.1),
    ],
)
def test_json_round_trip(expr: ParameterExpression) -> None:
    data = expr.to_json()
    assert data[0] == expr.kind and isinstance(data[1], list)
    assert ParameterExpression.from_json(data) == expr
    assert ParameterExpression.from_json(expr) is expr


def test_json_is_v1s_list_form() -> None:
    assert choice(1, 2).to_json() == ["choice", [[1, 2]]]
    assert uniform(0.01, 0.1).to_json() == ["uniform", [0.01, 0.1]]
    assert quniform(1, 10, 2).to_json() == ["quniform", [1, 10, 2]]
    assert randint(4).to_json() == ["randint", [4]]
    # a flat choice list (written by hand) reads too
    assert ParameterExpression.from_json(["choice", [1, 2]]) == choice(1, 2)


@pytest.mark.parametrize("bad", [None, "uniform", ["uniform"], ["nope", [1]], ["uniform", [1]], ["uniform", 1]])
def test_from_json_refuses_what_is_not_an_expression(bad) -> None:
    with pytest.raises(InvalidArgumentError):
        ParameterExpression.from_json(bad)
