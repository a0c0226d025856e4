"""Data-drift benchmark (issue 20): our drift measures and whole check, side by side with Evidently and a scipy floor.

Run from the repository root, with one command (it creates Evidently's virtual environment when missing or when
its requirements file changed)::

    python benchmarks/bench_drift.py            # 10k and 100k rows, 5 repetitions (about 2 minutes, busy 2 CPUs)
    python benchmarks/bench_drift.py --quick    # smoke run: 10k rows, 2 repetitions (about 30 s once the venv exists)

Data: ``tests/support/drift_data.py``'s ``drift_frame``: 20 columns (15 numeric of several families, 5
categorical strings of 4-12 categories); the baseline is ``drift_frame(rows, seed=1)`` and the target
``drift_frame(rows, seed=2, shift=--shift)``, which drifts 3 columns (``n3``, ``n11``, ``c1``; at the default
shift 1.0 the numeric two move by one standard deviation and ``c1``'s Jensen-Shannon distance is about 0.18, so
the default rule, 0.1 on either, flags all three). Both frames have ``rows`` rows. They are written to Parquet
once per size and every side reads them from there (ours with this interpreter's pandas 3, Evidently with its
venv's pandas 2), so every side sees the same values.

Sides, per size, each timed ``--repeats`` times after one untimed warm-up, medians reported:

(a) our per-feature measures: ``measures.feature_measures(baseline, target)``, ``compare``'s per-feature part
    alone: every measure of every feature (normalized Wasserstein, KS statistic and p-value, PSI for numeric
    columns; Jensen-Shannon, chi-squared p-value, PSI for categorical ones; nulls and unseen categories
    counted), no domain classifier;
(b) our whole check: ``measures.compare(baseline, target)`` (the measures plus the domain classifier:
    gradient boosting, 3-fold cross-validated AUC, contributions), which is what one interval's check computes;
(c) Evidently: ``Report([DataDriftPreset()]).run(...)`` on ``Dataset.from_pandas`` of both frames with an explicit
    ``DataDefinition`` (the same numeric/categorical split), in its own venv (``--venv-root``/bench-evidently,
    ``benchmarks/requirements-drift-evidently.txt``: Evidently 0.7.23 needs pandas 2), in a worker subprocess
    (``benchmarks/drift_evidently.py``) that holds the frames, runs one check when asked over stdin and times it
    inside itself: its start, imports and reading the Parquet files are not counted;
(d) the floor: per numeric column ``scipy.stats.wasserstein_distance`` + ``scipy.stats.ks_2samp`` on the column's
    values; per categorical column its counterpart: the two sides' category counts (``pandas.factorize`` of both
    columns together, ``numpy.bincount``), ``scipy.spatial.distance.jensenshannon(base=2)`` and
    ``scipy.stats.chi2_contingency`` of the counts. The numeric and categorical shares are reported apart.

The four sides take turns inside each repetition (the order rotates; the Evidently worker waits on its stdin
while the others run), so a burst of load from other processes hits them alike.

Ratios and targets (issue 20): (a) / (d) ≤ 1.5x and (b) / (c) ≤ 1.0x, at every size. The columns each side
flags as drifted are shown too (every side should flag the same 3). The markdown table goes to stdout and the
figures to ``benchmarks/results/drift.json``. Figures from a busy machine are noisy: the script records the load
average and warns when the machine was busy at the start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy
import sklearn
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # tests.support.drift_data, and jupyter_mlws from a checkout

from jupyter_mlws.monitoring import measures  # noqa: E402
from tests.support.drift_data import CATEGORICAL, DRIFTED, NUMERIC, drift_frame  # noqa: E402

DEFAULT_OUTPUT = HERE / "results" / "drift.json"
EVIDENTLY_REQUIREMENTS = HERE / "requirements-drift-evidently.txt"
EVIDENTLY_SCRIPT = HERE / "drift_evidently.py"
MEASURES_TARGET = 1.5  # (a) / (d)
WHOLE_TARGET = 1.0  # (b) / (c)
SIDES = ("floor", "measures", "whole", "evidently")  # in the first repetition's order
ANSWER = "@@ "  # drift_evidently.py's answer lines


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> float | None:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


# -- Evidently's venv ------------------------------------------------------------------------------------------
def ensure_evidently(root: Path) -> Path:
    """``root/bench-evidently`` with the requirements file installed; rebuilt when that file changed."""
    venv = root / "bench-evidently"
    stamp = venv / ".bench-drift-requirements"
    digest = hashlib.sha256(EVIDENTLY_REQUIREMENTS.read_bytes()).hexdigest()
    python = venv / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    say(f"creating {venv} from {EVIDENTLY_REQUIREMENTS.name} (a few minutes) …")
    if venv.exists() and not (venv / "pyvenv.cfg").exists():
        sys.exit(f"error: {venv} exists and is not a virtual environment; pass another --venv-root")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", str(EVIDENTLY_REQUIREMENTS)],
        check=True,
    )
    stamp.write_text(digest)
    return python


class EvidentlyWorker:
    """``drift_evidently.py`` in Evidently's venv, holding every case's frames, running one check per request."""

    def __init__(self, python: Path, cases: list[dict[str, str]], work: Path) -> None:
        spec = {"numeric": list(NUMERIC), "categorical": list(CATEGORICAL), "cases": cases}
        spec_path = work / "evidently-spec.json"
        spec_path.write_text(json.dumps(spec))
        env = {**os.environ, "DO_NOT_TRACK": "1", "PYTHONDONTWRITEBYTECODE": "1"}  # DO_NOT_TRACK: no telemetry
        env.pop("PYTHONPATH", None)  # its own pandas 2, not this checkout's environment
        self.log = work / "evidently.log"
        self._stderr = self.log.open("w")
        self.proc = subprocess.Popen(
            [str(python), str(EVIDENTLY_SCRIPT), str(spec_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
            cwd=work,
        )
        self.versions: dict[str, Any] = self._answer()

    def _answer(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith(ANSWER):
                value: dict[str, Any] = json.loads(line[len(ANSWER) :])
                if "error" in value:
                    raise RuntimeError(f"Evidently's worker: {value['error']}")
                return value
        self.proc.wait()
        tail = self.log.read_text()[-3000:]
        raise RuntimeError(f"Evidently's worker ended ({self.proc.returncode}):\n{tail}")

    def _ask(self, command: str, label: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"{command} {label}\n")
        self.proc.stdin.flush()
        return self._answer()

    def run(self, label: str) -> float:
        return float(self._ask("run", label)["seconds"])

    def columns(self, label: str) -> dict[str, Any]:
        return self._ask("columns", label)

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stderr.close()


# -- the sides in this process ---------------------------------------------------------------------------------
def floor(baseline: pd.DataFrame, target: pd.DataFrame) -> tuple[float, float, list[str]]:
    """(numeric seconds, categorical seconds, columns flagged) of the scipy floor.

    A column is flagged by the default rule the other sides use (above 1,000 target rows Wasserstein ÷ the
    baseline's standard deviation, or Jensen-Shannon, ≥ 0.1; else KS / chi-squared p < 0.05), decided after
    the timing from the values the timed part returned: the standard deviations are not part of the floor.
    """
    distances: dict[str, float] = {}
    p_values: dict[str, float] = {}
    started = time.perf_counter()
    for name in NUMERIC:
        b = baseline[name].to_numpy(dtype=np.float64)
        t = target[name].to_numpy(dtype=np.float64)
        distances[name] = wasserstein_distance(b, t)
        p_values[name] = ks_2samp(b, t).pvalue
    numeric_s = time.perf_counter() - started
    started = time.perf_counter()
    for name in CATEGORICAL:
        codes, uniques = pd.factorize(pd.concat([baseline[name], target[name]], ignore_index=True))
        n = len(baseline)
        counts = np.vstack(
            [np.bincount(codes[:n], minlength=len(uniques)), np.bincount(codes[n:], minlength=len(uniques))]
        )
        distances[name] = float(jensenshannon(counts[0], counts[1], base=2))  # it normalises the counts
        p_values[name] = chi2_contingency(counts).pvalue
    categorical_s = time.perf_counter() - started
    for name in NUMERIC:
        distances[name] /= max(float(np.std(baseline[name].to_numpy(dtype=np.float64))), 1e-12)
    if len(target) <= measures.SMALL_SAMPLE_ROWS:
        flagged = [name for name, p_value in p_values.items() if p_value < 0.05]
    else:
        flagged = [name for name, distance in distances.items() if distance >= 0.1]
    return numeric_s, categorical_s, flagged


def our_measures(baseline: pd.DataFrame, target: pd.DataFrame) -> dict[str, measures.FeatureDrift]:
    """Every per-feature measure, no domain classifier: ``compare``'s per-feature part alone."""
    return measures.feature_measures(baseline, target)


def our_whole(baseline: pd.DataFrame, target: pd.DataFrame) -> measures.DriftResult:
    return measures.compare(baseline, target)


def drifted_of(features: dict[str, measures.FeatureDrift]) -> list[str]:
    return [name for name, feature in features.items() if feature.drifted]


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = call()
    return time.perf_counter() - started, value


def bench_size(
    baseline: pd.DataFrame, target: pd.DataFrame, repeats: int, warmup: int, evidently: EvidentlyWorker | None
) -> dict[str, Any]:
    label = str(len(baseline))
    sides = tuple(side for side in SIDES if side != "evidently" or evidently is not None)
    times: dict[str, list[float]] = {side: [] for side in sides}
    floor_numeric: list[float] = []
    floor_categorical: list[float] = []
    flagged: dict[str, list[str]] = {}
    magnitudes: list[float] = []

    def run(side: str) -> float:
        if side == "floor":
            numeric_s, categorical_s, flagged["floor"] = floor(baseline, target)
            floor_numeric.append(numeric_s)
            floor_categorical.append(categorical_s)
            return numeric_s + categorical_s
        if side == "evidently":
            assert evidently is not None
            return evidently.run(label)
        if side == "measures":
            elapsed, features = timed(lambda: our_measures(baseline, target))
            flagged[side] = drifted_of(features)
            return elapsed
        elapsed, result = timed(lambda: our_whole(baseline, target))
        flagged[side] = drifted_of(result.features)
        magnitudes.append(result.magnitude)
        return elapsed

    for _ in range(warmup):
        for side in sides:
            run(side)
    floor_numeric.clear()
    floor_categorical.clear()
    magnitudes.clear()
    for r in range(repeats):
        order = sides[r % len(sides) :] + sides[: r % len(sides)]
        for side in order:
            times[side].append(run(side))
    out: dict[str, Any] = {side: {"times_s": times[side], "median_s": median(times[side])} for side in sides}
    out["floor"]["numeric_median_s"] = median(floor_numeric)
    out["floor"]["categorical_median_s"] = median(floor_categorical)
    out["whole"]["magnitude"] = median(magnitudes)
    if evidently is not None:
        out["evidently"]["columns"] = columns = evidently.columns(label)
        flagged["evidently"] = [name for name, column in columns.items() if column["drifted"]]
    else:
        out["evidently"] = {"times_s": [], "median_s": None}
    out["flagged"] = flagged
    return out


# -- report ----------------------------------------------------------------------------------------------------
def ratio(mine: float | None, theirs: float | None) -> float | None:
    if mine is None or theirs is None or theirs <= 0:
        return None
    return mine / theirs


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "not run"
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:.0f} ms"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def met(value: float | None, limit: float) -> str:
    if value is None:
        return "not judged"
    return "met" if value <= limit else "**NOT met**"


