"""The Run API of DESIGN §2 and §6 on the embedded default."""

from __future__ import annotations

import io
import math
import os
import zipfile  # noqa: F401 - imported to make sure nothing shadows the stdlib name in tests
from pathlib import Path

import pytest

from jupyter_mlws import Experiment, Run, RunStatus, Workspace
from jupyter_mlws.core.runs import OfflineRun
from jupyter_mlws.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidStateError,
    NotFoundError,
    RunFailedError,
)


@pytest.fixture
def exp(ws: Workspace) -> Experiment:
    return Experiment(ws, "train")


def test_start_logging_gives_a_running_run_with_identity(exp: Experiment) -> None:
    run = exp.start_logging(display_name="first", tags={"k": 1}, properties={"p": True})
    assert run.status == "Running" and run.get_status() == "Running"
    assert run.id.startswith("train_") and run.number == 1
    assert run.experiment == exp and run.parent is None
    assert (run.display_name, run.tags, run.properties) == ("first", {"k": "1"}, {"p": "True"})
    assert exp.start_logging().number == 2
    fetched = Run(exp, run.id)
    assert fetched == run and fetched.display_name == "first"


def test_run_from_wrong_experiment_or_unknown_id(ws: Workspace, exp: Experiment) -> None:
    run = exp.start_logging()
    with pytest.raises(NotFoundError, match="belongs to experiment 'train'"):
        Run(Experiment(ws, "other"), run.id)
    with pytest.raises(NotFoundError):
        Run(exp, "nope")


def test_context_manager_completes_or_fails_with_traceback(exp: Experiment) -> None:
    with exp.start_logging() as ok:
        ok.log("x", 1)
    assert ok.status == RunStatus.COMPLETED
    with pytest.raises(ZeroDivisionError), exp.start_logging() as bad:
        _ = 1 / 0
    details = bad.get_details()
    assert details["status"] == "Failed"
    assert "ZeroDivisionError" in details["error"]["message"]
    assert "1 / 0" in details["error"]["traceback"]
    assert details["endTimeUtc"] is not None


def test_illegal_transitions_raise(exp: Experiment) -> None:
    run = exp.start_logging()
    run.complete()
    with pytest.raises(InvalidStateError, match="already Completed"):
        run.fail("late")
    with pytest.raises(InvalidStateError):
        run.cancel()
    canceled = exp.start_logging()
    canceled.cancel()
    assert canceled.status == "Canceled"


