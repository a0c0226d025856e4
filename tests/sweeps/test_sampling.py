"""Sampling: v1's classes, their JSON, and the samplers a sweep asks for each child's values."""

from __future__ import annotations

import itertools
import logging
import os
import random
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.sweeps.expressions import choice, loguniform, normal, qnormal, quniform, randint, uniform
from jupyter_mlws.sweeps.sampling import (
    BayesianParameterSampling,
    GridParameterSampling,
    RandomParameterSampling,
    Sampler,
    Trial,
    make_sampler,
    sampling_from_json,
)

ROOT = Path(__file__).resolve().parents[2]


# -- grid


def test_grid_is_exhaustive_and_in_order_last_key_fastest() -> None:
    space = {"--lr": choice(0.1, 0.01), "--batch": choice(16, 32, 64), "--act": choice("relu", "tanh")}
    sampler = make_sampler(GridParameterSampling(space).to_json(), seed=0)
    assert sampler.size == 12
    points = [sampler.suggest(i, []) for i in range(sampler.size)]
    expected = [dict(zip(space, combo, strict=True)) for combo in itertools.product(*(e.args for e in space.values()))]
    assert points == expected
    assert points[0] == {"--lr": 0.1, "--batch": 16, "--act": "relu"}
    assert points[1] == {"--lr": 0.1, "--batch": 16, "--act": "tanh"}
    assert sampler.suggest(12, []) is None
    assert sampler.suggest(100, []) is None
    assert GridParameterSampling(space).size == 12


def test_grid_is_deterministic_whatever_the_seed() -> None:
    sampling = GridParameterSampling({"a": choice(1, 2, 3)}).to_json()
    assert [make_sampler(sampling, seed=1).suggest(i, []) for i in range(3)] == [
        make_sampler(sampling, seed=2).suggest(i, []) for i in range(3)
    ]


