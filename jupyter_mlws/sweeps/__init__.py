"""Hyperparameter sweeps (issue 18, HyperDrive): parameter sampling, early termination policies
and parallel child runs.

Uses core's services and interfaces only (child runs are submitted through core's job service).
Nothing here yet: this package is the feature's room.
"""
