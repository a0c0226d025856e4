"""Early termination policies: v1's classes, their JSON, and should_stop on hand-written curves."""

from __future__ import annotations

import inspect
import math

import pytest

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.sweeps.policies import (
    BanditPolicy,
    MedianStoppingPolicy,
    NoTerminationPolicy,
    TruncationSelectionPolicy,
    policy_from_json,
    should_stop,
)


def stopped(policy, goal: str, curves: dict, interval: int) -> dict[str, str]:
    """The runs the policy stops at ``interval``, with their reasons."""
    out = {}
    for run in curves:
        reason = should_stop(policy.to_json(), goal, curves, run, interval)
        if reason is not None:
            out[run] = reason
    return out


# -- v1's signatures


def test_v1_signatures() -> None:
    def params(cls) -> list[tuple[str, object]]:
        return [(p.name, p.default) for p in inspect.signature(cls).parameters.values()]

    empty = inspect.Parameter.empty
    assert params(BanditPolicy) == [
        ("evaluation_interval", 1),
        ("slack_factor", None),
        ("slack_amount", None),
        ("delay_evaluation", 0),
    ]
    assert params(MedianStoppingPolicy) == [("evaluation_interval", 1), ("delay_evaluation", 5)]
    assert params(TruncationSelectionPolicy) == [
        ("truncation_percentage", empty),
        ("evaluation_interval", 1),
        ("delay_evaluation", 0),
    ]
    assert params(NoTerminationPolicy) == []


# -- Bandit

CURVES = {
    "a": [0.5, 0.7, 0.8, 0.8, 0.8, 0.8],
    "b": [0.5, 0.6, 0.65, 0.7, 0.71, 0.71],
    "c": [0.6, 0.7, 0.75, 0.76, 0.77, 0.78],
}


def test_bandit_slack_amount_maximize() -> None:
    policy = BanditPolicy(slack_amount=0.05)
    assert stopped(policy, "maximize", CURVES, 6) == {"b": "BanditPolicy: 0.71 < best 0.80 - slack 0.05 at interval 6"}
    # at interval 2 the best is 0.70: b (0.60) is behind by more than 0.05, c (0.70) is the best
    assert stopped(policy, "maximize", CURVES, 2) == {"b": "BanditPolicy: 0.60 < best 0.70 - slack 0.05 at interval 2"}


def test_bandit_slack_factor_maximize() -> None:
    curves = {"a": [0.8] * 10, "b": [0.6] * 10, "c": [0.7] * 10}
    policy = BanditPolicy(slack_factor=0.2)
    # 0.8 / 1.2 = 0.667: b is below it, c is not
    assert stopped(policy, "maximize", curves, 10) == {"b": "BanditPolicy: 0.60 < best 0.80 / (1 + 0.2) at interval 10"}


def test_bandit_minimize() -> None:
    curves = {"a": [0.5, 0.3, 0.2], "b": [0.5, 0.4, 0.3], "c": [0.4, 0.3, 0.24]}
    assert stopped(BanditPolicy(slack_amount=0.05), "minimize", curves, 3) == {
        "b": "BanditPolicy: 0.30 > best 0.20 + slack 0.05 at interval 3"
    }
    curves = {"a": [0.5], "b": [0.61], "c": [0.59]}
    assert stopped(BanditPolicy(slack_factor=0.2), "minimize", curves, 1) == {
        "b": "BanditPolicy: 0.61 > best 0.50 * (1 + 0.2) at interval 1"
    }


def test_bandit_judges_a_run_by_its_best_value_so_far() -> None:
    curves = {"a": [0.8, 0.8], "b": [0.79, 0.1]}  # b dipped, but reached 0.79
    assert stopped(BanditPolicy(slack_amount=0.05), "maximize", curves, 2) == {}


def test_bandit_respects_evaluation_interval() -> None:
    policy = BanditPolicy(evaluation_interval=2, slack_amount=0.05)
    # b is behind at intervals 2 to 6, but the policy looks only at even intervals
    assert should_stop(policy.to_json(), "maximize", CURVES, "b", 5) is None
    assert should_stop(policy.to_json(), "maximize", CURVES, "b", 3) is None
    assert should_stop(policy.to_json(), "maximize", CURVES, "b", 4) is not None
    assert should_stop(policy.to_json(), "maximize", CURVES, "b", 6) is not None


def test_bandit_respects_delay_evaluation() -> None:
    policy = BanditPolicy(slack_amount=0.05, delay_evaluation=6)
    assert [should_stop(policy.to_json(), "maximize", CURVES, "b", k) is not None for k in range(1, 7)] == [
        False,
        False,
        False,
        False,
        False,
        True,
    ]
    # with an interval too: the multiples of 4 from 6 on, i.e. 8
    policy = BanditPolicy(evaluation_interval=4, slack_amount=0.05, delay_evaluation=6)
    long = {"a": [0.8] * 9, "b": [0.5] * 9}
    assert [k for k in range(1, 10) if should_stop(policy.to_json(), "maximize", long, "b", k)] == [8]


