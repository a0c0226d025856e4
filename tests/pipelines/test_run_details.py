"""RunDetails on a PipelineRun (issue 16): the graph with live step states, reused steps marked with
their reason, and the same in the text summary."""

from __future__ import annotations

from jupyter_mlws import Pipeline, PipelineData, PythonScriptStep
from jupyter_mlws.widgets import RunDetails
from tests.pipelines.conftest import PipeKit


def test_run_details_of_a_pipeline_run_shows_its_graph_and_reuse(pk: PipeKit) -> None:
    pk.script("make.py", "Path(sys.argv[1], 'x').write_text('x')\n")
    pk.script("use.py", "print(Path(sys.argv[1], 'x').read_text())\n")
    made = PipelineData("made")
    make = PythonScriptStep("make.py", name="make", arguments=[made], outputs=[made], source_directory=pk.src)
    left = PythonScriptStep("use.py", name="left", arguments=[made], source_directory=pk.src)
    right = PythonScriptStep("use.py", name="right", arguments=[made, "r"], source_directory=pk.src)
    pipeline = Pipeline(pk.ws, [make, left, right])
    pk.exp.submit(pipeline).wait_for_completion(show_output=False)
    run = pk.exp.submit(pipeline)
    run.wait_for_completion(show_output=False)

    details = RunDetails(run)
    assert details.refresh() is True
    assert details.tabs.get_title(0) == "Steps"
    edges, nodes = details._graph_figure.data  # type: ignore[union-attr]
    assert list(nodes.text) == ["make", "left", "right"]
    assert list(nodes.marker.symbol) == ["circle-open"] * 3  # all reused
    assert all("nothing it depends on changed" in h for h in nodes.hovertext)
    assert len([x for x in edges.x if x is None]) == 2  # make -> left, make -> right
    ys = dict(zip(nodes.text, nodes.y, strict=True))
    assert ys["left"] == ys["right"] < ys["make"]  # one layer below the step they read
    assert "<td>yes</td>" in details._steps_table.value
    text = details.summary_text()
    assert "Steps (3):" in text and "make (" in text and "reused from" in text
