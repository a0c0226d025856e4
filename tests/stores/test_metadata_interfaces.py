"""The shape of the metadata store: one interface per concern, one SQL mixin per interface.

``MetadataStore`` is only the composition of its concerns, and ``SqlMetadataStore`` pairs each concern
with the mixin that implements exactly its methods, so that a new feature adds an interface and a
mixin instead of growing one class (see ``MetadataStore``'s docstring).
"""

from __future__ import annotations

import inspect

from jupyter_mlws.core.interfaces import MetadataInterface, MetadataStore
from jupyter_mlws.stores.metadata.sql import SqlMetadataStore
from jupyter_mlws.stores.metadata.sql.base import SqlStoreBase


def _concerns() -> list[type]:
    return list(MetadataStore.__bases__)


def _mixins() -> list[type]:
    return [base for base in SqlMetadataStore.__bases__ if base is not MetadataStore]


def _public_methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if inspect.isfunction(value) and not name.startswith("_")}


def test_metadata_store_is_only_the_composition_of_its_concerns() -> None:
    concerns = _concerns()
    assert len(concerns) >= 8 and all(issubclass(c, MetadataInterface) for c in concerns)
    assert not _public_methods(MetadataStore), "MetadataStore declares nothing: methods belong to a concern"
    seen: dict[str, str] = {}
    for concern in concerns:
        assert concern.__abstractmethods__, f"{concern.__name__} declares no method"
        for name in concern.__abstractmethods__:
            assert name not in seen, f"{name} is in both {seen[name]} and {concern.__name__}"
            seen[name] = concern.__name__
    assert set(seen) == set(MetadataStore.__abstractmethods__)
    assert not MetadataInterface.__abstractmethods__  # the shared root holds only url and close


def test_each_sql_mixin_implements_exactly_one_concern() -> None:
    concerns, mixins = _concerns(), _mixins()
    assert len(mixins) == len(concerns), "one SQL mixin per concern, in the order of MetadataStore's bases"
    for concern, mixin in zip(concerns, mixins, strict=True):
        assert issubclass(mixin, SqlStoreBase) and issubclass(mixin, concern)
        others = [c.__name__ for c in concerns if c is not concern and issubclass(mixin, c)]
        assert not others, f"{mixin.__name__} implements {others} too"
        assert not mixin.__abstractmethods__, f"{mixin.__name__} leaves {sorted(mixin.__abstractmethods__)} open"
        assert _public_methods(mixin) == set(concern.__abstractmethods__), (
            f"{mixin.__name__}'s public methods must be exactly {concern.__name__}'s"
        )
        assert mixin.__name__ in (concern.__doc__ or ""), f"{concern.__name__}'s docstring must name its mixin"


def test_the_old_import_paths_keep_working() -> None:
    from jupyter_mlws.core.interfaces import ArtifactStore, MetricTuple
    from jupyter_mlws.core.interfaces import MetadataStore as Again

    assert Again is MetadataStore and ArtifactStore.__name__ == "ArtifactStore"
    assert MetricTuple == tuple[str, float, int | None, float]
