"""Pipelines (issue 16): the step graph, ``PythonScriptStep`` / ``NotebookStep``, content-aware
step reuse, published pipelines and schedules that survive restarts.

Uses core's services and interfaces only (jobs are submitted through core's job service); its SQL
mixin lives in ``stores/metadata/sql/``, its REST routes in ``server/handlers/pipelines.py``.
Nothing here yet: this package is the feature's room.
"""
