"""The exception tree (jupyter_mlws/errors.py) and clear errors from the public entry points (DESIGN §5)."""

from __future__ import annotations

import concurrent.futures
import inspect
import json
import multiprocessing
import pickle
from pathlib import Path
from typing import Any

import pytest

from jupyter_mlws import Experiment, Model, Workspace, errors
from jupyter_mlws.errors import (
    AlreadyExistsError,
    BackendUnavailableError,
    InvalidArgumentError,
    InvalidStateError,
    MlwsError,
    NotFoundError,
    RunFailedError,
)

DOCUMENTED_STATUS: dict[type[MlwsError], int] = {
    NotFoundError: 404,
    AlreadyExistsError: 409,
    InvalidArgumentError: 400,
    InvalidStateError: 409,
    BackendUnavailableError: 503,
    RunFailedError: 409,
}


def all_error_classes() -> list[type[MlwsError]]:
    """Every exception class the module defines besides the base (new ones are covered automatically)."""
    found: list[Any] = [
        obj
        for _, obj in inspect.getmembers(errors, inspect.isclass)
        if issubclass(obj, BaseException) and obj.__module__ == errors.__name__ and obj is not MlwsError
    ]
    return sorted(found, key=lambda cls: cls.__name__)


# -- the tree -------------------------------------------------------------------------------------------
def test_every_documented_class_is_exported() -> None:
    classes: list[type[MlwsError]] = [MlwsError, *DOCUMENTED_STATUS]
    for cls in classes:
        assert cls.__name__ in errors.__all__
        assert getattr(errors, cls.__name__) is cls


@pytest.mark.parametrize(("cls", "status"), DOCUMENTED_STATUS.items(), ids=lambda x: getattr(x, "__name__", str(x)))
def test_documented_http_status(cls: type[MlwsError], status: int) -> None:
    assert issubclass(cls, MlwsError)
    assert cls.http_status == status
    assert cls("x").http_status == status


@pytest.mark.parametrize("cls", all_error_classes(), ids=lambda c: c.__name__)
def test_every_error_class_is_an_mlws_error_with_a_status(cls: type[MlwsError]) -> None:
    assert issubclass(cls, MlwsError), f"{cls.__name__} must subclass MlwsError (one exception tree)"
    assert isinstance(cls.http_status, int)
    assert 400 <= cls.http_status <= 599


@pytest.mark.parametrize("cls", [MlwsError, *all_error_classes()], ids=lambda c: c.__name__)
def test_pickle_round_trip(cls: type[MlwsError]) -> None:
    original = cls("model 'churn' — version 3 ünïcode")
    copy = pickle.loads(pickle.dumps(original))
    assert type(copy) is cls
    assert str(copy) == str(original) == "model 'churn' — version 3 ünïcode"
    assert copy.message == original.message
    assert copy.http_status == original.http_status
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert type(pickle.loads(pickle.dumps(original, protocol=protocol))) is cls


@pytest.mark.parametrize("cls", [MlwsError, *all_error_classes()], ids=lambda c: c.__name__)
def test_to_dict(cls: type[MlwsError]) -> None:
    body = cls("run 'x' not found").to_dict()
    assert body == {"type": cls.__name__, "message": "run 'x' not found"}
    assert json.loads(json.dumps(body)) == body


V1_NAMES: dict[str, tuple[type[MlwsError], int]] = {
    "AzureMLException": (MlwsError, 500),
    "UserErrorException": (InvalidArgumentError, 400),
    "ComputeTargetException": (MlwsError, 404),
    "ComputeTargetNotFoundError": (NotFoundError, 404),
    "ActivityFailedException": (RunFailedError, 409),
    "ExperimentExecutionException": (InvalidStateError, 409),
    "RunConfigurationException": (InvalidArgumentError, 400),
    "SnapshotException": (InvalidArgumentError, 400),
    "TrainingException": (InvalidStateError, 409),
    "ProjectSystemException": (InvalidStateError, 409),
    "ModelNotFoundException": (NotFoundError, 404),
    "ModelPathNotFoundException": (NotFoundError, 404),
    "WebserviceException": (InvalidStateError, 409),
}


@pytest.mark.parametrize("name", V1_NAMES)
def test_azure_ml_v1_exception_names_are_subclasses_in_the_tree(name: str) -> None:
    # v1 code's `except ComputeTargetException:` (azureml.exceptions) must work after `from jupyter_mlws
    # import ...`; and code written for this project catches the same error by the project's class.
    import jupyter_mlws

    cls = getattr(errors, name)
    project_class, status = V1_NAMES[name]
    assert name in errors.__all__ and issubclass(cls, errors.AzureMLException)
    assert issubclass(cls, project_class) and cls("x").http_status == status
    assert name.endswith("Error") or getattr(jupyter_mlws, name) is cls  # v1's own names, flat


def test_a_failed_run_raises_activity_failed_exception(ws: Workspace) -> None:
    run = Experiment(ws, "v1").start_logging()
    run.fail("diverged")
    with pytest.raises(errors.ActivityFailedException, match="diverged") as info:
        run.wait_for_completion()
    assert isinstance(info.value, RunFailedError)