def test_grid_refuses_anything_but_choice() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'--lr' is uniform\(.*only choice"):
        GridParameterSampling({"--batch": choice(16, 32), "--lr": uniform(0.01, 0.1)})


def test_negative_index_is_refused() -> None:
    sampler = make_sampler(GridParameterSampling({"a": choice(1, 2)}).to_json(), seed=0)
    with pytest.raises(InvalidArgumentError, match="index"):
        sampler.suggest(-1, [])


# -- random

SPACE = {
    "--lr": loguniform(-7, -1),
    "--batch": choice(16, 32, 64),
    "--layers": randint(4),
    "--dropout": uniform(0.0, 0.5),
    "--width": quniform(32, 512, 32),
    "--noise": normal(0, 1),
    "--q": qnormal(0, 3, 0.5),
}


def test_random_is_reproducible_with_a_seed() -> None:
    sampling = RandomParameterSampling(SPACE).to_json()
    first = [make_sampler(sampling, seed=42).suggest(i, []) for i in range(20)]
    again = [make_sampler(sampling, seed=42).suggest(i, []) for i in range(20)]
    other = [make_sampler(sampling, seed=43).suggest(i, []) for i in range(20)]
    assert first == again
    assert first != other
    assert all(a != b for a, b in zip(first, other, strict=True))  # continuous values never coincide
    assert len({p["--dropout"] for p in first}) == 20  # each index its own draw


def test_random_draw_i_does_not_depend_on_earlier_draws() -> None:
    sampling = RandomParameterSampling(SPACE).to_json()
    in_order = make_sampler(sampling, seed=7)
    values = [in_order.suggest(i, []) for i in range(10)]
    fresh = make_sampler(sampling, seed=7)
    assert fresh.suggest(9, []) == values[9]  # a resumed sweep draws child 9's values again
    assert fresh.suggest(3, []) == values[3]
    assert fresh.suggest(3, []) == values[3]


def test_random_values_stay_in_the_space() -> None:
    sampler = make_sampler(RandomParameterSampling(SPACE, seed=5).to_json(), seed=0)
    assert sampler.size is None
    for i in range(300):
        p = sampler.suggest(i, [])
        assert p is not None and list(p) == list(SPACE)
        assert p["--batch"] in (16, 32, 64)
        assert p["--layers"] in range(4)
        assert 0.0 <= p["--dropout"] <= 0.5
        assert isinstance(p["--width"], int) and p["--width"] % 32 == 0


def test_the_samplings_own_seed_wins_over_the_sweeps() -> None:
    seeded = RandomParameterSampling(SPACE, seed=11).to_json()
    assert make_sampler(seeded, seed=1).suggest(0, []) == make_sampler(seeded, seed=2).suggest(0, [])
    unseeded = RandomParameterSampling(SPACE).to_json()
    assert make_sampler(unseeded, seed=11).suggest(0, []) == make_sampler(seeded, seed=99).suggest(0, [])


def test_a_dict_in_second_place_is_v1s_properties() -> None:
    sampling = RandomParameterSampling({"a": uniform(0, 1)}, {"note": "x"})
    assert sampling.properties == {"note": "x"} and sampling.seed is None
    bayes = BayesianParameterSampling({"a": uniform(0, 1)}, {"note": "y"})
    assert bayes.properties == {"note": "y"} and bayes.seed is None
    assert RandomParameterSampling({"a": uniform(0, 1)}, 3).seed == 3
    with pytest.raises(InvalidArgumentError, match="seed"):
        RandomParameterSampling({"a": uniform(0, 1)}, seed="3")  # type: ignore[arg-type]


# -- the space and JSON


@pytest.mark.parametrize("space", [{}, {"": choice(1)}, {"  ": choice(1)}, {3: choice(1)}, {"a": [1, 2]}, [1]])
def test_bad_spaces_are_refused(space) -> None:
    with pytest.raises(InvalidArgumentError):
        RandomParameterSampling(space)


@pytest.mark.parametrize(
    "sampling",
    [
        GridParameterSampling({"--C": choice(0.1, 1, 10), "--kernel": choice("linear", "rbf")}),
        RandomParameterSampling(SPACE),
        RandomParameterSampling(SPACE, seed=3, properties={"k": 1}),
        BayesianParameterSampling({"--C": uniform(0.1, 10), "--n": quniform(1, 9, 1), "--k": choice("a", "b")}),
        BayesianParameterSampling({"--C": uniform(0.1, 10)}, seed=8),
    ],
)
def test_sampling_json_round_trip(sampling) -> None:
    data = sampling.to_json()
    assert data["type"] in ("grid", "random", "bayesian")
    assert set(data) >= {"type", "space", "seed"}
    assert list(data["space"]) == list(sampling.parameter_space)
    back = sampling_from_json(data)
    assert type(back) is type(sampling) and back.to_json() == data and back == sampling


def test_sampling_json_is_plain_json() -> None:
    import json

    data = RandomParameterSampling({"--lr": uniform(0.01, 0.1), "--b": choice(1, 2)}, seed=1).to_json()
    assert json.loads(json.dumps(data)) == data
    assert data == {
        "type": "random",
        "space": {"--lr": ["uniform", [0.01, 0.1]], "--b": ["choice", [[1, 2]]]},
        "seed": 1,
    }


@pytest.mark.parametrize("bad", [{"type": "sobol", "space": {"a": ["choice", [[1]]]}}, {"space": {}}, None])
def test_unknown_sampling_json_is_refused(bad) -> None:
    with pytest.raises(InvalidArgumentError):
        sampling_from_json(bad)


def test_bad_goal_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="maximize"):
        make_sampler(RandomParameterSampling({"a": uniform(0, 1)}).to_json(), seed=0, goal="up")


# -- Bayesian


@pytest.mark.parametrize("expr", [randint(3), loguniform(-3, 0), normal(0, 1), qnormal(0, 1, 1)])
def test_bayesian_takes_only_choice_uniform_and_quniform(expr) -> None:
    with pytest.raises(InvalidArgumentError, match="only choice, uniform and quniform"):
        BayesianParameterSampling({"--a": choice(1, 2), "--b": expr})


