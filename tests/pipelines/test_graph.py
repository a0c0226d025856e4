"""Pipeline objects and graph validation (issue 16): every problem validate() reports, without
raising; submit refuses a pipeline with problems before anything runs; v1's names and signatures."""

from __future__ import annotations

from pathlib import Path

import pytest

import jupyter_mlws
from jupyter_mlws import (
    Dataset,
    Experiment,
    NotebookStep,
    OutputFileDatasetConfig,
    Pipeline,
    PipelineData,
    PipelineParameter,
    PythonScriptStep,
    Workspace,
)
from jupyter_mlws.errors import InvalidArgumentError
from jupyter_mlws.pipelines.graph import topological_order


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    for name in ("a.py", "b.py", "c.py"):
        (folder / name).write_text("print('hi')\n")
    return folder


def step(name: str, src: Path, **kw: object) -> PythonScriptStep:
    return PythonScriptStep(
        f"{name}.py" if (src / f"{name}.py").exists() else "a.py", name=name, source_directory=src, **kw
    )  # type: ignore[arg-type]


def test_v1_names_are_exported_flat() -> None:
    for name in (
        "Pipeline",
        "PythonScriptStep",
        "NotebookStep",
        "PipelineData",
        "OutputFileDatasetConfig",
        "PipelineParameter",
        "PipelineRun",
        "StepRun",
        "DataReference",
        "DataPathComputeBinding",
    ):
        assert name in jupyter_mlws.__all__
        assert getattr(jupyter_mlws, name).__name__ == name


def test_a_valid_pipeline_has_no_problems_and_an_ordered_definition(ws: Workspace, src: Path) -> None:
    raw = PipelineData("raw")
    model = PipelineData("model")
    lr = PipelineParameter("lr", 0.1)
    c = step("c", src, arguments=["--model", model])
    b = step("b", src, arguments=["--raw", raw, "--model", model, "--lr", lr], outputs=[model])
    a = step("a", src, arguments=["--out", raw], outputs=[raw])
    pipeline = Pipeline(ws, [c])  # a and b come in through the closure (v1's resolve_closure)
    assert pipeline.validate() == []
    definition = pipeline._definition()
    assert [s["name"] for s in definition["steps"]] == ["a", "b", "c"]
    assert definition["parameters"] == {"lr": 0.1}
    by_name = {s["name"]: s for s in definition["steps"]}
    assert by_name["b"]["arguments"] == [
        {"value": "--raw"},
        {"data_input": "raw"},
        {"value": "--model"},
        {"output": "model"},
        {"value": "--lr"},
        {"parameter": "lr"},
    ]
    assert by_name["b"]["data_inputs"] == [{"name": "raw", "data": "raw", "mode": "mount"}]
    assert by_name["a"]["outputs"] == [{"name": "raw"}]
    assert a.compute_target == "local" and b.allow_reuse is True


def test_two_steps_with_one_name(ws: Workspace, src: Path) -> None:
    problems = Pipeline(ws, [step("a", src), step("a", src)]).validate()
    assert problems == ["two steps are named 'a': give each step its own name"]


def test_an_input_nobody_produces(ws: Workspace, src: Path) -> None:
    orphan = PipelineData("orphan")
    problems = Pipeline(ws, [step("b", src, arguments=["--in", orphan])]).validate()
    assert len(problems) == 1
    assert "step 'b' reads 'orphan', which no step of the pipeline writes" in problems[0]


def test_two_producers_of_one_data(ws: Workspace, src: Path) -> None:
    out = PipelineData("out")
    a = step("a", src, outputs=[out])
    b = step("b", src, outputs=[out])
    problems = Pipeline(ws, [a, b]).validate()
    assert any("'out' is written by two steps ('a' and 'b')" in p for p in problems), problems


def test_a_cycle_is_named(ws: Workspace, src: Path) -> None:
    x, y = PipelineData("x"), PipelineData("y")
    a = step("a", src, arguments=[y], outputs=[x])
    b = step("b", src, arguments=[x], outputs=[y])
    problems = Pipeline(ws, [a, b], resolve_closure=False).validate()
    assert any("cycle" in p and "'a'" in p and "'b'" in p for p in problems), problems
    c, d = step("c", src), step("a", src)
    c.run_after(d)
    d.run_after(c)
    problems = Pipeline(ws, [c, d]).validate()
    assert any("cycle ('c' -> 'a' -> 'c')" in p or "cycle ('a' -> 'c' -> 'a')" in p for p in problems), problems


def test_run_after_a_step_outside_the_pipeline(ws: Workspace, src: Path) -> None:
    a, b = step("a", src), step("b", src)
    b.run_after(a)
    assert Pipeline(ws, [b]).validate() == ["step 'b' runs after 'a', which is not in the pipeline"]
    with pytest.raises(InvalidArgumentError, match="cannot run after itself"):
        a.run_after(a)


