"""Model deployment (issue 17): web services (local process and Docker), the scoring server,
key authentication, telemetry and input capture for monitoring.

Uses core's services and interfaces, and the model, environment and compute-target facades (see
``tests/test_layering.py``); its REST routes live in ``server/handlers/webservices.py``. The scoring
worker (``python -m jupyter_mlws.serving.worker``) and the modules it imports — ``protocol``,
``scoring``, ``schema``, ``telemetry``, ``capture``, ``layout`` — also run alone in packaged images:
they import nothing else of the project, and nothing heavy at import (this ``__init__`` stays empty
of imports for that reason).
"""