def test_optuna_is_imported_only_for_a_bayesian_sampler() -> None:
    code = (
        "import sys\n"
        "from jupyter_mlws.sweeps import expressions, policies, sampling\n"
        "s = sampling.make_sampler(sampling.RandomParameterSampling({'a': expressions.uniform(0, 1)}).to_json(), 0)\n"
        "s.suggest(0, [])\n"
        "assert 'optuna' not in sys.modules, 'optuna imported eagerly'\n"
        "sampling.make_sampler(sampling.BayesianParameterSampling({'a': expressions.uniform(0, 1)}).to_json(), 0)\n"
        "assert 'optuna' in sys.modules\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


BAYES_SPACE = {"--x": uniform(0.0, 1.0), "--n": quniform(0, 20, 2), "--opt": choice("adam", "sgd", None)}


def score(p: dict) -> float:
    return -((p["--x"] - 0.8) ** 2) - (p["--n"] - 14) ** 2 / 400 + (0.1 if p["--opt"] == "adam" else 0.0)


def run_bayesian(sampler: Sampler, start: int, n: int, history: list[Trial]) -> list[Trial]:
    for i in range(start, start + n):
        values = sampler.suggest(i, history)
        assert values is not None
        history.append(Trial(index=i, values=values, metric=score(values), state="completed"))
    return history


def test_bayesian_suggestions_stay_in_the_space() -> None:
    sampler = make_sampler(BayesianParameterSampling(BAYES_SPACE).to_json(), seed=3)
    assert sampler.size is None
    history = run_bayesian(sampler, 0, 25, [])  # past the 10 random startup trials
    for trial in history:
        p = trial.values
        assert list(p) == list(BAYES_SPACE)
        assert 0.0 <= p["--x"] <= 1.0
        assert isinstance(p["--n"], int) and p["--n"] % 2 == 0 and 0 <= p["--n"] <= 20
        assert p["--opt"] in ("adam", "sgd", None)


def test_bayesian_is_reproducible_and_repeats_an_index_it_gave() -> None:
    sampling = BayesianParameterSampling(BAYES_SPACE).to_json()
    a = run_bayesian(make_sampler(sampling, seed=5), 0, 15, [])
    b = run_bayesian(make_sampler(sampling, seed=5), 0, 15, [])
    assert [t.values for t in a] == [t.values for t in b]
    sampler = make_sampler(sampling, seed=5)
    first = sampler.suggest(0, [])
    assert sampler.suggest(0, []) == first  # a retried submit gets the same values


def test_finished_trials_in_history_steer_the_sampler() -> None:
    sampling = BayesianParameterSampling(BAYES_SPACE).to_json()
    told = make_sampler(sampling, seed=9)
    blind = make_sampler(sampling, seed=9)
    told_history: list[Trial] = []
    blind_history: list[Trial] = []
    for i in range(20):
        t = told.suggest(i, told_history)
        b = blind.suggest(i, blind_history)
        assert t is not None and b is not None
        told_history.append(Trial(i, t, score(t), "completed"))
        blind_history.append(Trial(i, b, None, "running"))  # never finishes: the sampler learns nothing
    told_values = [t.values for t in told_history]
    blind_values = [t.values for t in blind_history]
    assert told_values[:10] == blind_values[:10]  # the random startup trials do not look at history
    assert told_values[10:] != blind_values[10:]
    # the informed sampler closes in on x = 0.8
    near = statistics.median(abs(v["--x"] - 0.8) for v in told_values[10:])
    assert near < 0.2


def test_a_resumed_sampler_learns_from_trials_it_never_asked() -> None:
    # another sampler's history, as a sweep resumed after a crash finds it
    rng = random.Random(1)
    history: list[Trial] = []
    for i in range(30):
        values = {"--x": rng.uniform(0, 1), "--n": rng.randrange(0, 21, 2), "--opt": rng.choice(["adam", "sgd", None])}
        state = ("completed", "completed", "failed", "canceled")[i % 4]
        metric = None if state == "failed" else score(values)
        history.append(Trial(i, values, metric, state))
    history.append(Trial(30, {"--x": 0.5, "--n": 4, "--opt": "adam"}, None, "running"))
    history.append(Trial(31, {"--x": 7.0, "--n": 4, "--opt": "adam"}, 9.0, "completed"))  # outside the space
    history.append(Trial(32, {"--y": 1}, 1.0, "completed"))  # another space altogether
    resumed = make_sampler(BayesianParameterSampling(BAYES_SPACE).to_json(), seed=4)
    suggestions = []
    for i in range(33, 43):
        values = resumed.suggest(i, history)
        assert values is not None and 0.0 <= values["--x"] <= 1.0
        suggestions.append(values)
        history.append(Trial(i, values, score(values), "completed"))
    # past TPE's startup already: its first suggestions use what the history taught it
    assert statistics.median(abs(v["--x"] - 0.8) for v in suggestions) < 0.2
    assert sum(v["--opt"] == "adam" for v in suggestions) >= 5


def test_failed_and_canceled_trials_it_asked_are_told_once() -> None:
    sampler = make_sampler(BayesianParameterSampling(BAYES_SPACE).to_json(), seed=6)
    history: list[Trial] = []
    for i in range(16):
        values = sampler.suggest(i, history)
        assert values is not None
        state = ("completed", "failed", "canceled", "running")[i % 4]
        metric = None if state in ("failed", "running") else score(values)
        history.append(Trial(i, values, metric, state))
    # the same history again, with the running ones now finished: each outcome is told once, without error
    history = [Trial(t.index, t.values, score(t.values), "completed") if t.state == "running" else t for t in history]
    for i in range(16, 20):
        values = sampler.suggest(i, history)
        assert values is not None and 0.0 <= values["--x"] <= 1.0
        assert sampler.suggest(i, history) == values


def test_bayesian_minimize_looks_for_the_low_values() -> None:
    sampling = BayesianParameterSampling({"--x": uniform(0.0, 1.0)}).to_json()
    sampler = make_sampler(sampling, seed=2, goal="minimize")
    history: list[Trial] = []
    for i in range(25):
        values = sampler.suggest(i, history)
        assert values is not None
        history.append(Trial(i, values, (values["--x"] - 0.2) ** 2, "completed"))
    assert statistics.median(abs(t.values["--x"] - 0.2) for t in history[10:]) < 0.15


def test_a_bayesian_sampler_silences_optunas_info_logging() -> None:
    import optuna

    optuna.logging.set_verbosity(logging.INFO)
    make_sampler(BayesianParameterSampling({"--x": uniform(0, 1)}).to_json(), seed=0)
    assert optuna.logging.get_verbosity() == logging.WARNING


def noisy_quadratic(p: dict, rng: random.Random) -> float:
    return (p["x"] - 1.3) ** 2 + 2 * (p["y"] + 0.7) ** 2 + rng.gauss(0, 0.05)


def best_of_sweeps(sampling_class: type, sweeps: int = 10, trials: int = 30) -> float:
    space = {"x": uniform(-5, 5), "y": uniform(-5, 5)}
    bests = []
    for sweep in range(sweeps):
        sampler = make_sampler(sampling_class(space).to_json(), seed=sweep, goal="minimize")
        noise = random.Random(1000 + sweep)
        history: list[Trial] = []
        for i in range(trials):
            values = sampler.suggest(i, history)
            assert values is not None
            history.append(Trial(i, values, noisy_quadratic(values, noise), "completed"))
        bests.append(min(t.metric for t in history if t.metric is not None))
    return statistics.fmean(bests)


def test_bayesian_beats_random_on_a_noisy_quadratic() -> None:
    bayesian = best_of_sweeps(BayesianParameterSampling)
    random_ = best_of_sweeps(RandomParameterSampling)
    assert bayesian < random_, (bayesian, random_)


@pytest.mark.parametrize("seed", [-1, 2**32, 2**40])
def test_a_seed_out_of_range_is_refused_when_the_sampling_is_made(seed: int) -> None:
    for sampling in (RandomParameterSampling, BayesianParameterSampling):
        with pytest.raises(InvalidArgumentError, match="2\\*\\*32"):
            sampling({"--x": uniform(0, 1)}, seed=seed)
