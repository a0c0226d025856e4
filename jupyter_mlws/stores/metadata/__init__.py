"""Metadata stores: experiments, runs, metrics, params, tags, file indexes and the model registry.

The interface is :class:`jupyter_mlws.core.interfaces.MetadataStore`, the composition of one small
interface per concern; ``sql/`` implements it with SQLAlchemy for SQLite and PostgreSQL, one mixin
per concern (``sql/runs.py`` for ``RunStore``, ``sql/tracking.py`` for ``TrackingStore``, …).
"""
