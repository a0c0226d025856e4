"""Model deployment (issue 17): web services (local process and Docker), the scoring server,
key authentication, telemetry and input capture for monitoring.

Uses core's services and interfaces only; its REST routes live in ``server/handlers/webservices.py``.
Nothing here yet: this package is the feature's room.
"""
