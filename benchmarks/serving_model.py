"""The model and request bodies of bench_serving.py, made with the peers' own interpreters.

    <floor venv>/bin/python serving_model.py train OUT     # model.pkl, MLServer's folder, bodies, expected answers
    <mlflow venv>/bin/python serving_model.py mlflow OUT   # OUT/mlflow-model: the same model as an MLflow sklearn model

``train`` fits a ``LogisticRegression`` on a synthetic set (2,000 rows, 8 features, 3 classes, seed 0; nothing is
downloaded) and pickles it. Every venv pins the same scikit-learn, so each server loads the same bytes. The bodies
hold the first 1 and 100 rows of the set in each server's own request shape; ``expected.json`` holds the
predictions the script itself computed for them, which the benchmark checks every server's first answer against.
"""

from __future__ import annotations

import json
import pickle
import sys
from pathlib import Path

FEATURES = 8
ROWS = (1, 100)
MODEL_NAME = "bench"  # MLServer's model name (its URL)


def train(out: Path) -> None:
    import joblib
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    x, y = make_classification(n_samples=2000, n_features=FEATURES, n_informative=5, n_classes=3, random_state=0)
    model = LogisticRegression(max_iter=1000).fit(x, y)
    out.mkdir(parents=True, exist_ok=True)
    (out / "model.pkl").write_bytes(pickle.dumps(model))
    columns = [f"f{i}" for i in range(FEATURES)]
    (out / "columns.json").write_text(json.dumps(columns))
    np_rows = x[: max(ROWS)]
    (out / "rows.json").write_text(json.dumps(np_rows.tolist()))

    # MLServer: a model repository of one model, its scikit-learn runtime reading a joblib file.
    folder = out / "mlserver" / MODEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, folder / "model.joblib")
    settings = {
        "name": MODEL_NAME,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {"uri": "./model.joblib", "version": "v1"},
    }
    (folder / "model-settings.json").write_text(json.dumps(settings))

    bodies = out / "bodies"
    bodies.mkdir(exist_ok=True)
    expected = {}
    for n in ROWS:
        rows = x[:n].tolist()
        expected[str(n)] = model.predict(x[:n]).tolist()
        # The floor and "ours" (entry script): {"data": rows}; "ours" without code and MLflow: dataframe_split.
        (bodies / f"data-{n}.json").write_text(json.dumps({"data": rows}))
        split = {"dataframe_split": {"columns": columns, "data": rows}}
        (bodies / f"dataframe_split-{n}.json").write_text(json.dumps(split))
        # MLServer: the V2 inference protocol, one FP64 tensor of shape [n, FEATURES], row-major.
        v2 = {
            "inputs": [
                {"name": "input-0", "shape": [n, FEATURES], "datatype": "FP64", "data": [v for r in rows for v in r]}
            ]
        }
        (bodies / f"v2-{n}.json").write_text(json.dumps(v2))
    (out / "expected.json").write_text(json.dumps(expected))


def save_mlflow(out: Path) -> None:
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature

    model = pickle.loads((out / "model.pkl").read_bytes())
    columns = json.loads((out / "columns.json").read_text())
    frame = pd.DataFrame(json.loads((out / "rows.json").read_text()), columns=columns)
    signature = infer_signature(frame, model.predict(frame.to_numpy()))
    mlflow.sklearn.save_model(model, str(out / "mlflow-model"), signature=signature)


if __name__ == "__main__":
    command, target = sys.argv[1], Path(sys.argv[2])
    {"train": train, "mlflow": save_mlflow}[command](target)
