"""Monitoring a deployed service (issue 20): a real local web service with input capture on scores
requests whose inputs have drifted from the model's training data; the detector made with
``create_from_model`` takes the model version's training dataset as the baseline and the service's
captured inputs (``<service>-inputs``, timestamp ``$time``) as the target, and today's check finds
the drift in the features the model reads — not in the prediction or the capture's own columns."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_mlws import (
    DataDriftDetector,
    Dataset,
    InferenceConfig,
    LocalWebservice,
    Model,
    Webservice,
    Workspace,
)
from jupyter_mlws.errors import InvalidArgumentError, NotFoundError
from tests.compute.conftest import wait_until
from tests.serving.kit import cleanup, make_workspace

FEATURES = [f"feature_{i}" for i in range(4)]


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-drift")


@pytest.fixture(scope="module")
def ws(root: Path) -> Iterator[Workspace]:
    os.environ["MLWS_CAPTURE_PUBLISH_SECONDS"] = "0.5"  # read by the agent this module starts
    workspace = make_workspace(root)
    yield workspace
    cleanup(workspace)
    os.environ.pop("MLWS_CAPTURE_PUBLISH_SECONDS", None)


@pytest.fixture(scope="module")
def service(ws: Workspace, root: Path) -> Webservice:
    from sklearn.datasets import load_iris

    x, _y = load_iris(return_X_y=True)
    training = Dataset.Tabular.register_pandas_dataframe(
        pd.DataFrame(x, columns=FEATURES), (ws.get_default_datastore(), "training"), "iris-training"
    )
    Model.register(ws, str(root / "model.pkl"), "iris", datasets=[("training", training)])  # version 3
    src = root / "src"
    deployed = Model.deploy(
        ws,
        "iris-watch",
        [Model(ws, "iris", version=3)],
        InferenceConfig(entry_script="score.py", source_directory=str(src)),
        LocalWebservice.deploy_configuration(enable_data_collection=True, data_collection_sample_rate=1.0),
    )
    deployed.wait_for_deployment(timeout_sec=60)
    return deployed


def test_a_service_s_drifted_inputs_are_found(ws: Workspace, service: Webservice) -> None:
    from sklearn.datasets import load_iris

    x, _y = load_iris(return_X_y=True)
    rng = np.random.default_rng(5)
    shifted = x[rng.choice(len(x), 40)] + np.array([2.0, 0.0, 2.5, 0.0])  # two features moved
    for _ in range(3):
        service.run(json.dumps({"data": shifted.tolist()}))

    def captured() -> object:
        try:
            frame = Dataset.get_by_name(ws, "iris-watch-inputs").to_pandas_dataframe()  # type: ignore[attr-defined]
        except NotFoundError:
            return None
        return [frame] if len(frame) >= 120 else None

    wait_until(captured, what="120 captured rows in iris-watch-inputs")
    detector = DataDriftDetector.create_from_model(ws, "iris-watch-drift", "iris", 3, ["iris-watch"], frequency="Day")
    assert detector.service == "iris-watch" and detector.baseline_dataset.name == "iris-training"
    assert detector.drift_type == "ModelBased"
    run = detector.run(dt.datetime.now(dt.UTC))
    run.wait_for_completion(timeout=120)
    assert run.get_status() == "Completed", run.get_details()
    (result,), _metrics = detector.get_output(run_id=run.id)
    assert set(result["features"]) == set(FEATURES)  # not prediction, $time or $request_id
    assert result["drift_detected"] and result["target_rows"] == 120
    drifted = {name for name, f in result["features"].items() if f["drifted"]}
    assert drifted == {"feature_0", "feature_2"}


def test_mistakes_of_a_service_monitor_are_named(ws: Workspace, service: Webservice) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        DataDriftDetector.create_from_model(ws, "m1", "iris", 3, ["nope"])
    with pytest.raises(InvalidArgumentError, match="one deployed service"):
        DataDriftDetector.create_from_model(ws, "m2", "iris", 3, ["iris-watch", "other"])
    with pytest.raises(InvalidArgumentError, match="without a training dataset"):
        DataDriftDetector.create_from_model(ws, "m3", "iris", 1, ["iris-watch"])
    assert [d.name for d in DataDriftDetector.list(ws)] == ["iris-watch-drift"]
