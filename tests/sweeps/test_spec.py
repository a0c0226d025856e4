"""A sweep given as text (``jupyter_mlws.sweeps.spec``): parameters read with ast (never evaluated), the
CLI's ``--policy`` and the JSON sweep spec of ``%%submit --sweep``; every mistake named with its fix."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import (
    BanditPolicy,
    BayesianParameterSampling,
    GridParameterSampling,
    HyperDriveConfig,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    PrimaryMetricGoal,
    RandomParameterSampling,
    ScriptRunConfig,
    TruncationSelectionPolicy,
    choice,
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
from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.sweeps.spec import (
    load_spec,
    parse_expression,
    parse_parameter,
    parse_policy_option,
    parse_spec,
)


@pytest.mark.parametrize(
    ("text", "name", "expr"),
    [
        ("lr=uniform(0.01,0.1)", "--lr", uniform(0.01, 0.1)),
        ("epochs=choice(2,3)", "--epochs", choice(2, 3)),
        ("--C=loguniform(-3, 2)", "--C", loguniform(-3, 2)),
        ("-k=randint(5)", "-k", randint(5)),
        ("--learning-rate=quniform(1, 10, 1)", "--learning-rate", quniform(1, 10, 1)),
        ("x=qloguniform(0, 5, 2)", "--x", qloguniform(0, 5, 2)),
        ("x=normal(0, 1.5)", "--x", normal(0, 1.5)),
        ("x=qnormal(10, 2, 0.5)", "--x", qnormal(10, 2, 0.5)),
        ("x=lognormal(0, 1)", "--x", lognormal(0, 1)),
        ("x=qlognormal(0, 1, 1)", "--x", qlognormal(0, 1, 1)),
        ("act=choice('relu', \"tanh\")", "--act", choice("relu", "tanh")),
        ("layers=choice([16, 32, 64])", "--layers", choice(16, 32, 64)),
        ("n=choice(range(2, 5))", "--n", choice(2, 3, 4)),
        ("flag=choice(true, False, None, null)", "--flag", choice(True, False, None, None)),
        ("lr = uniform( min_value=-1 , max_value=+1 )", "--lr", uniform(-1, 1)),
        ("C=loguniform(log(0.001), math.log(10))", "--C", loguniform(math.log(0.001), math.log(10))),
    ],
)
def test_parameters_parse_into_names_and_expressions(text: str, name: str, expr: Any) -> None:
    assert parse_parameter(text) == (name, expr)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("lr", "write NAME=EXPRESSION"),
        ("=uniform(0, 1)", "write NAME=EXPRESSION"),
        ("lr=", "write NAME=EXPRESSION"),
        ("1lr=uniform(0, 1)", "not an argument name"),
        ("lr=uniform(0.1", "check the parentheses"),
        ("lr=gauss(0, 1)", "use one of choice, randint"),
        ("lr=__import__('os').system('echo hacked')", "not a parameter expression"),
        ("lr=uniform(0.01)", "missing 1 required positional argument"),
        ("lr=uniform(0.1, 0.01)", "min_value must be less than max_value"),
        ("lr=uniform(a, 1)", "'a' is not allowed"),
        ("lr=uniform([0], 1)", "only inside choice"),
        ("lr=uniform(1, 2, q=3)", "unexpected keyword argument 'q'"),
        ("lr=choice()", "at least one option"),
        ("lr=choice([1], [2])", "one list"),
        ("lr=choice(*x)", "*arguments are not allowed"),
        ("lr=randint(0)", "upper must be an int >= 1"),
        ("lr=normal(0, -1)", "sigma must be greater than 0"),
        ("lr=choice(open('x'))", "is not allowed"),
        ("lr=loguniform(log(0), 1)", "needs a number above 0"),
    ],
)
def test_bad_parameters_say_what_is_wrong_and_how_to_fix_it(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_parameter(text)
    message = str(info.value)
    assert says in message and repr(text) in message  # names the bad piece


def test_expressions_are_read_not_evaluated(tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    with pytest.raises(InvalidArgumentError):
        parse_expression(f"choice(open({str(marker)!r}, 'w'))")
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "policy"),
    [
        ("bandit:slack_factor=0.1", BanditPolicy(slack_factor=0.1)),
        ("bandit:slack_amount=0.05,evaluation_interval=2,delay_evaluation=3", BanditPolicy(2, None, 0.05, 3)),
        ("median", MedianStoppingPolicy()),
        ("median:delay_evaluation=1", MedianStoppingPolicy(delay_evaluation=1)),
        ("truncation:20", TruncationSelectionPolicy(20)),
        ("truncation:30,evaluation_interval=2", TruncationSelectionPolicy(30, evaluation_interval=2)),
        ("truncation_selection:truncation_percentage=10", TruncationSelectionPolicy(10)),
        ("none", NoTerminationPolicy()),
    ],
)
def test_policy_option(text: str, policy: Any) -> None:
    assert parse_policy_option(text) == policy


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("bandit", "exactly one of slack_factor"),
        ("hyperband", "use one of bandit, median, truncation, none"),
        ("bandit:slack=0.1", "unknown setting(s) slack"),
        ("bandit:slack_factor", "settings are key=value"),
        ("bandit:slack_factor=lots", "must be a number"),
        ("truncation", "needs truncation_percentage"),
        ("truncation:150", "truncation_percentage"),
    ],
)
def test_bad_policy_options(text: str, says: str) -> None:
    with pytest.raises(InvalidArgumentError, match=None) as info:
        parse_policy_option(text)
    assert says in str(info.value)


SPEC: dict[str, Any] = {
    "sampling": "random",
    "parameters": {"--lr": "uniform(0.01, 0.1)", "epochs": "choice(2, 3)", "--C": ["loguniform", [-3, 2]]},
    "primary_metric": "acc",
    "goal": "max",
    "max_total_runs": 20,
    "max_concurrent_runs": 2,
    "max_duration_minutes": 30,
    "seed": 7,
    "policy": {"type": "bandit", "slack_factor": 0.1, "evaluation_interval": 1, "delay_evaluation": 0},
}


def test_a_json_spec_gives_the_sampling_policy_and_config(tmp_path: Path) -> None:
    spec = parse_spec(json.dumps(SPEC))
    assert spec.hyperparameter_sampling == RandomParameterSampling(
        {"--lr": uniform(0.01, 0.1), "--epochs": choice(2, 3), "--C": loguniform(-3, 2)}, seed=7
    )
    assert spec.parameters == ["--lr", "--epochs", "--C"]
    assert spec.policy == BanditPolicy(slack_factor=0.1)
    kwargs = spec.config_kwargs()
    assert kwargs["primary_metric_goal"] == PrimaryMetricGoal.MAXIMIZE
    assert (kwargs["max_total_runs"], kwargs["max_concurrent_runs"], kwargs["max_duration_minutes"]) == (20, 2, 30)
    config = spec.hyperdrive_config(ScriptRunConfig(source_directory=tmp_path, script="train.py"))
    assert isinstance(config, HyperDriveConfig)
    assert config.primary_metric_name == "acc" and config.max_concurrent_runs == 2
    # the smallest spec: random sampling, no policy, concurrency = the total
    small = parse_spec(
        {"parameters": {"x": "randint(3)"}, "primary_metric": "loss", "goal": "min", "max_total_runs": 3}
    )
    assert isinstance(small.hyperparameter_sampling, RandomParameterSampling)
    assert small.policy == NoTerminationPolicy() and small.primary_metric_goal == PrimaryMetricGoal.MINIMIZE
    grid = parse_spec({**SPEC, "sampling": "grid", "seed": None, "parameters": {"a": "choice(1, 2)"}})
    assert isinstance(grid.hyperparameter_sampling, GridParameterSampling)
    bayes = parse_spec({**SPEC, "sampling": "Bayesian", "parameters": {"a": "uniform(0, 1)"}, "policy": None})
    assert isinstance(bayes.hyperparameter_sampling, BayesianParameterSampling)
    # from a file next to the notebook, or inline
    (tmp_path / "sweep.json").write_text(json.dumps(SPEC))
    assert load_spec("sweep.json", tmp_path) == load_spec(json.dumps(SPEC), tmp_path) == spec


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"sampling": "hyperband"}, "use one of random, grid, bayesian"),
        ({"parameters": {}}, "at least one parameter"),
        ({"parameters": ["--lr"]}, '"parameters" must be an object'),
        ({"parameters": {"--lr": "uniform(1)"}}, "parameter '--lr'"),
        ({"parameters": {"--lr": ["gauss", [0, 1]]}}, "unknown parameter expression 'gauss'"),
        ({"parameters": {"--lr": "uniform(0, 1)", "lr": "uniform(0, 2)"}}, "'--lr' is given twice"),
        ({"goal": "up"}, '"goal" must be "max" or "min"'),
        ({"primary_metric": ""}, '"primary_metric" must name the metric'),
        ({"max_total_runs": 0}, "max_total_runs must be a whole number"),
        ({"max_concurrent_runs": 1.5}, "max_concurrent_runs must be a whole number"),
        ({"max_duration_minutes": -1}, "max_duration_minutes must be a number above 0"),
        ({"seed": "x"}, "seed must be a whole number"),
        ({"sampling": "grid"}, "grid sampling is not random"),
        ({"sampling": "grid", "seed": None}, "grid sampling takes only choice"),
        ({"policy": {"type": "bandit"}}, "exactly one of slack_factor"),
        ({"policy": {"type": "median", "slack_factor": 1}}, "unknown setting(s) slack_factor"),
        ({"policy": 3}, "policy must be an object"),
        ({"metric": "acc"}, "unknown key(s) 'metric'; the keys are sampling, parameters"),
    ],
)
def test_bad_specs_name_the_piece_and_the_fix(change: dict[str, Any], says: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_spec({**SPEC, **change})
    assert says in str(info.value)


def test_spec_text_and_files_that_are_not_specs(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="not valid JSON"):
        parse_spec("{'single': 'quotes'}")
    with pytest.raises(InvalidArgumentError, match="is a JSON object"):
        parse_spec("[1, 2]")
    missing = {k: v for k, v in SPEC.items() if k not in ("goal", "max_total_runs")}
    with pytest.raises(InvalidArgumentError, match="lacks 'goal', 'max_total_runs'"):
        parse_spec(missing)
    with pytest.raises(InvalidArgumentError, match=r"sweep spec file 'nope\.json' not found"):
        load_spec("nope.json", tmp_path)
    (tmp_path / "bad.json").write_text(json.dumps({**SPEC, "goal": "sideways"}))
    with pytest.raises(InvalidArgumentError, match=r"^bad.json: \"goal\" must be"):
        load_spec("bad.json", tmp_path)


def test_an_expression_nested_too_deeply_or_too_long_is_a_clear_error() -> None:
    from jupyter_mlws.sweeps.spec import parse_expression

    with pytest.raises(InvalidArgumentError, match="nested too deeply"):
        parse_expression("choice(1" + "+1" * 4000 + ")")
    with pytest.raises(InvalidArgumentError, match="characters long"):
        parse_expression("choice(" + ", ".join(["1"] * 6000) + ")")
