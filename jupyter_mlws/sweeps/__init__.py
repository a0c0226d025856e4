"""Hyperparameter sweeps (issue 18, v1's HyperDrive): parameter expressions and sampling (grid,
random, Bayesian with Optuna's TPE), early-termination policies, and the sweep controller that runs
the trials as child jobs on any compute target.

Uses core's services and interfaces, the run facade and core's job service (trials are jobs like
any other). The controller is a resumable run driver (``core.registry.run_drivers``): the dispatcher
agent forks it, and gives a sweep whose controller died a new one.
"""
