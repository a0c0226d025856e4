"""Drift measures (issue 20): the drifted columns found on both sizes, the measures equal scipy's, the
magnitude grows with the shift, nulls and unseen categories are counted, bad input is refused, figures draw."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.monitoring.figures import contribution_figure, distribution_figure, magnitude_figure
from jupyter_mlws.monitoring.measures import (
    CATEGORICAL,
    MAX_FEATURES,
    MEASURE_NAMES,
    MIN_ROWS,
    NUMERIC,
    DriftResult,
    compare,
    distributions,
    feature_kinds,
    feature_measures,
)
from tests.support.drift_data import CATEGORICAL as CATEGORICAL_COLUMNS
from tests.support.drift_data import COLUMNS, DRIFTED, drift_frame
from tests.support.drift_data import NUMERIC as NUMERIC_COLUMNS


@pytest.fixture(scope="module")
def drifted_10k() -> DriftResult:
    return compare(drift_frame(10_000, seed=1), drift_frame(10_000, seed=2, shift=1.0))


@pytest.fixture(scope="module")
def drifted_100k() -> DriftResult:
    return compare(drift_frame(100_000, seed=3), drift_frame(100_000, seed=4, shift=1.0))


def flagged(result: DriftResult) -> set[str]:
    return {name for name, feature in result.features.items() if feature.drifted}


def by_contribution(result: DriftResult) -> list[str]:
    return sorted(result.features, key=lambda name: -result.features[name].contribution)


# -- the drifted columns, on both sizes ----------------------------------------------------------------------
@pytest.mark.parametrize("size", ["drifted_10k", "drifted_100k"])
def test_exactly_the_drifted_columns_are_flagged_and_lead_the_contributions(
    size: str, request: pytest.FixtureRequest
) -> None:
    result: DriftResult = request.getfixturevalue(size)
    assert list(result.features) == list(COLUMNS)
    assert flagged(result) == set(DRIFTED)
    assert set(by_contribution(result)[:3]) == set(DRIFTED)
    assert sum(f.contribution for f in result.features.values()) == pytest.approx(1.0)
    assert 50 < result.magnitude <= 100 and result.coefficient == pytest.approx(result.magnitude / 100)
    # More than 1,000 target rows: a distance decides (Evidently's rule).
    for name in NUMERIC_COLUMNS:
        assert result.features[name].method == "normalized_wasserstein_distance>=0.1"
    for name in CATEGORICAL_COLUMNS:
        assert result.features[name].method == "jensen_shannon_distance>=0.1"
    # A shift of one standard deviation is a normalized Wasserstein distance of about 1.
    for name in ("n3", "n11"):
        assert result.features[name].measures["normalized_wasserstein_distance"] == pytest.approx(1.0, abs=0.05)


def test_a_small_target_is_judged_by_ks_and_chi2_p_values() -> None:
    baseline, target = drift_frame(5_000, seed=5), drift_frame(800, seed=6, shift=1.0)
    result = compare(baseline, target)
    assert set(DRIFTED) <= flagged(result)
    for name in NUMERIC_COLUMNS:
        assert result.features[name].method == "ks_statistic p<0.05"
    for name in CATEGORICAL_COLUMNS:
        assert result.features[name].method == "chi2 p<0.05"
    # stattest_threshold replaces the p-value threshold: the drifted columns' p-values are far below it.
    strict = compare(baseline, target, stattest_threshold=1e-6)
    assert flagged(strict) == set(DRIFTED)
    assert strict.features["n0"].method == "ks_statistic p<1e-06"


def test_stattest_threshold_replaces_the_distance_threshold(drifted_10k: DriftResult) -> None:
    baseline, target = drift_frame(2_000, seed=1), drift_frame(2_000, seed=2, shift=1.0)
    loose = compare(baseline, target, ["n3", "c1", "n0"], stattest_threshold=0.5)
    assert flagged(loose) == {"n3"}  # JS of c1 is about 0.18 < 0.5; n3's distance about 1.0
    assert loose.features["c1"].method == "jensen_shannon_distance>=0.5"


def test_magnitude_grows_with_the_shift() -> None:
    baseline = drift_frame(3_000, seed=7)
    magnitudes = [compare(baseline, drift_frame(3_000, seed=8, shift=s)).magnitude for s in (0, 0.25, 0.5, 1.0, 2.0)]
    assert magnitudes == sorted(magnitudes) and len(set(magnitudes)) == len(magnitudes), magnitudes
    assert magnitudes[0] < 5 and magnitudes[-1] > 80


def test_no_drift_has_a_magnitude_near_zero_and_no_drifted_feature() -> None:
    result = compare(drift_frame(10_000, seed=9), drift_frame(10_000, seed=10))
    assert result.magnitude < 5
    assert flagged(result) == set()
    total = sum(f.contribution for f in result.features.values())
    assert total == pytest.approx(1.0) if result.magnitude > 0 else total == 0


def test_the_same_seed_gives_the_same_result() -> None:
    baseline, target = drift_frame(1_500, seed=11), drift_frame(1_500, seed=12, shift=0.5)
    assert compare(baseline, target, seed=3).to_json() == compare(baseline, target, seed=3).to_json()


# -- the measures themselves ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("base_rows", "target_rows"),
    [(300, 200), (10_000, 9_990), (20_000, 15_000)],  # exact KS p-value (equal, unequal sizes) and asymptotic
)
def test_numeric_measures_equal_scipys(base_rows: int, target_rows: int) -> None:
    baseline = drift_frame(base_rows, seed=13)
    target = drift_frame(target_rows, seed=14, shift=0.05, drifted=("n5", "n7"))
    features = ["n5", "n7", "n9"]  # integers with many ties, a normal, uniform integers
    result = compare(baseline, target, features)
    for name in features:
        a, b = baseline[name].to_numpy(float), target[name].to_numpy(float)
        measures = result.features[name].measures
        ks = stats.ks_2samp(a, b)
        assert measures["wasserstein_distance"] == pytest.approx(stats.wasserstein_distance(a, b), rel=1e-9)
        assert measures["normalized_wasserstein_distance"] == pytest.approx(
            stats.wasserstein_distance(a, b) / np.std(a), rel=1e-9
        )
        assert measures["ks_statistic"] == ks.statistic
        assert measures["p_value"] == pytest.approx(ks.pvalue, rel=1e-9, abs=1e-300)
        assert measures["jensen_shannon_distance"] is None


def test_numeric_psi_uses_the_baselines_deciles() -> None:
    baseline, target = drift_frame(4_000, seed=15), drift_frame(3_000, seed=16, shift=0.3)
    psi = compare(baseline, target, ["n3"]).features["n3"].measures["population_stability_index"]
    edges = np.quantile(baseline["n3"], np.linspace(0, 1, 11)[1:-1])
    base_share = np.bincount(np.searchsorted(edges, baseline["n3"], side="left"), minlength=10) / len(baseline)
    target_share = np.bincount(np.searchsorted(edges, target["n3"], side="left"), minlength=10) / len(target)
    assert base_share == pytest.approx(np.full(10, 0.1), abs=1e-3)
    expected = np.sum((target_share - base_share) * np.log(target_share / base_share))
    assert psi == pytest.approx(expected, rel=1e-9)
    assert psi > 0.1  # 0.3 standard deviations: a "moderate" shift on PSI's usual scale


def test_categorical_measures_equal_scipys_and_js_is_within_0_and_1(drifted_10k: DriftResult) -> None:
    baseline, target = drift_frame(10_000, seed=1), drift_frame(10_000, seed=2, shift=1.0)
    for name in CATEGORICAL_COLUMNS:
        counts = pd.concat([baseline[name].value_counts(), target[name].value_counts()], axis=1).fillna(0)
        b, t = counts.iloc[:, 0].to_numpy(), counts.iloc[:, 1].to_numpy()
        measures = drifted_10k.features[name].measures
        js = measures["jensen_shannon_distance"]
        assert js is not None and 0 <= js <= 1
        assert js == pytest.approx(jensenshannon(b / b.sum(), t / t.sum(), base=2), rel=1e-9)
        assert measures["p_value"] == pytest.approx(stats.chi2_contingency(np.vstack([b, t])).pvalue, abs=1e-12)
        psi = np.sum((t / t.sum() - b / b.sum()) * np.log((t / t.sum()) / (b / b.sum())))
        assert measures["population_stability_index"] == pytest.approx(psi, rel=1e-9)
        assert {k for k, v in measures.items() if v is None} == {
            "wasserstein_distance",
            "normalized_wasserstein_distance",
            "ks_statistic",
        }


def test_to_json_has_every_measure_and_v1s_names(drifted_10k: DriftResult) -> None:
    out = json.loads(json.dumps(drifted_10k.to_json()))  # plain JSON types only
    assert set(out) == {"magnitude", "datadrift_coefficient", "baseline_rows", "target_rows", "features"}
    assert out["baseline_rows"] == out["target_rows"] == 10_000
    feature = out["features"]["n3"]
    assert set(feature) == {
        "kind",
        "datadrift_contribution",
        *MEASURE_NAMES,
        "drifted",
        "method",
        "null_count",
        "unseen_category_count",
    }
    assert feature["kind"] == NUMERIC and out["features"]["c1"]["kind"] == CATEGORICAL


# -- nulls and unseen categories -----------------------------------------------------------------------------
def test_nulls_are_dropped_and_counted() -> None:
    baseline, target = drift_frame(2_000, seed=17), drift_frame(2_000, seed=18)
    target = target.astype({"c2": object})
    target.loc[:99, "n0"] = np.nan
    target.loc[100:104, "n0"] = np.inf  # not a distance: counted with the nulls
    target.loc[:49, "c2"] = None
    result = compare(baseline, target, ["n0", "c2"])
    assert result.features["n0"].null_count == 105 and result.features["n0"].target_count == 1_895
    assert result.features["c2"].null_count == 50 and result.features["c2"].target_count == 1_950
    kept = target["n0"].iloc[105:].to_numpy(float)
    expected = stats.wasserstein_distance(baseline["n0"], kept)
    assert result.features["n0"].measures["wasserstein_distance"] == pytest.approx(expected, rel=1e-9)


def test_an_all_null_column_has_no_measures_and_does_not_drift() -> None:
    baseline, target = drift_frame(500, seed=19), drift_frame(500, seed=20)
    target["n1"] = np.nan
    target["c0"] = pd.Series([None] * len(target), dtype=object)
    result = compare(baseline, target, ["n1", "c0", "n2"])
    for name in ("n1", "c0"):
        feature = result.features[name]
        assert feature.measures == dict.fromkeys(MEASURE_NAMES)
        assert not feature.drifted and feature.null_count == 500 and feature.target_count == 0
    assert result.features["n2"].measures["ks_statistic"] is not None


def test_unseen_categories_are_counted_as_bins_of_their_own() -> None:
    baseline, target = drift_frame(3_000, seed=21), drift_frame(3_000, seed=22)
    target.loc[:299, "c3"] = "never-seen"
    target.loc[300:309, "c3"] = "also-new"
    result = compare(baseline, target, ["c3", "n0"])
    c3 = result.features["c3"]
    assert c3.unseen_category_count == 310 and c3.null_count == 0
    assert result.features["n0"].unseen_category_count == 0
    shares = distributions(baseline, target, {"c3": CATEGORICAL})["c3"]
    assert "never-seen" in shares["categories"]
    assert shares["baseline"][shares["categories"].index("never-seen")] == 0


def test_a_target_of_only_unseen_categories_does_not_crash() -> None:
    baseline = drift_frame(1_000, seed=23)
    target = drift_frame(1_000, seed=24)
    target["c1"] = [f"new{i % 3}" for i in range(len(target))]
    feature = compare(baseline, target, ["c1", "n0"]).features["c1"]
    assert feature.unseen_category_count == 1_000 and feature.drifted
    assert feature.measures["jensen_shannon_distance"] == pytest.approx(1.0)  # disjoint supports


def test_a_stray_string_in_a_numeric_target_column_counts_as_null() -> None:
    baseline, target = drift_frame(500, seed=25), drift_frame(500, seed=26)
    target["n4"] = target["n4"].astype(object)
    target.loc[0, "n4"] = "n/a"
    assert compare(baseline, target, ["n4"]).features["n4"].null_count == 1


def test_category_dtype_and_strings_give_the_same_measures() -> None:
    baseline, target = drift_frame(2_000, seed=27), drift_frame(2_000, seed=28, shift=1.0)
    as_strings = compare(baseline, target, ["c1"]).features["c1"].measures
    categorical = compare(baseline.astype({"c1": "category"}), target.astype({"c1": "category"}), ["c1"])
    assert categorical.features["c1"].measures == pytest.approx(as_strings)


# -- kinds and bad input -------------------------------------------------------------------------------------
def test_feature_kinds() -> None:
    frame = pd.DataFrame(
        {
            "f": [1.5, 2.5],
            "i": [1, 2],
            "nullable": pd.array([1, None], dtype="Int64"),
            "b": [True, False],
            "s": ["x", "y"],
            "cat": pd.Categorical(["x", "y"]),
            "when": pd.to_datetime(["2026-01-01", "2026-01-02"], utc=True),
        }
    )
    assert feature_kinds(frame) == {
        "f": NUMERIC,
        "i": NUMERIC,
        "nullable": NUMERIC,
        "b": CATEGORICAL,
        "s": CATEGORICAL,
        "cat": CATEGORICAL,
    }
    assert feature_kinds(frame, ["s", "when", "i"]) == {"s": CATEGORICAL, "i": NUMERIC}


def test_the_features_default_to_the_columns_both_sides_share() -> None:
    baseline = drift_frame(200, seed=29)
    target = drift_frame(200, seed=30)[["n0", "c0", "n1"]].assign(extra=1.0)
    baseline["timestamp"] = pd.Timestamp("2026-01-01", tz="UTC")
    target["timestamp"] = pd.Timestamp("2026-02-01", tz="UTC")
    assert list(compare(baseline, target).features) == ["n0", "n1", "c0"]  # the baseline's order


def _too_many_features() -> tuple[pd.DataFrame, pd.DataFrame]:
    frame = pd.DataFrame(np.zeros((MIN_ROWS, MAX_FEATURES + 1)), columns=[f"x{i}" for i in range(MAX_FEATURES + 1)])
    return frame, frame


BAD_INPUT = {
    "a short baseline": (lambda: (drift_frame(MIN_ROWS - 1, 1), drift_frame(500, 2)), {}, "the baseline has 49 rows"),
    "a short target": (lambda: (drift_frame(500, 1), drift_frame(12, 2)), {}, "the target has 12 rows"),
    "too many features": (_too_many_features, {}, f"{MAX_FEATURES + 1} features"),
    "an unknown feature": (lambda: (drift_frame(100, 1), drift_frame(100, 2)), {"features": ["n0", "nope"]}, "nope"),
    "a feature the target lacks": (
        lambda: (drift_frame(100, 1), drift_frame(100, 2).drop(columns="n4")),
        {"features": ["n4"]},
        "the target has no column ['n4']",
    ),
    "no feature in common": (
        lambda: (drift_frame(100, 1)[["n0"]], drift_frame(100, 2)[["n1"]]),
        {},
        "no feature in common",
    ),
    "only time columns": (
        lambda: (pd.DataFrame({"t": pd.date_range("2026-01-01", periods=100)}),) * 2,
        {"features": ["t"]},
        "no features to compare",
    ),
    "a feature named twice": (
        lambda: (drift_frame(100, 1), drift_frame(100, 2)),
        {"features": ["n0", "n0"]},
        "named more than once",
    ),
    "a string for the feature list": (
        lambda: (drift_frame(100, 1), drift_frame(100, 2)),
        {"features": "n0"},
        "must be a list",
    ),
    "a negative threshold": (
        lambda: (drift_frame(100, 1), drift_frame(100, 2)),
        {"stattest_threshold": -0.1},
        "stattest_threshold -0.1",
    ),
    "too few classifier rows": (
        lambda: (drift_frame(100, 1), drift_frame(100, 2)),
        {"max_classifier_rows": 10},
        "max_classifier_rows 10",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_one_clear_error(case: str) -> None:
    make, options, words = BAD_INPUT[case]
    baseline, target = make()
    with pytest.raises(InvalidArgumentError) as caught:
        compare(baseline, target, **options)
    assert words in str(caught.value)


def test_the_error_for_a_short_interval_names_the_fix() -> None:
    with pytest.raises(InvalidArgumentError, match=r"at least 50 .* choose a longer interval"):
        compare(drift_frame(100, 1), drift_frame(10, 2))


# -- distributions and figures -------------------------------------------------------------------------------
def test_distributions_are_shares_of_the_non_null_values() -> None:
    baseline, target = drift_frame(2_000, seed=31), drift_frame(1_000, seed=32, shift=1.0)
    baseline["many"] = [f"k{i % 30}" for i in range(len(baseline))]
    target["many"] = [f"k{i % 25}" for i in range(len(target))]
    out = distributions(baseline, target, {**feature_kinds(baseline, ["n3", "c1"]), "many": CATEGORICAL}, bins=15)
    json.dumps(out)
    assert len(out["n3"]["edges"]) == 16 and len(out["n3"]["baseline"]) == 15
    for dist in out.values():
        assert sum(dist["baseline"]) == pytest.approx(1.0) and sum(dist["target"]) == pytest.approx(1.0)
    assert len(out["many"]["categories"]) == 21 and out["many"]["categories"][-1] == "(other)"


def test_figures_build(drifted_10k: DriftResult) -> None:
    baseline, target = drift_frame(1_000, seed=1), drift_frame(1_000, seed=2, shift=1.0)
    dists = distributions(baseline, target, {"n3": NUMERIC, "c1": CATEGORICAL})
    points = [
        {"start_date": "2026-11-02T00:00:00+00:00", "magnitude": 3.0, "drift_threshold": 0.2},
        {"start_date": "2026-11-09T00:00:00+00:00", "magnitude": None, "drift_threshold": 0.2},
        {"start_date": "2026-11-16T00:00:00+00:00", "magnitude": 76.0, "drift_threshold": 0.2},
    ]
    magnitude = magnitude_figure(points)
    assert magnitude.layout.shapes[0].y0 == 20  # the threshold line, on the magnitude's 0..100 scale
    contributions = contribution_figure(drifted_10k.to_json())
    assert set(contributions.data[0].y[-3:]) == set(DRIFTED)  # largest at the top
    as_view = {"features": [{"name": "a", "contribution": 0.7, "drifted": True}, {"name": "b", "contribution": 0.3}]}
    assert list(contribution_figure(as_view).data[0].y) == ["b", "a"]
    for figure in (
        magnitude,
        contributions,
        distribution_figure("n3", dists["n3"]),
        distribution_figure("c1", dists["c1"]),
    ):
        assert json.loads(figure.to_json())["data"]


def test_many_categories_share_the_classifiers_last_code() -> None:
    baseline, target = drift_frame(3_000, seed=33), drift_frame(3_000, seed=34)
    rng = np.random.default_rng(33)
    # More categories than the classifier's 254 bins; in the target a new one takes every third row.
    baseline["id"] = [f"u{i}" for i in rng.integers(0, 400, len(baseline))]
    target["id"] = rng.choice(baseline["id"].to_numpy(), len(target))  # only categories the baseline has
    target.loc[::3, "id"] = "new"
    result = compare(baseline, target, ["id", "n0", "c0"])
    assert result.features["id"].unseen_category_count == 1_000
    assert by_contribution(result)[0] == "id" and result.magnitude > 20


def test_contributions_fall_back_to_permutation_importance(monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_mlws.monitoring import measures

    monkeypatch.setattr(measures, "_split_gains", lambda model, n_features: None)  # a model without split gains
    result = compare(drift_frame(2_000, seed=35), drift_frame(2_000, seed=36, shift=1.0), ["n0", "n3", "c1", "c2"])
    assert set(by_contribution(result)[:2]) == {"n3", "c1"}
    assert sum(f.contribution for f in result.features.values()) == pytest.approx(1.0)


def test_feature_measures_are_compares_without_the_classifier(drifted_10k: DriftResult) -> None:
    alone = feature_measures(drift_frame(10_000, seed=1), drift_frame(10_000, seed=2, shift=1.0))
    assert {name: f.measures for name, f in alone.items()} == {
        name: f.measures for name, f in drifted_10k.features.items()
    }
    assert all(f.contribution == 0 for f in alone.values())
    with pytest.raises(InvalidArgumentError, match="the target has 3 rows"):
        feature_measures(drift_frame(100, 1), drift_frame(3, 2))