def print_table(payload: dict[str, Any]) -> None:
    env = payload["environment"]
    cpus = env["cpus"] or 1
    ev = env.get("evidently") or {}
    print()
    print(
        f"jupyter-mlws {env['jupyter_mlws']} (pandas {env['pandas']}, scipy {env['scipy']}, scikit-learn "
        f"{env['scikit_learn']}) vs Evidently {ev.get('evidently', 'not run')} (pandas {ev.get('pandas', '-')}), "
        f"Python {env['python']}, {cpus} CPUs; medians of {payload['settings']['repeats']} repetitions"
    )
    load = env["load_average_before"]
    if load is not None and load > 0.5 * cpus:
        print(
            f"warning: the machine was busy before the start (load average {load:.1f} on {cpus} CPUs); "
            "figures are noisier than on an idle machine"
        )
    print()
    print(
        "| Rows × 20 columns | (d) floor: scipy W + KS, JS + χ² | (a) our measures | (b) our whole check "
        "| (c) Evidently `DataDriftPreset` | (a) / (d) | (b) / (c) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for size in payload["sizes"]:
        fl = size["floor"]
        print(
            f"| {size['rows']:,} | {fmt_s(fl['median_s'])} (numeric {fmt_s(fl['numeric_median_s'])}) "
            f"| {fmt_s(size['measures']['median_s'])} | {fmt_s(size['whole']['median_s'])} "
            f"| {fmt_s(size['evidently']['median_s'])} | {fmt_ratio(size['ratios']['measures_vs_floor'])} "
            f"| {fmt_ratio(size['ratios']['whole_vs_evidently'])} |"
        )
    print()
    t = payload["targets"]
    print(f"Target (a) / (d) ≤ {MEASURES_TARGET}× at every size: {met(t['measures_vs_floor_worst'], MEASURES_TARGET)}")
    print(f"Target (b) / (c) ≤ {WHOLE_TARGET}× at every size: {met(t['whole_vs_evidently_worst'], WHOLE_TARGET)}")
    print()
    print("Columns flagged as drifted (drifted on purpose: " + ", ".join(payload["settings"]["drifted"]) + "):")
    for size in payload["sizes"]:
        for side, columns in size["flagged"].items():
            print(f"- {size['rows']:,} rows, {side}: {', '.join(columns) or 'none'}")


# -- main ------------------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--quick", action="store_true", help="10k rows only, 2 repetitions: a smoke run")
    p.add_argument("--sizes", help="comma-separated row counts of each frame (default 10000,100000)")
    p.add_argument("--repeats", type=int, help="timed repetitions per side and size; medians (default 5)")
    p.add_argument("--warmup", type=int, default=1, help="untimed runs per side and size first (default 1)")
    p.add_argument("--shift", type=float, default=1.0, help="drift_frame's shift of the 3 drifted columns (1.0)")
    p.add_argument("--venv-root", type=Path, default=Path("/tmp"), help="where Evidently's venv is (bench-evidently)")
    p.add_argument("--evidently-python", type=Path, help="an interpreter with evidently==0.7.23 (skips the venv)")
    p.add_argument("--no-evidently", action="store_true", help="leave Evidently out (its rows say 'not run')")
    p.add_argument("--keep", action="store_true", help="keep the Parquet files")
    p.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results (default: results/drift.json)")
    args = p.parse_args(argv)
    default_sizes, default_repeats = ((10_000,), 2) if args.quick else ((10_000, 100_000), 5)
    args.sizes = tuple(int(x) for x in args.sizes.split(",")) if args.sizes else default_sizes
    args.repeats = args.repeats or default_repeats
    if min(args.sizes) < measures.MIN_ROWS or args.repeats < 1 or args.warmup < 0:
        p.error(f"--sizes must be at least {measures.MIN_ROWS} rows, --repeats at least 1, --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    load_before = load_average()
    started = time.perf_counter()
    python = None
    if not args.no_evidently:
        python = args.evidently_python or ensure_evidently(args.venv_root)
    work = Path(tempfile.mkdtemp(prefix="mlws-bench-drift-"))
    sizes: list[dict[str, Any]] = []
    worker: EvidentlyWorker | None = None
    try:
        cases: list[dict[str, str]] = []
        for rows in args.sizes:
            paths = {"baseline": work / f"baseline-{rows}.parquet", "target": work / f"target-{rows}.parquet"}
            drift_frame(rows, seed=1).to_parquet(paths["baseline"], index=False)
            drift_frame(rows, seed=2, shift=args.shift).to_parquet(paths["target"], index=False)
            cases.append({"label": str(rows), **{key: str(path) for key, path in paths.items()}})
        if python is not None:
            say(f"starting Evidently's worker ({python}) …")
            worker = EvidentlyWorker(python, cases, work)
        for case in cases:
            baseline, target = pd.read_parquet(case["baseline"]), pd.read_parquet(case["target"])
            sides = "floor, our measures, our whole check" + (", Evidently" if worker else "")
            say(f"{len(baseline):,} rows: {sides} × {args.repeats} (+{args.warmup} warm-up), taking turns …")
            sizes.append({"rows": len(baseline), **bench_size(baseline, target, args.repeats, args.warmup, worker)})
    finally:
        if worker is not None:
            worker.close()
        if args.keep:
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    for size in sizes:
        size["ratios"] = {
            "measures_vs_floor": ratio(size["measures"]["median_s"], size["floor"]["median_s"]),
            "measures_vs_floor_numeric_only": ratio(size["measures"]["median_s"], size["floor"]["numeric_median_s"]),
            "whole_vs_evidently": ratio(size["whole"]["median_s"], size["evidently"]["median_s"]),
            "measures_vs_evidently": ratio(size["measures"]["median_s"], size["evidently"]["median_s"]),
        }

    def worst(key: str) -> float | None:
        values = [size["ratios"][key] for size in sizes]
        return None if not values or None in values else max(values)

    env = {
        "jupyter_mlws": getattr(sys.modules.get("jupyter_mlws"), "__version__", "?"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "scipy": scipy.__version__,
        "scikit_learn": sklearn.__version__,
        "evidently": {k: v for k, v in worker.versions.items() if k != "ready"} if worker else None,
        "load_average_before": load_before,
        "load_average_after": load_average(),
    }
    payload: dict[str, Any] = {
        "benchmark": "drift",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "environment": env,
        "settings": {
            "sizes": list(args.sizes),
            "repeats": args.repeats,
            "warmup": args.warmup,
            "shift": args.shift,
            "columns": {"numeric": list(NUMERIC), "categorical": list(CATEGORICAL)},
            "drifted": list(DRIFTED),
            "data": "drift_frame(rows, seed=1) vs drift_frame(rows, seed=2, shift), both `rows` rows, via Parquet",
        },
        "sizes": sizes,
        "targets": {
            "measures_vs_floor_limit": MEASURES_TARGET,
            "measures_vs_floor_worst": worst("measures_vs_floor"),
            "measures_vs_floor_met": (w := worst("measures_vs_floor")) is not None and w <= MEASURES_TARGET,
            "whole_vs_evidently_limit": WHOLE_TARGET,
            "whole_vs_evidently_worst": worst("whole_vs_evidently"),
            "whole_vs_evidently_met": (v := worst("whole_vs_evidently")) is not None and v <= WHOLE_TARGET,
        },
        "wall_time_s": time.perf_counter() - started,
    }
    print_table(payload)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    say(f"results written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