def test_only_runs_that_reached_the_interval_take_part() -> None:
    curves = {"a": [0.9, 0.9], "b": [0.5, 0.5, 0.5]}  # a finished after two values
    policy = BanditPolicy(slack_amount=0.05)
    assert should_stop(policy.to_json(), "maximize", curves, "b", 3) is None  # b alone at interval 3
    assert should_stop(policy.to_json(), "maximize", curves, "b", 2) is not None  # the finished a counts
    # a candidate that has not logged that many values is not judged
    assert should_stop(policy.to_json(), "maximize", curves, "a", 3) is None


# -- Median stopping


def test_median_stopping_maximize() -> None:
    curves = {"a": [0.6, 0.62, 0.61], "b": [0.5, 0.52, 0.5], "c": [0.7, 0.7, 0.7]}
    # running averages: a 0.61, b 0.507, c 0.70 -> median 0.61; b's best 0.52 is below
    policy = MedianStoppingPolicy(delay_evaluation=0)
    assert stopped(policy, "maximize", curves, 3) == {
        "b": "MedianStoppingPolicy: 0.52 < median 0.61 of running averages at interval 3"
    }


def test_median_stopping_minimize() -> None:
    curves = {"a": [0.4, 0.38, 0.39], "b": [0.5, 0.48, 0.5], "c": [0.3, 0.3, 0.3]}
    policy = MedianStoppingPolicy(delay_evaluation=0)
    assert stopped(policy, "minimize", curves, 3) == {
        "b": "MedianStoppingPolicy: 0.48 > median 0.39 of running averages at interval 3"
    }


def test_median_stopping_waits_five_intervals_by_default() -> None:
    curves = {"a": [0.9] * 6, "b": [0.1] * 6, "c": [0.8] * 6}
    policy = MedianStoppingPolicy()
    assert [k for k in range(1, 7) if should_stop(policy.to_json(), "maximize", curves, "b", k)] == [5, 6]
    policy = MedianStoppingPolicy(evaluation_interval=3, delay_evaluation=1)
    assert [k for k in range(1, 7) if should_stop(policy.to_json(), "maximize", curves, "b", k)] == [3, 6]


def test_a_lone_run_is_never_stopped() -> None:
    curves = {"a": [0.1, 0.2, 0.05, 0.01]}
    for policy in (
        BanditPolicy(slack_amount=0.0),
        MedianStoppingPolicy(delay_evaluation=0),
        TruncationSelectionPolicy(99),
    ):
        for goal in ("maximize", "minimize"):
            assert stopped(policy, goal, curves, 4) == {}


# -- Truncation selection

FIVE = {"a": [0.9] * 4, "b": [0.8] * 4, "c": [0.41] * 4, "d": [0.7] * 4, "e": [0.6] * 4}


def test_truncation_stops_the_lowest_percentage() -> None:
    assert stopped(TruncationSelectionPolicy(20), "maximize", FIVE, 4) == {
        "c": "TruncationSelectionPolicy: 0.41 is in the lowest 20% of 5 runs at interval 4"
    }
    assert set(stopped(TruncationSelectionPolicy(40), "maximize", FIVE, 4)) == {"c", "e"}
    # floor(5 * 19 / 100) = 0: nobody
    assert stopped(TruncationSelectionPolicy(19), "maximize", FIVE, 4) == {}


def test_truncation_minimize_stops_the_highest() -> None:
    assert stopped(TruncationSelectionPolicy(40), "minimize", FIVE, 4) == {
        "a": "TruncationSelectionPolicy: 0.90 is in the highest 40% of 5 runs at interval 4",
        "b": "TruncationSelectionPolicy: 0.80 is in the highest 40% of 5 runs at interval 4",
    }


def test_truncation_breaks_ties_by_run_order() -> None:
    curves = {"a": [0.5], "b": [0.5], "c": [0.9]}
    # floor(3 * 34 / 100) = 1 run to cut among the tied a and b: the later one
    assert set(stopped(TruncationSelectionPolicy(34), "maximize", curves, 1)) == {"b"}
    assert set(stopped(TruncationSelectionPolicy(34), "minimize", {"a": [0.9], "b": [0.9], "c": [0.1]}, 1)) == {"b"}


def test_truncation_respects_interval_and_delay() -> None:
    policy = TruncationSelectionPolicy(20, evaluation_interval=2, delay_evaluation=3)
    assert [k for k in range(1, 5) if should_stop(policy.to_json(), "maximize", FIVE, "c", k)] == [4]


