"""What a scoring worker calls: an entry script's ``init()``/``run()`` (v1) or a pickled model's
``predict`` behind MLflow's request shapes (issue 17).

Imported by the worker only: stdlib and orjson at import; inference-schema, joblib and pandas are
imported when (and only when) the mode needs them.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import pickle
import sys
from pathlib import Path
from typing import Any

from jupyter_mlws.serving.schema import MLFLOW_INPUT_SCHEMA, MLFLOW_OUTPUT_SCHEMA

__all__ = ["EntryScriptScorer", "MlflowScorer", "RequestError", "Scorer", "find_model_file"]

MODEL_SUFFIXES = (".pkl", ".pickle", ".joblib")
MLFLOW_KEYS = ("dataframe_split", "dataframe_records", "instances", "inputs")


class RequestError(Exception):
    """The request body cannot be scored as sent: answered 400 with this message."""


class Scorer:
    """One model behind ``POST /score``: ``score(body, payload)`` returns the reply to JSON-encode."""

    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    what = "the scoring script"  # what raised, in an error answer and the log

    def score(self, body: bytes, payload: Any) -> Any:
        raise NotImplementedError


class EntryScriptScorer(Scorer):
    """v1's entry script: imported from ``source_dir`` (its cwd and ``sys.path[0]``), ``init()`` called
    once; ``run(raw_text)`` per request, or ``run(**body)`` when inference-schema decorates it (as v1's
    inference server calls a decorated run: the JSON object's keys are run's parameters)."""

    def __init__(self, source_dir: str, entry_script: str, model_dir: str) -> None:
        os.environ["MLWS_MODEL_DIR"] = model_dir
        os.environ["AZUREML_MODEL_DIR"] = model_dir
        os.chdir(source_dir)
        sys.path.insert(0, source_dir)
        path = Path(source_dir, entry_script)
        if not path.is_file():
            raise FileNotFoundError(f"the entry script {entry_script!r} is not in {source_dir}")
        name = path.stem
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import the entry script {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        self.module = module
        run = getattr(module, "run", None)
        if not callable(run):
            raise AttributeError(f"the entry script {entry_script!r} defines no run() function")
        init = getattr(module, "init", None)
        if callable(init):
            init()
        self.run = run
        self.decorated = False
        self.open_ended = False
        if "inference_schema" in sys.modules:  # only a script that imported it can be decorated
            from inference_schema.schema_util import get_input_schema, get_output_schema, is_schema_decorated

            if is_schema_decorated(run):
                self.decorated = True
                self.input_schema = get_input_schema(run) or None
                self.output_schema = get_output_schema(run) or None
                signature = inspect.signature(run).parameters
                self.parameters = [p for p in signature if p not in ("args", "kwargs")]
                self.open_ended = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.values())

    def score(self, body: bytes, payload: Any) -> Any:
        if self.decorated:
            if not isinstance(payload, dict):
                raise RequestError(
                    "the request body must be a JSON object whose keys are run()'s parameters: "
                    + ", ".join(self.parameters)
                )
            unknown = [] if self.open_ended else sorted(set(payload) - set(self.parameters))
            if unknown:
                raise RequestError(
                    f"run() has no parameter {', '.join(map(repr, unknown))}; the request body's keys must be "
                    "among: " + ", ".join(self.parameters)
                )
            return self.run(**payload)
        return self.run(body.decode("utf-8"))


def find_model_file(model_dir: str) -> Path:
    """The one ``*.pkl`` / ``*.pickle`` / ``*.joblib`` file under ``model_dir`` (searched recursively)."""
    root = Path(model_dir)
    found = sorted(p for p in root.rglob("*") if p.suffix.lower() in MODEL_SUFFIXES and p.is_file())
    if not found:
        raise FileNotFoundError(
            f"no model file (*.pkl, *.pickle, *.joblib) under {model_dir}; MLflow-shape serving (no entry "
            "script) needs exactly one — or give the inference config an entry script"
        )
    if len(found) > 1:
        names = ", ".join(str(p.relative_to(root)) for p in found)
        raise ValueError(
            f"several model files under {model_dir} ({names}); MLflow-shape serving needs exactly one — "
            "give the inference config an entry script to choose"
        )
    return found[0]


class MlflowScorer(Scorer):
    """A pickled model (``predict``) behind MLflow's scoring protocol: ``dataframe_split``,
    ``dataframe_records``, ``instances`` or ``inputs`` → ``{"predictions": [...]}``."""

    input_schema = MLFLOW_INPUT_SCHEMA
    output_schema = MLFLOW_OUTPUT_SCHEMA
    what = "the model's predict()"

    def __init__(self, model_dir: str) -> None:
        os.environ["MLWS_MODEL_DIR"] = model_dir
        os.environ["AZUREML_MODEL_DIR"] = model_dir
        path = find_model_file(model_dir)
        try:
            import joblib
        except ImportError:
            with open(path, "rb") as fh:
                self.model = pickle.load(fh)  # noqa: S301 - the workspace's own registered model
        else:
            self.model = joblib.load(path)
        if not callable(getattr(self.model, "predict", None)):
            raise TypeError(f"the model in {path} ({type(self.model).__name__}) has no predict() method")
        import numpy

        self._np = numpy
        names = getattr(self.model, "feature_names_in_", None)
        self.feature_names = [str(n) for n in names] if names is not None else None

    @property
    def _pd(self) -> Any:
        """pandas, imported on first need (a DataFrame to build): a model fitted on a bare array and asked
        with arrays is served without it, in an interpreter that need not have it."""
        import pandas

        return pandas

    def model_input(self, payload: Any) -> Any:
        """MLflow's request shapes to what ``predict`` takes: a DataFrame, or an array for tensors."""
        np = self._np
        keys = [k for k in MLFLOW_KEYS if isinstance(payload, dict) and k in payload]
        if len(keys) != 1:
            accepted = ", ".join(MLFLOW_KEYS)
            if keys:
                raise RequestError(f"the request body has several of the keys {', '.join(keys)}; give exactly one")
            raise RequestError(f"the request body must be a JSON object with one of the keys {accepted}")
        key = keys[0]
        value = payload[key]
        try:
            if key == "dataframe_split":
                if not isinstance(value, dict) or "data" not in value:
                    raise RequestError('dataframe_split must be an object {"columns": [...], "data": [[...]]}')
                if self.feature_names is None and "index" not in value:
                    # A model fitted on a bare array turns a DataFrame into one anyway: skip building it
                    # (most of a small request's time).
                    return np.asarray(value["data"])
                return self._pd.DataFrame(value["data"], columns=value.get("columns"), index=value.get("index"))
            if key == "dataframe_records":
                if not isinstance(value, list):
                    raise RequestError("dataframe_records must be a list of row objects")
                return self._pd.DataFrame.from_records(value)
            if key == "instances":
                if not isinstance(value, list):
                    raise RequestError("instances must be a list")
                if value and all(isinstance(row, dict) for row in value):
                    return self._pd.DataFrame.from_records(value)  # named tensors, one object per instance
                return self._array(np.asarray(value))
            if isinstance(value, dict):
                return self._pd.DataFrame(value)  # named tensors in columnar form
            return self._array(np.asarray(value))
        except RequestError:
            raise
        except (ValueError, TypeError) as exc:
            raise RequestError(f"{key} cannot be read: {exc}") from exc

    def _array(self, array: Any) -> Any:
        # A model fitted on named columns gets them back (scikit-learn warns on a bare array).
        if self.feature_names is not None and array.ndim == 2 and array.shape[1] == len(self.feature_names):
            return self._pd.DataFrame(array, columns=self.feature_names)
        return array

    def score(self, body: bytes, payload: Any) -> Any:
        data = self.model_input(payload)
        pd = sys.modules.get("pandas")  # no pandas loaded: no DataFrame in or out either
        names = self.feature_names
        if pd is not None and names is not None and isinstance(data, pd.DataFrame) and list(data.columns) != names:
            if set(names) <= set(data.columns):
                data = data[names]  # columns by name, as MLflow's schema enforcement orders them
        predictions = self.model.predict(data)
        if pd is not None and isinstance(predictions, pd.DataFrame):
            predictions = predictions.to_dict(orient="records")
        elif pd is not None and isinstance(predictions, pd.Series):
            predictions = predictions.tolist()
        elif hasattr(predictions, "tolist"):
            predictions = predictions.tolist()
        return {"predictions": predictions}
