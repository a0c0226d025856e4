"""Datastores and versioned datasets (issue 15): ``Datastore``, ``Dataset.Tabular`` /
``Dataset.File``, content fingerprints per version, lineage to runs and models.

Uses core's services and interfaces only; its store interface and SQL mixin live beside the
others (``core/interfaces/``, ``stores/metadata/sql/``), its REST routes in
``server/handlers/datasets.py`` (datastores: ``server/handlers/datastores.py``).

- ``datastore.py``: ``Datastore`` (a name for any fsspec URL; secrets kept out of the database) and
  ``DataPath`` (a ``(datastore, path)`` reference).
"""