# -- No termination


def test_no_termination_stops_nothing() -> None:
    curves = {"a": [0.9] * 3, "b": [0.0] * 3}
    assert stopped(NoTerminationPolicy(), "maximize", curves, 3) == {}
    assert should_stop(None, "maximize", curves, "b", 3) is None


# -- arguments, JSON, describe


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: BanditPolicy(), "exactly one of slack_factor"),
        (lambda: BanditPolicy(slack_factor=0.1, slack_amount=0.1), "exactly one of slack_factor"),
        (lambda: BanditPolicy(slack_factor=-0.1), "slack_factor must be a number >= 0"),
        (lambda: BanditPolicy(slack_amount="0.1"), "slack_amount must be a number"),
        (lambda: BanditPolicy(evaluation_interval=0, slack_factor=0.1), "evaluation_interval must be an int >= 1"),
        (lambda: BanditPolicy(slack_factor=0.1, delay_evaluation=-1), "delay_evaluation must be an int >= 0"),
        (lambda: MedianStoppingPolicy(evaluation_interval=1.5), "evaluation_interval"),
        (lambda: TruncationSelectionPolicy(0), "truncation_percentage must be an int between 1 and 99"),
        (lambda: TruncationSelectionPolicy(100), "between 1 and 99"),
        (lambda: TruncationSelectionPolicy(12.5), "between 1 and 99"),
    ],
)
def test_bad_arguments(make, words: str) -> None:
    with pytest.raises(InvalidArgumentError, match=words):
        make()


def test_should_stop_refuses_bad_calls() -> None:
    policy = BanditPolicy(slack_amount=0.1).to_json()
    with pytest.raises(InvalidArgumentError, match="goal"):
        should_stop(policy, "upwards", CURVES, "a", 1)
    with pytest.raises(InvalidArgumentError, match="interval"):
        should_stop(policy, "maximize", CURVES, "a", 0)
    with pytest.raises(InvalidArgumentError, match="'zz'"):
        should_stop(policy, "maximize", CURVES, "zz", 1)
    with pytest.raises(InvalidArgumentError, match="unknown early termination policy"):
        should_stop({"type": "coinflip"}, "maximize", CURVES, "a", 1)


def test_goal_is_case_insensitive() -> None:
    assert should_stop(BanditPolicy(slack_amount=0.05).to_json(), "MAXIMIZE", CURVES, "b", 6) is not None


@pytest.mark.parametrize(
    "policy",
    [
        BanditPolicy(slack_factor=0.1),
        BanditPolicy(evaluation_interval=2, slack_amount=0.05, delay_evaluation=4),
        MedianStoppingPolicy(),
        MedianStoppingPolicy(evaluation_interval=3, delay_evaluation=0),
        TruncationSelectionPolicy(25, evaluation_interval=2, delay_evaluation=1),
        NoTerminationPolicy(),
    ],
)
def test_policy_json_round_trip(policy) -> None:
    data = policy.to_json()
    back = policy_from_json(data)
    assert type(back) is type(policy) and back.to_json() == data and back == policy
    assert policy_from_json(policy) is policy
    assert isinstance(policy.describe(), str) and policy.describe()


def test_policy_json_and_descriptions() -> None:
    assert BanditPolicy(slack_factor=0.1, delay_evaluation=5).to_json() == {
        "type": "bandit",
        "evaluation_interval": 1,
        "delay_evaluation": 5,
        "slack_factor": 0.1,
        "slack_amount": None,
    }
    assert policy_from_json(None) == NoTerminationPolicy()
    assert BanditPolicy(evaluation_interval=2, slack_factor=0.1, delay_evaluation=5).describe() == (
        "Bandit: stops a run behind the best run by more than slack factor 0.1; "
        "checked every 2 intervals from interval 6"
    )
    assert "median" in MedianStoppingPolicy().describe() and "from interval 5" in MedianStoppingPolicy().describe()
    assert "worst 20%" in TruncationSelectionPolicy(20).describe()
    assert NoTerminationPolicy().describe().startswith("No early termination")


def test_infinite_values_count_as_no_value() -> None:
    # A diverged trial (inf) is not the best one: the others are not stopped for being behind it.
    curves = {"a": [math.inf], "b": [0.8], "c": [0.75]}
    assert should_stop(BanditPolicy(slack_amount=0.1).to_json(), "maximize", curves, "c", 1) is None
    from jupyter_mlws.sweeps.driver import best_value

    assert best_value([math.inf, 0.5, math.nan], "maximize") == 0.5
    assert best_value([-math.inf], "minimize") is None
