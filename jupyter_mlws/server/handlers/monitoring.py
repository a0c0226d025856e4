"""Room for wave 2: data drift monitors and their results (see ``monitoring/``).

Registers no routes yet. The feature adds its handler classes here (deriving from ``MlwsHandler``),
its rows to the route table in ``handlers/__init__.py`` and its operations to ``openapi.yaml``.
"""
