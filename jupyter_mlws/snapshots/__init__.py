"""Snapshots: a run's code, captured before it runs (ignore rules, content-addressed, zip export)."""

from .archive import extract_zip, load_manifest, restore_snapshot, write_zip
from .capture import DEFAULT_MAX_BYTES, DEFAULT_MAX_FILES, SecretFilesExcludedWarning, Snapshot, capture_snapshot
from .git import GIT_PROPERTIES, git_properties
from .ignore import SECRET_PATTERNS, IgnoreRules
from .manifest import Manifest, ManifestEntry

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "GIT_PROPERTIES",
    "SECRET_PATTERNS",
    "IgnoreRules",
    "Manifest",
    "ManifestEntry",
    "SecretFilesExcludedWarning",
    "Snapshot",
    "capture_snapshot",
    "extract_zip",
    "git_properties",
    "load_manifest",
    "restore_snapshot",
    "write_zip",
]
