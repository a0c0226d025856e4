"""Store back ends: ``metadata/`` (experiments, runs, models) and ``artifacts/`` (content-addressed blobs).

The core talks to them only through :mod:`jupyter_mlws.core.interfaces` and opens them by URL scheme
through :mod:`jupyter_mlws.core.registry`.
"""
