"""Data-drift monitoring (issue 20): ``DataDriftDetector`` over datasets and a service's captured
inputs, per-feature distances and an overall drift magnitude logged as runs.

Uses core's services and interfaces only. Nothing here yet: this package is the feature's room.
"""
