"""How far a target sample has drifted from a baseline: per-feature measures and an overall magnitude.

Per feature (nulls dropped and counted; non-finite numbers count as nulls):

- **numeric** — the Wasserstein (earth mover's) distance, the same distance divided by the baseline's
  standard deviation (``normalized_wasserstein_distance``, unit-free: a shift of one standard deviation
  is 1.0), and the two-sample Kolmogorov-Smirnov statistic with its p-value;
- **categorical** — the Jensen-Shannon distance of the two category frequencies (base 2, so 0..1) and
  the p-value of a chi-squared test of homogeneity on the 2-by-k table of counts (categories the baseline
  never had are counted, and are bins of their own);
- both — the population stability index (PSI) over 10 bins: the baseline's deciles for a numeric
  feature, the categories for a categorical one; an empty bin counts as ``PSI_EPSILON``.

Which measure decides follows Evidently's default rule (``DataDriftPreset``): with at most 1,000 target
rows a statistical test decides — KS (numeric) or chi² (categorical), drifted at p < 0.05; with more,
tests flag differences too small to matter, so a distance decides — the normalized Wasserstein distance
(numeric) or the Jensen-Shannon distance (categorical), drifted at ≥ 0.1. ``stattest_threshold``
replaces whichever threshold applies.

Overall, the **drift magnitude** (Azure ML v1's definition): a domain classifier — scikit-learn's
``HistGradientBoostingClassifier``, which takes categories and NaN natively — learns to tell baseline
rows from target rows (at most ``max_classifier_rows`` of each side); its 3-fold cross-validated ROC
AUC maps 0.5 (indistinguishable) → 0 and 1.0 (fully separable) → 100. Each feature's **contribution**
is its share of the classifier's split gain (all 0 when the magnitude is 0: there is nothing to
attribute). The classifier sees nulls too, so a column that turns null raises the magnitude although
its own measures (None without values) do not call it drifted; and it pools categories with fewer than
about 10 rows, so drift spread thinly over many rare categories shows in the Jensen-Shannon distance
rather than in the magnitude.

Numeric measures share one sort per side: the KS statistic and the Wasserstein distance both read the
two empirical CDFs at the merged sample points, so they come from one stable merge (a linear pass over
two sorted runs) instead of the five sorts and four binary searches of calling scipy for each. Values
equal ``scipy.stats.wasserstein_distance`` and ``scipy.stats.ks_2samp`` (tests check it); up to 10,000
rows a side the KS test is scipy's own call, for its exact p-value.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from jupyter_mlws.errors import InvalidArgumentError

__all__ = [
    "CATEGORICAL",
    "MAX_FEATURES",
    "MEASURE_NAMES",
    "MIN_ROWS",
    "NUMERIC",
    "DriftResult",
    "FeatureDrift",
    "compare",
    "distributions",
    "feature_kinds",
    "feature_measures",
]

NUMERIC, CATEGORICAL = "numeric", "categorical"
MEASURE_NAMES = (
    "wasserstein_distance",
    "normalized_wasserstein_distance",
    "ks_statistic",
    "p_value",
    "jensen_shannon_distance",
    "population_stability_index",
)
MIN_ROWS = 50
MAX_FEATURES = 200

# Evidently's default rule: up to this many target rows a p-value decides, above it a distance.
SMALL_SAMPLE_ROWS = 1000
P_VALUE_THRESHOLD = 0.05
DISTANCE_THRESHOLD = 0.1
PSI_BINS = 10
PSI_EPSILON = 1e-4  # an empty bin's share (Evidently's), so that log(0) never happens
STD_FLOOR = 1e-3  # a constant baseline column: Evidently's floor for the normalizing standard deviation
# scipy.stats.ks_2samp computes an exact p-value up to this sample size, the asymptotic one above.
_EXACT_KS_MAX_ROWS = 10_000
# HistGradientBoostingClassifier takes at most 255 bins: 254 categories by frequency, the rest share one.
_MAX_CLASSIFIER_CATEGORIES = 254
_CV_FOLDS = 3
# The magnitude needs the classifier's AUC to about a percent, not a tuned model: 30 rounds of 15-leaf
# trees at a 0.3 learning rate gave the magnitudes of scikit-learn's defaults (up to 100 rounds of 31
# leaves at 0.1, early stopping) to within a point on the test data, in a third of the time.
_CLASSIFIER_OPTIONS: dict[str, Any] = {
    "max_iter": 30,
    "learning_rate": 0.3,
    "max_leaf_nodes": 15,
    "early_stopping": False,
}


# -- results -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureDrift:
    """One feature's measures (every name of ``MEASURE_NAMES``; ``None`` where not applicable)."""

    name: str
    kind: str
    measures: dict[str, float | None]
    drifted: bool
    method: str  # the measure and threshold that decided, e.g. "ks_statistic p<0.05"
    contribution: float  # 0..1: the domain classifier's importance share
    null_count: int  # nulls (and non-finite numbers) in the target
    unseen_category_count: int  # target rows whose category the baseline never had (0 for numeric)
    baseline_count: int  # non-null values compared
    target_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "datadrift_contribution": self.contribution,
            **self.measures,
            "drifted": self.drifted,
            "method": self.method,
            "null_count": self.null_count,
            "unseen_category_count": self.unseen_category_count,
        }


