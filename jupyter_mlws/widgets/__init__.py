"""Notebook widgets (ipywidgets + plotly): ``RunDetails(run).show()``."""

from .run_details import RunDetails

__all__ = ["RunDetails"]