def test_errors_are_caught_as_the_base() -> None:
    with pytest.raises(MlwsError) as info:
        raise NotFoundError("nothing here")
    assert info.value.http_status == 404
    assert str(info.value) == "nothing here"


def _raise_in_child(kind: str) -> None:
    raise getattr(errors, kind)(f"{kind} raised in a child process")


def test_errors_cross_a_process_boundary() -> None:
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        future = pool.submit(_raise_in_child, "InvalidStateError")
        with pytest.raises(InvalidStateError, match="raised in a child process") as info:
            future.result(timeout=120)
    assert type(info.value) is InvalidStateError
    assert info.value.http_status == 409


# -- public entry points give clear errors ---------------------------------------------------------------------
def names(value: str, error: BaseException) -> bool:
    """The message names the bad value (as typed, or quoted with repr)."""
    message = str(error)
    return value in message or repr(value) in message


def test_from_config_without_a_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    if any((folder / ".mlws" / "config.json").exists() for folder in (empty, *empty.parents)):
        pytest.skip("a workspace exists above the temporary folder")
    with pytest.raises(NotFoundError, match="mlws init"):
        Workspace.from_config(empty)
    monkeypatch.chdir(empty)
    with pytest.raises(NotFoundError, match="mlws init") as info:
        Workspace.from_config()
    assert str(empty.resolve()) in str(info.value)


def test_env_var_naming_no_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLWS_WORKSPACE", str(tmp_path / "nowhere"))
    with pytest.raises(NotFoundError, match="mlws init") as info:
        Workspace.from_config()
    assert "nowhere" in str(info.value)


@pytest.mark.parametrize("name", ["bad name!", "", "-leading-dash", "a/b", "x" * 256])
def test_bad_experiment_name(ws: Workspace, name: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Experiment(ws, name)
    assert names(name, info.value)
    assert info.value.http_status == 400


def test_bad_experiment_name_creates_nothing(ws: Workspace) -> None:
    with pytest.raises(InvalidArgumentError, match="bad name!"):
        Experiment(ws, "bad name!")
    assert Experiment.list(ws) == []


@pytest.mark.parametrize(
    "name",
    ["../escape.txt", "outputs/../../escape.txt", "..", "/etc/passwd", "/abs/file.txt", "C:\\Windows\\x.txt"],
)
def test_upload_file_refuses_escaping_and_absolute_names(ws: Workspace, tmp_path: Path, name: str) -> None:
    source = tmp_path / "payload.txt"
    source.write_text("payload")
    run = Experiment(ws, "e").start_logging()
    with pytest.raises(InvalidArgumentError) as info:
        run.upload_file(name, source)
    assert names(name, info.value)
    assert run.get_file_names() == []
    run.complete()


def test_log_text_value_names_the_metric(ws: Workspace) -> None:
    # Text is a metric value since v1 compatibility (issue 14); a dict or an object is not: the
    # error names the metric and where such a value goes instead.
    run = Experiment(ws, "e").start_logging()
    with pytest.raises(InvalidArgumentError, match=r"'val_loss'.*log_table\(\).*log_confusion_matrix\(\)"):
        run.log("val_loss", {"epoch": 1, "loss": 0.4})
    with pytest.raises(InvalidArgumentError, match=r"val_loss.*upload_file"):
        run.log("val_loss", object())
    run.log("val_loss", 0.5)  # the refusals claimed nothing: the series takes numbers
    with pytest.raises(InvalidArgumentError, match=r"val_loss.*already holds numbers"):
        run.log("val_loss", "0.4 or so")
    run.complete()
    assert run.get_metrics("val_loss") == {"val_loss": 0.5}


def test_missing_model(ws: Workspace) -> None:
    with pytest.raises(NotFoundError, match="missing") as info:
        Model(ws, "missing")
    assert info.value.http_status == 404


@pytest.mark.parametrize("url", ["mysql://x", "nothing-like-a-url"])
def test_create_with_unknown_metadata_url_leaves_no_workspace(tmp_path: Path, url: str) -> None:
    target = tmp_path / "bad"
    with pytest.raises(InvalidArgumentError) as info:
        Workspace.create(target, metadata_url=url)
    assert url.split(":")[0] in str(info.value)
    assert not (target / ".mlws" / "config.json").exists()
    with pytest.raises(NotFoundError):
        Workspace(target)


def test_create_with_unreachable_postgres_is_backend_unavailable(tmp_path: Path) -> None:
    target = tmp_path / "pg"
    url = "postgresql+psycopg://someone:s3cret-pw@127.0.0.1:1/nodb"
    with pytest.raises(BackendUnavailableError) as info:
        Workspace.create(target, metadata_url=url)
    assert info.value.http_status == 503
    assert "s3cret-pw" not in str(info.value), "the password must not leak into error messages"
    assert not (target / ".mlws" / "config.json").exists()
