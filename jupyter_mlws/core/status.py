"""Run statuses and the table of allowed transitions (Azure ML v1 names)."""

from __future__ import annotations

from enum import Enum

from ..errors import InvalidStateError

__all__ = ["ACTIVE_STATUSES", "TERMINAL_STATUSES", "TRANSITIONS", "RunStatus", "check_transition"]


class RunStatus(str, Enum):
    """A run's status. A ``str`` enum: ``run.status == "Completed"`` holds."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES

    @classmethod
    def parse(cls, value: str) -> RunStatus:
        """The status named ``value`` (case-insensitive), or an error listing the valid names."""
        for status in cls:
            if status.value.lower() == str(value).lower():
                return status
        from ..errors import InvalidArgumentError

        names = ", ".join(s.value for s in cls)
        raise InvalidArgumentError(f"unknown run status {value!r}; use one of: {names}")


S = RunStatus
TERMINAL_STATUSES = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})
ACTIVE_STATUSES = frozenset(set(S) - TERMINAL_STATUSES)

# Forward-only lifecycle. Any active state may fail or be canceled; a cancel request may still be
# overtaken by the job finishing on its own. Terminal states are final.
TRANSITIONS: dict[RunStatus, frozenset[RunStatus]] = {
    # NotStarted -> Completed: a pipeline step reused from an earlier run never runs (issue 16).
    S.NOT_STARTED: frozenset(
        {S.QUEUED, S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.COMPLETED, S.FAILED, S.CANCELED}
    ),
    S.QUEUED: frozenset({S.PREPARING, S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.FAILED, S.CANCELED}),
    S.PREPARING: frozenset({S.STARTING, S.RUNNING, S.CANCEL_REQUESTED, S.FAILED, S.CANCELED}),
    S.STARTING: frozenset({S.RUNNING, S.CANCEL_REQUESTED, S.FAILED, S.CANCELED}),
    S.RUNNING: frozenset({S.FINALIZING, S.COMPLETED, S.CANCEL_REQUESTED, S.FAILED, S.CANCELED}),
    S.FINALIZING: frozenset({S.COMPLETED, S.CANCEL_REQUESTED, S.FAILED, S.CANCELED}),
    S.CANCEL_REQUESTED: frozenset({S.CANCELED, S.FAILED, S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


def check_transition(current: RunStatus, new: RunStatus, run_id: str = "") -> None:
    """Raise :class:`InvalidStateError` unless ``current -> new`` is in the table."""
    if new not in TRANSITIONS[current]:
        what = f"run {run_id}" if run_id else "the run"
        if current in TERMINAL_STATUSES:
            raise InvalidStateError(f"{what} is already {current.value}; a finished run cannot become {new.value}")
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current]))
        raise InvalidStateError(f"{what} cannot go from {current.value} to {new.value} (allowed: {allowed})")