@dataclass(frozen=True)
class DriftResult:
    """The comparison of a target sample with a baseline: the magnitude and each feature's measures."""

    magnitude: float  # 0..100
    features: dict[str, FeatureDrift]  # in feature order
    baseline_rows: int
    target_rows: int

    @property
    def coefficient(self) -> float:
        """Azure ML v1's ``datadrift_coefficient``: the magnitude on 0..1."""
        return self.magnitude / 100.0

    def to_json(self) -> dict[str, Any]:
        return {
            "magnitude": self.magnitude,
            "datadrift_coefficient": self.coefficient,
            "baseline_rows": self.baseline_rows,
            "target_rows": self.target_rows,
            "features": {name: feature.to_json() for name, feature in self.features.items()},
        }


# -- features ----------------------------------------------------------------------------------------------
def _kind_of(dtype: Any) -> str | None:
    """NUMERIC, CATEGORICAL, or None for a time column (a timestamp orders rows; it never drifts)."""
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        return None
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        return CATEGORICAL
    if pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return NUMERIC
    return CATEGORICAL


def _check_feature_count(count: int) -> None:
    if count > MAX_FEATURES:
        raise InvalidArgumentError(
            f"{count} features: a drift check compares at most {MAX_FEATURES}; "
            f"pass a feature list of at most {MAX_FEATURES} column names"
        )


def _columns(frame: pd.DataFrame, shown: int = 20) -> str:
    """The frame's column names for an error message (the first ``shown`` of a wide frame)."""
    names = [str(c) for c in frame.columns]
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return f"{names[:shown]}{more}"


