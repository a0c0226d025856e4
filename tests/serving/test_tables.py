"""The rows ``mlws services`` and ``%mlws services`` share (``serving/tables.py``), without a service."""

from __future__ import annotations

from typing import Any

from jupyter_mlws.serving.tables import SERVICE_HEADERS, detail_rows, error_line, service_rows, time_text

TRACEBACK = (
    'Traceback (most recent call last):\n  File "score.py", line 2, in init\n    raise ValueError("x")\nValueError: x\n'
)


def view(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "svc",
        "compute_type": "Local",
        "state": "Healthy",
        "error": None,
        "scoring_uri": "http://127.0.0.1:5001/score",
        "swagger_uri": "http://127.0.0.1:5001/swagger.json",
        "port": 5001,
        "auth_enabled": True,
        "models": ["a:1", "b:2"],
        "generation": 1,
        "entry_script": "score.py",
        "created_time": "2026-12-03T10:00:00.000000Z",
        "updated_time": "2026-12-03T10:05:00.500000Z",
        "description": None,
        "tags": {"team": "x"},
        "properties": {},
    }
    return data | changes


def test_error_line_keeps_what_failed_and_why() -> None:
    assert error_line(TRACEBACK) == "ValueError: x"
    assert error_line(f"web service 'svc' deployment failed (Failed):\n{TRACEBACK}") == (
        "web service 'svc' deployment failed (Failed): ValueError: x"
    )
    assert error_line("one line") == "one line"
    assert error_line(None) == "" and error_line("\n \n") == ""


def test_rows_of_a_service() -> None:
    assert len(SERVICE_HEADERS) == 6
    assert service_rows([view()]) == [
        ["svc", "Local", "Healthy", "http://127.0.0.1:5001/score", "a:1, b:2", "2026-12-03 10:05:00"]
    ]
    assert service_rows([view(scoring_uri=None, state="Transitioning")])[0][2:4] == ["Transitioning", ""]
    fields = dict(detail_rows(view()))
    assert fields["auth"].startswith("key") and fields["tag team"] == "x" and "error" not in fields
    failed = dict(detail_rows(view(state="Failed", error=TRACEBACK, entry_script=None, auth_enabled=False)))
    assert failed["error"] == "ValueError: x" and failed["auth"] == "none"
    assert failed["entry script"] == "(none: MLflow request shapes)"
    assert time_text(None) == "" and time_text("not a time") == "not a time"
