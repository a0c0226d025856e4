from __future__ import annotations

import itertools

import pytest

from jupyter_mlws import RunStatus
from jupyter_mlws.core.status import TERMINAL_STATUSES, TRANSITIONS, check_transition
from jupyter_mlws.errors import InvalidArgumentError, InvalidStateError


def test_status_is_a_str_enum_with_exact_names() -> None:
    assert RunStatus.COMPLETED == "Completed"
    assert str(RunStatus.CANCEL_REQUESTED) == "CancelRequested"
    assert [s.value for s in RunStatus] == [
        "NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing",
        "CancelRequested", "Completed", "Failed", "Canceled",
    ]  # fmt: skip


def test_every_status_has_a_row_and_terminal_states_are_final() -> None:
    assert set(TRANSITIONS) == set(RunStatus)
    for terminal in TERMINAL_STATUSES:
        assert TRANSITIONS[terminal] == frozenset()
        for other in RunStatus:
            with pytest.raises(InvalidStateError, match="already"):
                check_transition(terminal, other)


def test_lifecycle_moves_forward_only() -> None:
    path = ["NotStarted", "Queued", "Preparing", "Starting", "Running", "Finalizing", "Completed"]
    for a, b in itertools.pairwise(path):
        check_transition(RunStatus(a), RunStatus(b))
    with pytest.raises(InvalidStateError, match="cannot go from Running to Queued"):
        check_transition(RunStatus.RUNNING, RunStatus.QUEUED)
    for active in set(RunStatus) - TERMINAL_STATUSES:
        check_transition(active, RunStatus.FAILED)
        check_transition(active, RunStatus.CANCELED)


def test_parse_is_case_insensitive_and_lists_names() -> None:
    assert RunStatus.parse("completed") is RunStatus.COMPLETED
    with pytest.raises(InvalidArgumentError, match="NotStarted, Queued"):
        RunStatus.parse("done")
