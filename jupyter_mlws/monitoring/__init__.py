"""Data-drift monitoring (issue 20): ``DataDriftDetector`` compares a baseline dataset with each
interval of a time-series target dataset — or a deployed service's captured inputs — measures every
feature (``measures.py``) and the overall drift magnitude, and records each check as runs; alerts go
out when the magnitude passes the threshold.

Modules: ``intervals`` (UTC alignment), ``measures`` (the statistics), ``detector`` (the facade),
``check`` (one interval → a child run), ``driver`` (the agent's driver of a check), ``schedule`` (fires
of a detector's schedule), ``results`` (reading checks back), ``views`` (JSON for REST, CLI and Lab),
``alerts``, ``figures``. Uses core's services and interfaces, and the datasets feature by its public names.
"""