def test_missing_script_notebook_and_folder(ws: Workspace, src: Path, tmp_path: Path) -> None:
    problems = Pipeline(
        ws,
        [
            PythonScriptStep("nope.py", source_directory=src),
            NotebookStep("nope.ipynb", source_directory=src),
            PythonScriptStep("a.py", name="elsewhere", source_directory=tmp_path / "missing"),
        ],
    ).validate()
    assert problems == [
        f"step 'nope.py': script 'nope.py' is not in source_directory {str(src)!r}",
        f"step 'nope.ipynb': notebook 'nope.ipynb' is not in source_directory {str(src)!r}",
        f"step 'elsewhere': source_directory {str(tmp_path / 'missing')!r} is not a folder",
    ]


def test_one_parameter_with_two_defaults(ws: Workspace, src: Path) -> None:
    a = step("a", src, arguments=[PipelineParameter("lr", 0.1)])
    b = step("b", src, arguments=[PipelineParameter("lr", 0.2)])
    problems = Pipeline(ws, [a, b]).validate()
    assert problems == ["the pipeline parameter 'lr' has two defaults (0.1 and 0.2): use one PipelineParameter object"]


def test_submit_refuses_a_pipeline_with_problems_before_anything_runs(ws: Workspace, src: Path) -> None:
    exp = Experiment(ws, "refused")
    pipeline = Pipeline(ws, [step("a", src), step("a", src), step("b", src, arguments=[PipelineData("gone")])])
    with pytest.raises(InvalidArgumentError) as info:
        exp.submit(pipeline)
    message = str(info.value)
    assert "two steps are named 'a'" in message and "'gone'" in message and "pipeline.validate()" in message
    assert list(exp.get_runs()) == []


def test_unknown_pipeline_parameters_and_keywords_are_refused(ws: Workspace, src: Path) -> None:
    exp = Experiment(ws, "params")
    pipeline = Pipeline(ws, [step("a", src, arguments=[PipelineParameter("lr", 0.1)])])
    with pytest.raises(InvalidArgumentError, match=r"no parameter 'alpha' \(its parameters: lr\)"):
        exp.submit(pipeline, pipeline_parameters={"alpha": 1})
    with pytest.raises(InvalidArgumentError, match="unknown keyword"):
        exp.submit(pipeline, not_a_keyword=True)
    assert list(exp.get_runs()) == []


def test_bad_step_arguments_are_clear(src: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="script_name"):
        PythonScriptStep("", source_directory=src)
    with pytest.raises(InvalidArgumentError, match="outputs hold PipelineData"):
        PythonScriptStep("a.py", source_directory=src, outputs=["not data"])
    with pytest.raises(InvalidArgumentError, match="invalid"):
        PipelineData("has space")
    with pytest.raises(InvalidArgumentError, match="default_value"):
        PipelineParameter("p", None)
    with pytest.raises(InvalidArgumentError, match="must be a list"):
        PythonScriptStep("a.py", source_directory=src, arguments="--x 1")
    with pytest.raises(InvalidArgumentError, match="takes a list of steps"):
        Pipeline(None, [])  # type: ignore[arg-type]


def test_a_pipeline_input_that_is_not_an_input_is_refused(ws: Workspace, src: Path) -> None:
    pipeline = Pipeline(ws, [step("a", src, inputs=[42])])
    with pytest.raises(InvalidArgumentError, match=r"inputs\[0\] \(42\) is not an input"):
        pipeline._definition()


def test_pipeline_data_is_refused_outside_a_pipeline(ws: Workspace, src: Path) -> None:
    from jupyter_mlws import ScriptRunConfig

    config = ScriptRunConfig(source_directory=src, script="a.py", arguments=[PipelineData("x")])
    with pytest.raises(InvalidArgumentError, match="connects the steps of a Pipeline"):
        Experiment(ws, "single").submit(config)


def test_dataset_inputs_become_references_described_again_at_submit(ws: Workspace, src: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "x.csv").write_text("a\n1\n")
    raw = Dataset.File.from_files(str(data)).as_named_input("raw").as_mount()
    definition = Pipeline(ws, [step("a", src, arguments=["--raw", raw])])._definition()
    (entry,) = definition["steps"][0]["inputs"]
    assert entry["type"] == "dataset" and entry["ref"]["name"] == "raw" and entry["ref"]["mode"] == "mount"
    assert "id" not in entry["ref"] and entry["ref"]["source"]["patterns"] == [str(data)]
    assert definition["steps"][0]["arguments"][1] == {"input": "raw"}


def test_output_file_dataset_config_registers_on_complete(ws: Workspace, src: Path) -> None:
    out = OutputFileDatasetConfig("scored").register_on_complete("scores", description="d", tags={"k": "v"})
    definition = Pipeline(ws, [step("a", src, arguments=[out], outputs=[out])])._definition()
    assert definition["steps"][0]["outputs"] == [
        {"name": "scored", "register": {"name": "scores", "description": "d", "tags": {"k": "v"}}}
    ]
    with pytest.raises(InvalidArgumentError, match="dataset name"):
        out.register_on_complete("")


def test_topological_order_keeps_the_given_order_among_ready_steps() -> None:
    assert topological_order({"a": [], "b": ["a"], "c": [], "d": ["b", "c"]}) == ["a", "c", "b", "d"]
    with pytest.raises(InvalidArgumentError, match="cycle"):
        topological_order({"a": ["b"], "b": ["a"]})