def feature_kinds(frame: pd.DataFrame, features: Sequence[str] | None = None) -> dict[str, str]:
    """``{feature: NUMERIC | CATEGORICAL}`` for ``features`` (default: every column), time columns left out.

    Numbers (not bool) are numeric; bool, strings, objects and pandas categoricals are categorical.
    """
    if isinstance(features, str):
        raise InvalidArgumentError(f"features must be a list of column names, not the string {features!r}")
    names: list[Any] = list(frame.columns) if features is None else list(features)
    duplicates = sorted({str(name) for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidArgumentError(f"features {duplicates} are named more than once; name each feature once")
    unknown = [name for name in names if name not in frame.columns]
    if unknown:
        raise InvalidArgumentError(f"unknown features {unknown}: name columns of the data, {_columns(frame)}")
    kinds = {name: kind for name in names if (kind := _kind_of(frame[name].dtype)) is not None}
    _check_feature_count(len(kinds))
    return kinds


def _resolve_features(baseline: pd.DataFrame, target: pd.DataFrame, features: Sequence[str] | None) -> dict[str, str]:
    if features is None:
        target_columns = set(target.columns)
        common = [name for name in baseline.columns if name in target_columns]
        kinds = feature_kinds(baseline, common)
        if not kinds:
            raise InvalidArgumentError(
                f"the baseline and the target have no feature in common (baseline columns {_columns(baseline)}, "
                f"target columns {_columns(target)}): compare data with the same columns"
            )
        return kinds
    kinds = feature_kinds(baseline, features)
    missing = [name for name in kinds if name not in target.columns]
    if missing:
        raise InvalidArgumentError(
            f"the target has no column {missing}: pass features both sides have (the target's columns are "
            f"{_columns(target)})"
        )
    if not kinds:
        raise InvalidArgumentError(f"no features to compare in {list(features)}: name numeric or categorical columns")
    return kinds


def _check_rows(baseline: pd.DataFrame, target: pd.DataFrame) -> None:
    for side, frame in (("baseline", baseline), ("target", target)):
        if len(frame) < MIN_ROWS:
            raise InvalidArgumentError(
                f"the {side} has {len(frame)} rows; a drift check needs at least {MIN_ROWS} on each side: "
                f"choose a longer interval or more {side} data"
            )


# -- numeric measures --------------------------------------------------------------------------------------
def _numeric_values(series: pd.Series) -> np.ndarray:
    """Float64 values with NaN for nulls, non-numbers (a stray string in a target column) and ±inf."""
    if not pd.api.types.is_numeric_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        series = pd.to_numeric(series.astype(object), errors="coerce")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    # ±inf has no place on a distance's axis: count it with the nulls.
    return np.where(np.isinf(values), np.nan, values)


def _sorted_finite(values: np.ndarray) -> np.ndarray:
    """The finite values in ascending order (NaN sorts last, so a slice drops it)."""
    ordered = np.sort(values)
    return ordered[: int(np.searchsorted(ordered, np.nan, side="left"))]


def _ecdf_distances(base: np.ndarray, target: np.ndarray) -> tuple[float, float]:
    """``(wasserstein, ks_statistic)`` of two sorted samples from one merge of their empirical CDFs."""
    n_base, n_target = len(base), len(target)
    merged = np.concatenate([base, target])
    # Two ascending runs: the stable sort (timsort) merges them in one linear pass.
    order = np.argsort(merged, kind="stable")
    points = merged[order]
    # Baseline values up to each merged point; int32 counts take numpy's vectorised cumsum (int64: 15x slower).
    count_type = np.int32 if len(merged) < np.iinfo(np.int32).max else np.int64
    base_seen: np.ndarray = np.cumsum(order < n_base, dtype=count_type)
    target_seen: np.ndarray = np.arange(1, len(merged) + 1, dtype=count_type) - base_seen
    # Counts divided as scipy divides them, so that the KS statistic is the same float.
    gaps = np.abs(base_seen / n_base - target_seen / n_target)
    # Wasserstein: the area between the CDFs; within a run of ties the step width is 0. (einsum, not
    # np.dot: BLAS would start threads for a sum this small.)
    wasserstein = float(np.einsum("i,i->", gaps[:-1], np.diff(points)))
    # KS reads the CDFs after a whole run of ties: only at the last copy of each value.
    last_of_value = np.append(points[1:] != points[:-1], True)
    return wasserstein, float(np.max(gaps, where=last_of_value, initial=0.0))


def _ks_test(base: np.ndarray, target: np.ndarray, statistic: float) -> tuple[float, float]:
    """``(statistic, p_value)`` of the two-sided KS test exactly as ``scipy.stats.ks_2samp`` gives them."""
    if max(len(base), len(target)) <= _EXACT_KS_MAX_ROWS:
        # The exact distribution: scipy's own computation (cheap on sorted input), which also rounds the
        # statistic to the test's lattice. It falls back to the asymptotic p-value with a RuntimeWarning
        # when the exact one overflows: the value is what counts here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            exact = stats.ks_2samp(base, target)
        return float(exact.statistic), float(exact.pvalue)
    large, small = sorted((float(len(base)), float(len(target))), reverse=True)
    p_value = stats.kstwo.sf(statistic, np.round(large * small / (large + small)))
    return statistic, float(np.clip(p_value, 0.0, 1.0))


def _psi(base_counts: np.ndarray, target_counts: np.ndarray) -> float:
    base_share = np.maximum(base_counts / base_counts.sum(), PSI_EPSILON)
    target_share = np.maximum(target_counts / target_counts.sum(), PSI_EPSILON)
    return float(np.sum((target_share - base_share) * np.log(target_share / base_share)))


def _quantile_bin_counts(base: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts of both sorted samples in the baseline's decile bins (ties merge bins)."""
    positions = np.linspace(0.0, 1.0, PSI_BINS + 1)[1:-1] * (len(base) - 1)
    low = np.floor(positions).astype(np.intp)
    high = np.minimum(low + 1, len(base) - 1)
    edges = np.unique(base[low] + (positions - low) * (base[high] - base[low]))  # np.quantile's "linear"
    counts = []
    for ordered in (base, target):
        below = np.searchsorted(ordered, edges, side="right")
        counts.append(np.diff(np.concatenate([[0], below, [len(ordered)]])))
    return counts[0], counts[1]


def _numeric_measures(base: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """Measures of two sorted, finite, non-empty samples."""
    wasserstein, ks = _ecdf_distances(base, target)
    ks, p_value = _ks_test(base, target, ks)
    return {
        "wasserstein_distance": wasserstein,
        "normalized_wasserstein_distance": wasserstein / max(float(np.std(base)), STD_FLOOR),
        "ks_statistic": ks,
        "p_value": p_value,
        "jensen_shannon_distance": None,
        "population_stability_index": _psi(*_quantile_bin_counts(base, target)),
    }


# -- categorical measures ----------------------------------------------------------------------------------
def _category_counts(base: pd.Series, target: pd.Series) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """The categories either side has (baseline's first, then unseen ones) and each side's counts."""
    base_counts = base.value_counts(dropna=True, sort=False)
    target_counts = target.value_counts(dropna=True, sort=False)
    categories = base_counts.index.append(target_counts.index.difference(base_counts.index, sort=False))
    b = base_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.int64)
    t = target_counts.reindex(categories, fill_value=0).to_numpy(dtype=np.int64)
    present = (b + t) > 0  # a pandas Categorical lists unused categories with count 0
    return categories[present], b[present], t[present]


def _chi2_p_value(base_counts: np.ndarray, target_counts: np.ndarray) -> float:
    """Chi-squared test of homogeneity: do both samples come from one category distribution?"""
    if len(base_counts) < 2:
        return 1.0  # one category: the two samples cannot differ
    return float(stats.chi2_contingency(np.vstack([base_counts, target_counts])).pvalue)


def _categorical_measures(base_counts: np.ndarray, target_counts: np.ndarray) -> dict[str, float | None]:
    return {
        "wasserstein_distance": None,
        "normalized_wasserstein_distance": None,
        "ks_statistic": None,
        "p_value": _chi2_p_value(base_counts, target_counts),
        "jensen_shannon_distance": float(jensenshannon(base_counts, target_counts, base=2)),
        "population_stability_index": _psi(base_counts, target_counts),
    }


# -- the decision ------------------------------------------------------------------------------------------
def _decide(kind: str, measures: Mapping[str, float | None], small: bool, threshold: float | None) -> tuple[bool, str]:
    """Evidently's default rule: ``(drifted, method)``."""
    if small:
        test = "ks_statistic" if kind == NUMERIC else "chi2"
        limit = P_VALUE_THRESHOLD if threshold is None else threshold
        p_value = measures["p_value"]
        return p_value is not None and p_value < limit, f"{test} p<{limit:g}"
    name = "normalized_wasserstein_distance" if kind == NUMERIC else "jensen_shannon_distance"
    limit = DISTANCE_THRESHOLD if threshold is None else threshold
    distance = measures[name]
    return distance is not None and distance >= limit, f"{name}>={limit:g}"


def _empty_measures() -> dict[str, float | None]:
    return dict.fromkeys(MEASURE_NAMES)


@dataclass(frozen=True)
class _Column:
    """A feature's two sides; a numeric one's also as float arrays (NaN for missing), which the measures
    and the classifier share."""

    kind: str
    baseline: pd.Series
    target: pd.Series
    baseline_values: np.ndarray | None = None
    target_values: np.ndarray | None = None

    @classmethod
    def of(cls, kind: str, baseline: pd.Series, target: pd.Series) -> _Column:
        if kind != NUMERIC:
            return cls(kind, baseline, target)
        return cls(kind, baseline, target, _numeric_values(baseline), _numeric_values(target))


def _feature_drift(name: str, column: _Column, small: bool, threshold: float | None) -> FeatureDrift:
    """One feature's measures and verdict (contribution 0 until the classifier speaks)."""
    kind, target, unseen = column.kind, column.target, 0
    if column.baseline_values is not None and column.target_values is not None:
        base, tgt = _sorted_finite(column.baseline_values), _sorted_finite(column.target_values)
        counts = (len(base), len(tgt))
        measures = _numeric_measures(base, tgt) if min(counts) else _empty_measures()
    else:
        _, base_counts, target_counts = _category_counts(column.baseline, target)
        counts = (int(base_counts.sum()), int(target_counts.sum()))
        unseen = int(target_counts[base_counts == 0].sum())
        measures = _categorical_measures(base_counts, target_counts) if min(counts) else _empty_measures()
    if min(counts):
        drifted, method = _decide(kind, measures, small, threshold)
    else:
        drifted, method = False, "none (no values on one side)"
    return FeatureDrift(
        name=name,
        kind=kind,
        measures=measures,
        drifted=bool(drifted),
        method=method,
        contribution=0.0,
        null_count=len(target) - counts[1],
        unseen_category_count=unseen,
        baseline_count=counts[0],
        target_count=counts[1],
    )


# -- the domain classifier ---------------------------------------------------------------------------------
def _category_codes(values: pd.Series) -> np.ndarray:
    """Float codes 0..254 by frequency (the rarest categories share 254), NaN for nulls."""
    codes, _ = pd.factorize(values, use_na_sentinel=True)
    valid = codes >= 0
    counts = np.bincount(codes[valid])
    if len(counts) > _MAX_CLASSIFIER_CATEGORIES:
        rank = np.empty(len(counts), dtype=np.intp)
        rank[np.argsort(-counts, kind="stable")] = np.arange(len(counts))
        codes = np.where(valid, np.minimum(rank[np.maximum(codes, 0)], _MAX_CLASSIFIER_CATEGORIES), -1)
    return np.where(valid, codes, np.nan)


def _design_matrix(columns: Sequence[_Column], base_rows: np.ndarray, target_rows: np.ndarray) -> np.ndarray:
    """The sampled rows of both sides, one float column per feature (categories as codes)."""
    matrix = np.empty((len(base_rows) + len(target_rows), len(columns)), dtype=np.float64)
    for j, column in enumerate(columns):
        if column.baseline_values is not None and column.target_values is not None:
            matrix[:, j] = np.concatenate([column.baseline_values[base_rows], column.target_values[target_rows]])
        else:
            sampled = (column.baseline.iloc[base_rows], column.target.iloc[target_rows])
            matrix[:, j] = _category_codes(pd.concat(sampled, ignore_index=True))
    return matrix


def _split_gains(model: Any, n_features: int) -> np.ndarray | None:
    """Total split gain per feature over the fitted trees, or None when the model does not expose it.

    scikit-learn keeps the trees of a HistGradientBoostingClassifier in ``_predictors`` (no public
    importance attribute); the fallback is permutation importance.
    """
    try:
        gains = np.zeros(n_features)
        for iteration in model._predictors:
            for tree in iteration:
                nodes = tree.nodes
                split = nodes["is_leaf"] == 0
                gains += np.bincount(nodes["feature_idx"][split], weights=nodes["gain"][split], minlength=n_features)
        return gains
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


def _permutation_gains(model: Any, x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.inspection import permutation_importance

    result = permutation_importance(model, x, y, scoring="roc_auc", n_repeats=2, random_state=seed)
    importance: np.ndarray = np.maximum(np.asarray(result.importances_mean), 0.0)
    return importance


def _subsample(rows: int, limit: int, rng: np.random.Generator) -> np.ndarray:
    return np.arange(rows) if rows <= limit else np.sort(rng.choice(rows, size=limit, replace=False))


def _domain_classifier(x: np.ndarray, y: np.ndarray, categorical: np.ndarray, seed: int) -> tuple[float, np.ndarray]:
    """``(cross-validated ROC AUC, importance per feature)`` of a classifier telling target from baseline.

    The categorical columns of ``x`` come first: the classifier's encoder moves them to the front, and
    its trees number features in that order.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold
    from threadpoolctl import threadpool_limits

    folds = StratifiedKFold(n_splits=_CV_FOLDS, shuffle=True, random_state=seed)
    aucs, importance = [], np.zeros(x.shape[1])
    # One OpenMP thread: the fits are small, and OpenMP's spinning threads collapse when the CPUs are
    # shared (on a busy 2-CPU machine a fit took 3.5 s with 2 threads, 0.25 s with 1).
    with threadpool_limits(limits=1, user_api="openmp"):
        for train, test in folds.split(x, y):
            model = HistGradientBoostingClassifier(
                categorical_features=categorical, random_state=seed, **_CLASSIFIER_OPTIONS
            )
            model.fit(x[train], y[train])
            aucs.append(roc_auc_score(y[test], model.predict_proba(x[test])[:, 1]))
            gains = _split_gains(model, x.shape[1])
            importance += _permutation_gains(model, x[test], y[test], seed) if gains is None else gains
    return float(np.mean(aucs)), importance


def _magnitude_and_contributions(
    columns: Mapping[str, _Column], sizes: tuple[int, int], seed: int, max_rows: int
) -> tuple[float, dict[str, float]]:
    """The drift magnitude (0..100) and each feature's share of the classifier's importance."""
    rng = np.random.default_rng(seed)
    base_rows, target_rows = _subsample(sizes[0], max_rows, rng), _subsample(sizes[1], max_rows, rng)
    order = sorted(columns, key=lambda name: columns[name].kind != CATEGORICAL)  # categorical first (stable)
    x = _design_matrix([columns[name] for name in order], base_rows, target_rows)
    y = np.concatenate([np.zeros(len(base_rows), dtype=np.int8), np.ones(len(target_rows), dtype=np.int8)])
    categorical = np.array([columns[name].kind == CATEGORICAL for name in order])
    auc, importance = _domain_classifier(x, y, categorical, seed)
    magnitude = float(np.clip((auc - 0.5) / 0.5, 0.0, 1.0) * 100.0)
    total = float(importance.sum())
    # No drift, nothing to attribute: the gains of a classifier fitting noise are not contributions.
    shares = importance / total if magnitude > 0 and total > 0 else np.zeros(len(order))
    by_name = dict(zip(order, shares.tolist(), strict=True))
    return magnitude, {name: by_name[name] for name in columns}


# -- compare -----------------------------------------------------------------------------------------------
def _check_options(stattest_threshold: float | None, max_classifier_rows: int) -> None:
    if stattest_threshold is not None and not (np.isfinite(stattest_threshold) and stattest_threshold > 0):
        raise InvalidArgumentError(
            f"stattest_threshold {stattest_threshold!r} is not a positive number: pass e.g. 0.05 "
            "(a p-value) or 0.1 (a distance), or None for the defaults"
        )
    if max_classifier_rows < MIN_ROWS:
        raise InvalidArgumentError(
            f"max_classifier_rows {max_classifier_rows} is below {MIN_ROWS}: the classifier needs at least "
            f"{MIN_ROWS} rows per side"
        )


def _measured(
    baseline: pd.DataFrame, target: pd.DataFrame, features: Sequence[str] | None, threshold: float | None
) -> tuple[dict[str, _Column], dict[str, FeatureDrift]]:
    """Checked input, each feature's two sides, and its measures and verdict (contribution 0)."""
    kinds = _resolve_features(baseline, target, features)
    _check_rows(baseline, target)
    small = len(target) <= SMALL_SAMPLE_ROWS  # Evidently's rule counts the target's rows
    columns = {name: _Column.of(kind, baseline[name], target[name]) for name, kind in kinds.items()}
    return columns, {name: _feature_drift(name, column, small, threshold) for name, column in columns.items()}


def feature_measures(
    baseline: pd.DataFrame,
    target: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    stattest_threshold: float | None = None,
) -> dict[str, FeatureDrift]:
    """The per-feature part of ``compare`` alone (no domain classifier: every contribution is 0)."""
    _check_options(stattest_threshold, MIN_ROWS)
    return _measured(baseline, target, features, stattest_threshold)[1]


def compare(
    baseline: pd.DataFrame,
    target: pd.DataFrame,
    features: Sequence[str] | None = None,
    *,
    stattest_threshold: float | None = None,
    seed: int = 0,
    max_classifier_rows: int = 20_000,
) -> DriftResult:
    """Compare ``target`` with ``baseline`` on ``features`` (default: every non-time column both have)."""
    _check_options(stattest_threshold, max_classifier_rows)
    columns, drifts = _measured(baseline, target, features, stattest_threshold)
    sizes = (len(baseline), len(target))
    magnitude, shares = _magnitude_and_contributions(columns, sizes, seed, max_classifier_rows)
    return DriftResult(
        magnitude=magnitude,
        features={name: replace(drift, contribution=shares[name]) for name, drift in drifts.items()},
        baseline_rows=sizes[0],
        target_rows=sizes[1],
    )


# -- distributions -----------------------------------------------------------------------------------------
_TOP_CATEGORIES = 20
OTHER_CATEGORY = "(other)"


def _numeric_distribution(base: pd.Series, target: pd.Series, bins: int) -> dict[str, Any]:
    base_values, target_values = _numeric_values(base), _numeric_values(target)
    base_values, target_values = base_values[~np.isnan(base_values)], target_values[~np.isnan(target_values)]
    both = np.concatenate([base_values, target_values])
    if not len(both):
        return {"kind": NUMERIC, "edges": [], "baseline": [], "target": []}
    edges = np.histogram_bin_edges(both, bins=bins)
    return {
        "kind": NUMERIC,
        "edges": edges.tolist(),
        "baseline": _shares(np.histogram(base_values, bins=edges)[0]),
        "target": _shares(np.histogram(target_values, bins=edges)[0]),
    }


def _shares(counts: np.ndarray) -> list[float]:
    total = counts.sum()
    return (counts / total).tolist() if total else [0.0] * len(counts)


def _categorical_distribution(base: pd.Series, target: pd.Series) -> dict[str, Any]:
    categories, base_counts, target_counts = _category_counts(base, target)
    order = np.argsort(-(base_counts + target_counts), kind="stable")
    top, rest = order[:_TOP_CATEGORIES], order[_TOP_CATEGORIES:]
    labels = [str(categories[i]) for i in top]
    b, t = base_counts[top], target_counts[top]
    if len(rest):
        labels.append(OTHER_CATEGORY)
        b, t = np.append(b, base_counts[rest].sum()), np.append(t, target_counts[rest].sum())
    return {"kind": CATEGORICAL, "categories": labels, "baseline": _shares(b), "target": _shares(t)}


def distributions(
    baseline: pd.DataFrame, target: pd.DataFrame, kinds: Mapping[str, str], bins: int = 20
) -> dict[str, Any]:
    """JSON-ready overlays of each feature's baseline and target distribution (shares of non-null values).

    Numeric: ``{"kind", "edges", "baseline", "target"}`` over ``bins`` equal-width bins spanning both sides.
    Categorical: ``{"kind", "categories", "baseline", "target"}``, the 20 most frequent categories of both
    sides together, then ``"(other)"`` for the rest.
    """
    if bins < 1:
        raise InvalidArgumentError(f"bins {bins} must be at least 1")
    missing = [name for name in kinds if name not in baseline.columns or name not in target.columns]
    if missing:
        raise InvalidArgumentError(f"features {missing} are not columns of both the baseline and the target")
    out: dict[str, Any] = {}
    for name, kind in kinds.items():
        if kind == NUMERIC:
            out[name] = _numeric_distribution(baseline[name], target[name], bins)
        else:
            out[name] = _categorical_distribution(baseline[name], target[name])
    return out