def test_metric_shapes(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("single", 0.5)
    for i in range(3):
        run.log("series", i * 1.5, step=i)
    run.log_list("listed", [1, 2, 3])
    run.log_row("roc", fpr=0.0, tpr=0.1)
    run.log_row("roc", fpr=0.5, tpr=0.9, thr=0.3)
    run.log_table("table", {"a": [1, 2], "b": ["x", "y"]})
    metrics = run.get_metrics()
    assert metrics["single"] == 0.5
    assert metrics["series"] == [0.0, 1.5, 3.0]
    assert metrics["listed"] == [1.0, 2.0, 3.0]
    assert metrics["roc"] == {"fpr": [0.0, 0.5], "tpr": [0.1, 0.9], "thr": [None, 0.3]}
    assert metrics["table"] == {"a": [1, 2], "b": ["x", "y"]}
    assert run.get_metrics("series") == {"series": [0.0, 1.5, 3.0]}
    assert run.get_metrics("absent") == {}
    history = run.get_metric_history("series")
    assert [(p.value, p.step) for p in history] == [(0.0, 0), (1.5, 1), (3.0, 2)]


def test_table_rows_keep_nan_and_refuse_objects(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_row("t", v=math.nan, w=math.inf)
    got = run.get_metrics("t")["t"]
    assert math.isnan(got["v"][0]) and got["w"] == [math.inf]
    with pytest.raises(InvalidArgumentError, match="column 'o'"):
        run.log_row("t", o=object())
    with pytest.raises(InvalidArgumentError, match="different lengths"):
        run.log_table("u", {"a": [1], "b": [1, 2]})
    with pytest.raises(InvalidArgumentError, match="needs columns"):
        run.log_row("t")


def test_metric_kind_conflicts_are_caught_where_logged(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("acc", 1.0)
    with pytest.raises(InvalidArgumentError, match="already holds numbers"):
        run.log_row("acc", x=1)
    run.log_row("rows", x=1)
    with pytest.raises(InvalidArgumentError, match="already holds table rows"):
        run.log("rows", 2.0)


def test_bad_metric_names_and_steps(exp: Experiment) -> None:
    run = exp.start_logging()
    for bad in ("", " padded", "x" * 300, "tab\there", 7):
        with pytest.raises(InvalidArgumentError):
            run.log(bad, 1.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="step"):
        run.log("ok", 1.0, step="3")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="step"):
        run.log("ok", 1.0, step=1.5)  # type: ignore[arg-type]


def test_log_image_from_file_and_figure(exp: Experiment, tmp_path: Path) -> None:
    matplotlib = pytest.importorskip("matplotlib")  # a [plots] extra; installed by [dev]
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = exp.start_logging()
    png = tmp_path / "pic.png"
    fig = plt.figure()
    plt.plot([1, 2, 3])
    fig.savefig(png)
    run.log_image("from_file", path=png)
    run.log_image("from_plot", plot=fig)
    plt.close(fig)
    metrics = run.get_metrics()
    assert metrics["from_file"].startswith("images/from_file_") and metrics["from_file"].endswith(".png")
    assert metrics["from_plot"] in run.get_file_names()
    with run.open_file(metrics["from_plot"]) as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidArgumentError, match="exactly one"):
        run.log_image("x")
    with pytest.raises(NotFoundError):
        run.log_image("x", path=tmp_path / "missing.png")


def test_params_are_immutable(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log_param("lr", 0.01)
    run.log_params({"lr": 0.01, "epochs": 3})
    with pytest.raises(InvalidStateError, match="'lr' is already set"):
        run.log_param("lr", 0.02)
    assert run.get_params() == {"lr": "0.01", "epochs": "3"}
    assert run.get_details()["params"] == {"epochs": "3", "lr": "0.01"}


def test_log_batch_is_the_write_primitive(exp: Experiment) -> None:
    run = exp.start_logging()
    run.log("a", 1.0)  # buffered point must stay before the batch's points
    run.log_batch(metrics=[("a", 2.0, 1), ("b", 3, None)], params={"p": "v"}, tags={"t": "x"})
    assert run.get_metrics() == {"a": [1.0, 2.0], "b": 3.0}
    assert (run.get_params(), run.tags) == ({"p": "v"}, {"t": "x"})
    with pytest.raises(InvalidArgumentError, match="tuples"):
        run.log_batch(metrics=[("only-two", 1.0)])  # type: ignore[list-item]
    with pytest.raises(InvalidArgumentError, match="takes numbers"):
        run.log_batch(metrics=[("a", "x", None)])


def test_tags_are_mutable_properties_are_not(exp: Experiment) -> None:
    run = exp.start_logging()
    run.tag("best")
    run.tag("stage", "dev")
    run.set_tags({"stage": "prod", "n": 2})
    run.remove_tags(["n"])
    assert run.tags == {"best": "", "stage": "prod"}
    run.add_properties({"git": "abc"})
    with pytest.raises(InvalidStateError, match="immutable"):
        run.add_properties({"git": "def"})
    assert run.get_properties() == {"git": "abc"}


def test_display_name_can_change(exp: Experiment) -> None:
    run = exp.start_logging()
    run.display_name = "renamed"
    assert Run(exp, run.id).display_name == "renamed"


def test_files_upload_list_download(exp: Experiment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = exp.start_logging()
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("A")
    (src / "sub" / "b.txt").write_text("B")
    run.upload_file("outputs/model.bin", src / "a.txt")
    run.upload_file("notes/stream.txt", io.BytesIO(b"streamed"))
    assert run.upload_folder("data", src) == ["data/a.txt", "data/sub/b.txt"]
    run.upload_files(["x/1.txt", "x/2.txt"], [src / "a.txt", src / "sub" / "b.txt"])
    assert run.get_file_names() == [
        "data/a.txt", "data/sub/b.txt", "notes/stream.txt", "outputs/model.bin", "x/1.txt", "x/2.txt",
    ]  # fmt: skip
    with pytest.raises(AlreadyExistsError, match="immutable"):
        run.upload_file("outputs/model.bin", src / "a.txt")
    out = tmp_path / "out"
    out.mkdir()
    assert Path(run.download_file("notes/stream.txt", out)).read_bytes() == b"streamed"
    assert Path(run.download_file("outputs/model.bin", out / "renamed.bin")).read_text() == "A"
    monkeypatch.chdir(out)
    assert run.download_file("data/a.txt") == "a.txt" and Path("a.txt").read_text() == "A"
    written = run.download_files(prefix="data", output_directory=tmp_path / "all")
    assert sorted(Path(p).relative_to(tmp_path / "all").as_posix() for p in written) == ["data/a.txt", "data/sub/b.txt"]
    flat = run.download_files(prefix="data", output_directory=tmp_path / "flat", append_prefix=False)
    assert sorted(Path(p).relative_to(tmp_path / "flat").as_posix() for p in flat) == ["a.txt", "sub/b.txt"]
    assert len(run.download_files(output_directory=tmp_path / "every")) == 6


def test_identical_bytes_are_stored_once(ws: Workspace, exp: Experiment, tmp_path: Path) -> None:
    f = tmp_path / "big.bin"
    f.write_bytes(os.urandom(100_000))
    for _ in range(3):
        exp.start_logging().upload_file("outputs/big.bin", f)
    assert len(list(ws.artifacts.iter_digests())) == 1


def test_file_names_may_not_escape(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    f = tmp_path / "f.txt"
    f.write_text("x")
    for bad in ("../up.txt", "a/../../up.txt", "/etc/passwd", "C:/x.txt", "", "\\\\server\\x"):
        with pytest.raises(InvalidArgumentError):
            run.upload_file(bad, f)
    with pytest.raises(InvalidArgumentError):
        run.download_file("../x")
    with pytest.raises(NotFoundError, match="no file at"):
        run.upload_file("ok.txt", tmp_path / "missing.txt")
    assert run.upload_file("./a//b.txt", f) == "a/b.txt"


def test_children(exp: Experiment) -> None:
    parent = exp.start_logging()
    child = parent.child_run(name="c0")
    assert child.parent == parent and child.display_name == "c0" and child.status == "Running"
    kids = parent.create_children(2)
    tagged = parent.create_children(tag_key="fold", tag_values=["a", "b"])
    grandchild = child.child_run()
    assert [r.id for r in parent.get_children()] == [child.id, *(k.id for k in kids), *(t.id for t in tagged)]
    assert grandchild in parent.get_children(recursive=True)
    assert [t.tags for t in tagged] == [{"fold": "a"}, {"fold": "b"}]
    child.log("loss", 0.1)
    parent.log("loss", 0.2)
    recursive = parent.get_metrics(recursive=True)
    assert recursive[parent.id] == {"loss": 0.2} and recursive[child.id] == {"loss": 0.1}
    assert recursive[grandchild.id] == {}
    with pytest.raises(InvalidArgumentError):
        parent.create_children(0)
    # Children stay out of plain listings unless asked for.
    assert [r.id for r in exp.get_runs()] == [parent.id]
    assert len(list(exp.get_runs(include_children=True))) == 7


def test_get_runs_filters(exp: Experiment) -> None:
    a = exp.start_logging(tags={"team": "x"}, properties={"kind": "base"})
    b = exp.start_logging(tags={"team": "y"})
    a.complete()
    assert [r.id for r in exp.get_runs()] == [b.id, a.id]
    assert [r.id for r in exp.get_runs(tags={"team": "x"})] == [a.id]
    assert [r.id for r in exp.get_runs(tags="team")] == [b.id, a.id]
    assert [r.id for r in exp.get_runs(properties="kind")] == [a.id]
    assert [r.id for r in exp.get_runs(status="Completed")] == [a.id]
    assert [r.id for r in exp.get_runs(status=RunStatus.RUNNING)] == [b.id]
    with pytest.raises(InvalidArgumentError):
        list(exp.get_runs(status="finished"))


def test_search_runs_paging_and_workspace_scope(ws: Workspace, exp: Experiment) -> None:
    other = Experiment(ws, "other")
    runs = []
    for i in range(5):
        r = exp.start_logging()
        r.log("acc", i / 4)
        r.log_param("lr", "0.01" if i % 2 else "0.1")
        runs.append(r)
    o = other.start_logging()
    o.log("acc", 1.5)
    page = exp.search_runs("metrics.acc > 0.2", order_by=["metrics.acc DESC"], max_results=2)
    assert [r.id for r in page.runs] == [runs[4].id, runs[3].id]
    rest = exp.search_runs("metrics.acc > 0.2", order_by=["metrics.acc DESC"], page_token=page.next_page_token)
    assert [r.id for r in rest] == [runs[2].id, runs[1].id] and rest.next_page_token is None
    assert [r.id for r in ws.search_runs("metrics.acc > 1.2")] == [o.id]
    assert [r.id for r in ws.search_runs("metrics.acc > 1.2", experiments=["train"])] == []
    assert len(ws.search_runs(experiments=[other, "missing"])) == 1
    assert len(exp.search_runs("metrics.acc > 0.5 and params.lr = '0.01'")) == 1
    for bad in (0, -1, 100_000, "10"):
        with pytest.raises(InvalidArgumentError, match="max_results"):
            exp.search_runs(max_results=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        exp.search_runs("metrics.acc >> 1")


def test_get_details_shape(exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging(display_name="d")
    f = tmp_path / "log.txt"
    f.write_text("hello")
    run.upload_file("user_logs/std_log.txt", f)
    run.fail(RuntimeError("boom"), error_details={"code": 3})
    d = run.get_details()
    for key in (
        "runId",
        "status",
        "startTimeUtc",
        "endTimeUtc",
        "properties",
        "tags",
        "params",
        "inputDatasets",
        "logFiles",
    ):
        assert key in d
    assert d["logFiles"] == {"user_logs/std_log.txt": "user_logs/std_log.txt"}
    assert d["error"]["message"] == "RuntimeError: boom" and d["error"]["details"] == {"code": 3}
    assert d["startTimeUtc"].endswith("Z")


def test_wait_for_completion(exp: Experiment, capsys: pytest.CaptureFixture[str]) -> None:
    done = exp.start_logging()
    done.complete()
    assert done.wait_for_completion(show_output=True)["status"] == "Completed"
    assert "Completed" in capsys.readouterr().out
    failed = exp.start_logging()
    failed.fail("bad data")
    with pytest.raises(RunFailedError, match="bad data"):
        failed.wait_for_completion()
    assert failed.wait_for_completion(raise_on_error=False)["status"] == "Failed"
    running = exp.start_logging()
    with pytest.raises(TimeoutError):
        running.wait_for_completion(timeout=0.2)


def test_get_context_inside_and_outside_a_job(
    ws: Workspace, exp: Experiment, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    offline = Run.get_context()
    assert isinstance(offline, OfflineRun)
    offline.log("acc", 0.5)
    offline.log_param("lr", 1)
    assert "acc" in capsys.readouterr().out
    assert offline.get_metrics() == {"acc": 0.5}
    with pytest.raises(InvalidArgumentError):
        offline.log("acc", "high")
    with pytest.raises(InvalidStateError, match="MLWS_RUN_ID"):
        Run.get_context(allow_offline=False)
    job = exp.start_logging()
    monkeypatch.setenv("MLWS_RUN_ID", job.id)
    monkeypatch.setenv("MLWS_WORKSPACE", str(ws.root))
    context = Run.get_context()
    assert isinstance(context, Run) and context == job


def test_register_model_from_run(ws: Workspace, exp: Experiment, tmp_path: Path) -> None:
    run = exp.start_logging()
    f = tmp_path / "m.pkl"
    f.write_bytes(b"weights")
    run.upload_file("outputs/model.pkl", f)
    model = run.register_model("clf", "outputs/model.pkl", tags={"t": 1}, description="d")
    assert (model.name, model.version, model.run_id, model.tags) == ("clf", 1, run.id, {"t": "1"})
    assert model.run == run
