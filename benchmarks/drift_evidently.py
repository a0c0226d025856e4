"""Evidently's side of bench_drift.py, run with the Evidently venv's interpreter (pandas 2.x; see ENVIRONMENT.md).

    <evidently venv>/bin/python benchmarks/drift_evidently.py SPEC.json

SPEC.json: ``{"repeats": 5, "warmup": 1, "numeric": [...], "categorical": [...],
"cases": [{"label": "10k", "baseline": "b.parquet", "target": "t.parquet"}, ...]}``.

For each case the two Parquet files are read (untimed), then ``warmup`` untimed and ``repeats`` timed runs of
what a user of Evidently writes for one check: both frames wrapped as ``Dataset.from_pandas`` with an explicit
``DataDefinition`` (the same numeric/categorical split the other sides get) and
``Report([DataDriftPreset()]).run(target, baseline)`` with its defaults (normed Wasserstein / Jensen-Shannon at
0.1 above 1,000 rows, K-S / chi-squared p < 0.05 below). Timed with ``time.perf_counter`` inside this process,
so the interpreter's start and Evidently's import (several seconds) are not counted. The result is read once,
untimed, for the columns Evidently flagged. Prints one JSON object on stdout.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import evidently
import pandas as pd
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def check(baseline: pd.DataFrame, target: pd.DataFrame, definition: DataDefinition) -> Any:
    reference = Dataset.from_pandas(baseline, data_definition=definition)
    current = Dataset.from_pandas(target, data_definition=definition)
    return Report([DataDriftPreset()]).run(current, reference)


def flagged(snapshot: Any) -> dict[str, Any]:
    """Per column: the method, its score, its threshold and whether Evidently calls it drifted."""
    columns: dict[str, Any] = {}
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if not config["type"].endswith("ValueDrift"):
            continue
        method, score, threshold = config["method"], float(metric["value"]), float(config["threshold"])
        # A p-value drifts below its threshold, a distance at or above it (Evidently's own rule).
        drifted = score < threshold if "p_value" in method else score >= threshold
        columns[config["column"]] = {"method": method, "score": score, "threshold": threshold, "drifted": drifted}
    return columns


def main() -> int:
    spec = json.loads(Path(sys.argv[1]).read_text())
    definition = DataDefinition(numerical_columns=spec["numeric"], categorical_columns=spec["categorical"])
    cases = []
    for case in spec["cases"]:
        baseline, target = pd.read_parquet(case["baseline"]), pd.read_parquet(case["target"])
        snapshot = None
        for _ in range(spec["warmup"]):
            snapshot = check(baseline, target, definition)
        times = []
        for _ in range(spec["repeats"]):
            started = time.perf_counter()
            snapshot = check(baseline, target, definition)
            times.append(time.perf_counter() - started)
        columns = flagged(snapshot) if snapshot is not None else {}
        cases.append({"label": case["label"], "rows": len(baseline), "times_s": times, "columns": columns})
    out = {"evidently": evidently.__version__, "pandas": pd.__version__, "cases": cases}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
