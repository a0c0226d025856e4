"""Metadata stores: experiments, runs, metrics, params, tags, file indexes and the model registry.

The interface is :class:`jupyter_mlws.core.interfaces.MetadataStore`; ``sql/`` implements it with
SQLAlchemy for SQLite and PostgreSQL.
"""
