"""Compute targets: the job lifecycle (``lifecycle``), the local target and its dispatcher (``agent``)."""
