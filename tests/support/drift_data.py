"""Synthetic tabular data with controlled drift (tests of the drift measures and the detector, and the benchmark).

``drift_frame(rows, seed, shift)`` gives 20 columns: 15 numeric (``n0``..``n14``) from a few families —
normal, lognormal, uniform and integers (Poisson, uniform integers) — and 5 categorical (``c0``..``c4``,
strings) with 4 to 12 categories of unequal (Zipf-like) frequencies. ``shift`` drifts the ``drifted``
columns (by default ``DRIFTED``) and leaves the others alone, so a baseline is ``drift_frame(n, seed=1)``
and a drifted target ``drift_frame(n, seed=2, shift=1.0)``:

- a numeric column moves by ``shift`` times its distribution's standard deviation (rounded for integer
  columns), so its normalized Wasserstein distance to the baseline is about ``shift``;
- a categorical column moves a share ``min(shift / 3, 1)`` of its probability mass onto the reversed
  frequencies (rare categories become common), so its Jensen-Shannon distance grows with ``shift``.

The columns carry no timestamps and no nulls: callers add what their test needs (a ``"$time"`` column,
``NaN`` here and there). Fixed seeds give the same frame on every machine (numpy's PCG64).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["CATEGORICAL", "COLUMNS", "DRIFTED", "NUMERIC", "category_probabilities", "drift_frame"]

Sampler = Callable[[np.random.Generator, int], np.ndarray]


@dataclass(frozen=True)
class _Numeric:
    sample: Sampler
    std: float  # the distribution's standard deviation: the unit of a shift
    integer: bool = False


def _normal(mean: float, std: float) -> _Numeric:
    return _Numeric(lambda rng, n: rng.normal(mean, std, n), std)


def _lognormal(mean: float, sigma: float) -> _Numeric:
    std = math.sqrt((math.exp(sigma**2) - 1) * math.exp(2 * mean + sigma**2))
    return _Numeric(lambda rng, n: rng.lognormal(mean, sigma, n), std)


def _uniform(low: float, high: float) -> _Numeric:
    return _Numeric(lambda rng, n: rng.uniform(low, high, n), (high - low) / math.sqrt(12))


def _poisson(lam: float) -> _Numeric:
    return _Numeric(lambda rng, n: rng.poisson(lam, n), math.sqrt(lam), integer=True)


def _integers(low: int, high: int) -> _Numeric:
    """Uniform integers in [low, high)."""
    span = high - low
    return _Numeric(lambda rng, n: rng.integers(low, high, n), math.sqrt((span**2 - 1) / 12), integer=True)


_NUMERIC_SPECS: dict[str, _Numeric] = {
    "n0": _normal(10.0, 2.0),
    "n1": _normal(-5.0, 0.5),
    "n2": _lognormal(0.0, 0.5),
    "n3": _normal(100.0, 15.0),
    "n4": _uniform(0.0, 1.0),
    "n5": _poisson(3.0),
    "n6": _lognormal(2.0, 1.0),
    "n7": _normal(0.0, 1.0),
    "n8": _uniform(-10.0, 10.0),
    "n9": _integers(0, 100),
    "n10": _lognormal(1.0, 0.25),
    "n11": _uniform(0.0, 50.0),
    "n12": _poisson(20.0),
    "n13": _normal(50.0, 10.0),
    "n14": _integers(-1000, 1000),
}
# Category counts 4..12; c1 (a drifted one by default) has 6.
_CATEGORY_COUNTS: dict[str, int] = {"c0": 4, "c1": 6, "c2": 8, "c3": 10, "c4": 12}

NUMERIC: tuple[str, ...] = tuple(_NUMERIC_SPECS)
CATEGORICAL: tuple[str, ...] = tuple(_CATEGORY_COUNTS)
COLUMNS: tuple[str, ...] = (*NUMERIC, *CATEGORICAL)
DRIFTED: tuple[str, ...] = ("n3", "n11", "c1")


def category_probabilities(count: int, shift: float = 0.0) -> np.ndarray:
    """Zipf-like frequencies 1, 1/2, 1/3, … (normalised); ``shift`` mixes in the reversed order."""
    base = 1.0 / np.arange(1, count + 1)
    base /= base.sum()
    moved = min(max(shift, 0.0) / 3.0, 1.0)
    return (1.0 - moved) * base + moved * base[::-1]


def _categorical(rng: np.random.Generator, name: str, rows: int, shift: float) -> np.ndarray:
    count = _CATEGORY_COUNTS[name]
    labels = np.array([f"{name}_{chr(ord('a') + i)}" for i in range(count)])
    # One uniform draw per row mapped through the cumulative frequencies: vectorised, and the same
    # draws for every shift (a larger shift moves strictly more rows to other categories).
    cumulative = np.cumsum(category_probabilities(count, shift))
    codes = np.searchsorted(cumulative, rng.random(rows) * cumulative[-1], side="right")
    return labels[np.minimum(codes, count - 1)]


def _numeric(rng: np.random.Generator, name: str, rows: int, shift: float) -> np.ndarray:
    spec = _NUMERIC_SPECS[name]
    values = spec.sample(rng, rows)
    if shift:
        offset = shift * spec.std
        values = values + (round(offset) if spec.integer else offset)
    return values


def drift_frame(rows: int, seed: int, shift: float = 0.0, drifted: Sequence[str] = DRIFTED) -> pd.DataFrame:
    """``rows`` rows of the 20 ``COLUMNS``; the ``drifted`` columns moved by ``shift`` (see the module doc).

    Each column draws from its own generator (seeded from ``seed`` and its position), so the values of
    a column do not depend on which other columns drift.
    """
    unknown = sorted(set(drifted) - set(COLUMNS))
    if unknown:
        raise ValueError(f"unknown drifted columns {unknown}; the columns are {list(COLUMNS)}")
    streams = np.random.SeedSequence(seed).spawn(len(COLUMNS))
    data: dict[str, np.ndarray] = {}
    for name, stream in zip(COLUMNS, streams, strict=True):
        rng = np.random.default_rng(stream)
        amount = shift if name in drifted else 0.0
        make = _numeric if name in _NUMERIC_SPECS else _categorical
        data[name] = make(rng, name, rows, amount)
    return pd.DataFrame(data)
