"""The reuse key and its explanations (issue 16), part by part, without running jobs: each part of
the key flips it, and a miss names the first part that differs, in words a user reads."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlws import Workspace
from jupyter_mlws.pipelines.reuse import explain, reuse_key, reuse_parts


def parts(ws: Workspace, **changes: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "kind": "script",
        "script": "train.py",
        "arguments": ["--lr", "0.1", "PipelineData:in:data"],
        "params": {"alpha": 1},
        "environment": {"name": "sklearn-env", "version": 3},
        "python": "/venv/bin/python",
        "inputs": [{"type": "pipeline_data", "name": "data"}],
        "outputs": [{"name": "model"}],
    }
    upstream = {"data": "m1"}
    parameters = {"lr": 0.1}
    snapshot = "s1"
    for key, value in changes.items():
        if key == "upstream":
            upstream = value
        elif key == "parameters":
            parameters = value
        elif key == "snapshot":
            snapshot = value
        else:
            spec[key] = value
    return reuse_parts(ws, spec, snapshot, upstream, parameters)


CASES = [
    ({"upstream": {"data": "m2"}}, "input 'data' changed"),
    ({"parameters": {"lr": 0.2}}, "parameter lr 0.1 → 0.2"),
    ({"params": {"alpha": 2}}, "parameter alpha 1 → 2"),
    ({"params": {"alpha": 1, "beta": "x"}}, "parameter beta is new ('x')"),
    ({"snapshot": "s2"}, "source changed"),
    ({"script": "train2.py"}, "the step now runs 'train2.py' (was 'train.py')"),
    ({"arguments": ["--lr", "0.1", "--x"]}, "arguments changed: '--lr 0.1 PipelineData:in:data' → '--lr 0.1 --x'"),
    ({"environment": {"name": "sklearn-env", "version": 4}}, "environment sklearn-env 3 → 4"),
    ({"environment": None}, "environment sklearn-env:3 → none"),
    ({"environment": None, "python": "/other/bin/python"}, "environment sklearn-env:3 → none"),
    ({"outputs": [{"name": "model"}, {"name": "metrics"}]}, "outputs changed: [model] → [metrics, model]"),
    (
        {"outputs": [{"name": "model", "register": {"name": "models"}}]},
        "outputs changed: [model] → [model registered as 'models']",
    ),
    ({"kernel_name": "python3"}, "the step now runs on kernel python3 (was its environment)"),
    ({"kind": "notebook"}, "kind changed"),
]


@pytest.mark.parametrize(("change", "reason"), CASES, ids=[c[1][:30] for c in CASES])
def test_each_part_flips_the_key_and_is_named(ws: Workspace, change: dict[str, Any], reason: str) -> None:
    before, after = parts(ws), parts(ws, **change)
    assert reuse_key(before) != reuse_key(after)
    assert explain(ws, before, after) == reason


def test_the_same_parts_give_the_same_key_whatever_the_order(ws: Workspace) -> None:
    a = parts(ws)
    b = dict(reversed(list(parts(ws).items())))
    assert reuse_key(a) == reuse_key(b)
    assert len(reuse_key(a)) == 64


def test_input_refs_explain_but_do_not_key(ws: Workspace) -> None:
    """Which files an input holds explains a miss; only its digest is part of the key."""
    a = parts(ws)
    b = {**a, "input_refs": {"data": {"files": {"x.csv": "1"}}}}
    assert reuse_key(a) == reuse_key(b)


def test_unregistered_input_files_are_named(ws: Workspace) -> None:
    before = {"inputs": {"raw": "d1"}, "input_refs": {"raw": {"files": {"a.csv": "1", "b.csv": "2", "c.csv": "3"}}}}
    after = {"inputs": {"raw": "d2"}, "input_refs": {"raw": {"files": {"a.csv": "1", "b.csv": "9", "c.csv": "3"}}}}
    assert explain(ws, before, after) == "input 'raw' changed: 1 of 3 files (b.csv)"
    many = {"inputs": {"raw": "d3"}, "input_refs": {"raw": {"files": {f"f{i}": str(i) for i in range(6)}}}}
    fewer = {"inputs": {"raw": "d4"}, "input_refs": {"raw": {"files": {f"f{i}": "x" for i in range(6)}}}}
    assert explain(ws, many, fewer) == "input 'raw' changed: 6 of 6 files (f0, f1, f2 and 3 more)"
    assert explain(ws, {"inputs": {}}, {"inputs": {"new": "d"}}) == "input 'new' is new"
    assert explain(ws, {"inputs": {"old": "d"}}, {"inputs": {}}) == "input 'old' was removed"


def test_without_an_environment_the_interpreter_is_part_of_the_key(ws: Workspace) -> None:
    a = parts(ws, environment=None)
    b = parts(ws, environment=None, python="/other/bin/python")
    assert reuse_key(a) != reuse_key(b)
    assert explain(ws, a, b) == "the step now runs on python /other/bin/python (was python /venv/bin/python)"


def test_a_dataset_read_differently_is_another_input(ws: Workspace) -> None:
    """The same bytes read with another mode or reading settings (v1's keep_columns, a separator) are
    another input: a step reading them is not reused."""
    base = {"type": "dataset", "name": "raw", "kind": "tabular", "mode": "direct"}
    held = {"data": {"spec": {"columns": ["a", "b"]}}}
    one = parts(ws, inputs=[{**base, "dataset": {"digest": "d1"}, "held": held}])
    other = parts(ws, inputs=[{**base, "dataset": {"digest": "d1"}, "held": {"data": {"spec": {"columns": ["a"]}}}}])
    same = parts(ws, inputs=[{**base, "dataset": {"digest": "d1"}, "held": held}])
    assert reuse_key(one) == reuse_key(same)
    assert reuse_key(one) != reuse_key(other)
    assert (
        explain(ws, one, other)
        == "input 'raw': the same files, read differently (its mode or reading settings changed)"
    )
    v1 = parts(ws, inputs=[{**base, "dataset": {"digest": "d1", "id": "v1"}}])
    v2 = parts(ws, inputs=[{**base, "dataset": {"digest": "d1", "id": "v2"}}])
    assert reuse_key(v1) != reuse_key(v2)  # a registered version's id stands for how it is read
