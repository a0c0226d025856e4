"""Tables of the SQL metadata store (SQLAlchemy Core). Alembic migrations must match this exactly.

Numbers that matter for speed:
- metric points are narrow rows keyed by (series id, sequence number), inserted with ``executemany``;
- each series keeps its latest value, so searches over metrics never scan the points.
NaN: SQLite stores it as NULL, PostgreSQL as NaN; readers turn NULL back into NaN (NULL means nothing
else there). ``metric_series.last_value`` always holds NULL for NaN, so comparisons agree on both.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["metadata"]

# SQLite makes "INTEGER PRIMARY KEY" the rowid (fast appends); PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

experiments = Table(
    "experiments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("created_time", Float, nullable=False),
    # Run numbers are handed out from this counter inside the transaction that creates the run.
    Column("last_run_number", Integer, nullable=False, server_default="0"),
)

runs = Table(
    "runs",
    metadata,
    Column("key", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(255), nullable=False, unique=True),
    Column("experiment_id", Integer, ForeignKey("experiments.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("parent_key", BigId, ForeignKey("runs.key", ondelete="CASCADE"), nullable=True),
    Column("display_name", String(255), nullable=True),
    Column("status", String(32), nullable=False),
    Column("run_type", String(32), nullable=False),
    Column("created_time", Float, nullable=False),
    Column("start_time", Float, nullable=True),
    Column("end_time", Float, nullable=True),
    Column("error", Text, nullable=True),  # JSON
    # Jobs (runs submitted to a compute target); interactive runs leave these empty.
    Column("compute_target", String(255), nullable=True),
    Column("snapshot_id", String(64), nullable=True),
    Column("job_spec", Text, nullable=True),  # JSON
    Column("supervisor_pid", Integer, nullable=True),
    Column("supervisor_host", String(255), nullable=True),
    Column("heartbeat_time", Float, nullable=True),  # in the database's clock (hosts' clocks may differ)
    # /proc/<pid>/stat start time of the supervisor (or of an interactive run's process): a pid
    # reused by another process is not taken for the supervisor.
    Column("supervisor_start", BigInteger, nullable=True),
    Column("job_folder", Text, nullable=True),  # where the job ran on its host, removed by cleanup
    Index(None, "experiment_id", "created_time"),
    Index(None, "parent_key"),
    Index(None, "compute_target", "status"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("id", String(64), primary_key=True),  # sha256 of the manifest blob
    Column("created_time", Float, nullable=False),
    Column("file_count", Integer, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("source", Text, nullable=True),
)

compute_targets = Table(
    "compute_targets",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("type", String(64), nullable=False),
    Column("config", Text, nullable=False),  # JSON
    Column("created_time", Float, nullable=False),
)


def _key_value_table(name: str, owner: str, owner_column: str) -> Table:
    return Table(
        name,
        metadata,
        Column(owner_column, BigId, ForeignKey(f"{owner}.key", ondelete="CASCADE"), primary_key=True),
        Column("key", String(255), primary_key=True),
        Column("value", Text, nullable=False),
    )


run_params = _key_value_table("run_params", "runs", "run_key")
run_tags = _key_value_table("run_tags", "runs", "run_key")
run_properties = _key_value_table("run_properties", "runs", "run_key")

metric_series = Table(
    "metric_series",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_key", BigId, ForeignKey("runs.key", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    # scalar (metric_points) | table | image | text | v1 charts: confusion_matrix, accuracy_table,
    # residuals, predictions (metric_records); 16 characters hold the longest
    Column("kind", String(16), nullable=False),
    Column("count", BigInteger, nullable=False, server_default="0"),
    Column("last_value", Float, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("last_time", Float, nullable=True),
    UniqueConstraint("run_key", "name"),
    Index(None, "name", "last_value"),
)

metric_points = Table(
    "metric_points",
    metadata,
    # Clustered by series and sequence number: one B-tree insert per point, appended in order, and
    # reading a series is one range scan. ``seq`` is handed out from ``metric_series.count``.
    Column("series_id", BigId, ForeignKey("metric_series.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("step", BigInteger, nullable=True),
    Column("value", Float, nullable=True),
    Column("timestamp", Float, nullable=False),
    sqlite_with_rowid=False,
)

metric_records = Table(
    "metric_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("series_id", BigId, ForeignKey("metric_series.id", ondelete="CASCADE"), nullable=False),
    Column("payload", Text, nullable=False),  # JSON
    Column("timestamp", Float, nullable=False),
    Index(None, "series_id", "id"),
)

run_files = Table(
    "run_files",
    metadata,
    Column("run_key", BigId, ForeignKey("runs.key", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("created_time", Float, nullable=False),
)

model_names = Table(
    "model_names",
    metadata,
    Column("name", String(255), primary_key=True),
    # Versions come from this counter and are never reused, even after a delete.
    Column("last_version", Integer, nullable=False),
    Column("created_time", Float, nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("key", BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), ForeignKey("model_names.name", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("description", Text, nullable=True),
    Column("run_id", String(255), nullable=True),
    Column("datasets", Text, nullable=True),  # JSON list of [purpose, dataset id]
    Column("created_time", Float, nullable=False),
    UniqueConstraint("name", "version"),
)

model_tags = _key_value_table("model_tags", "model_versions", "model_key")
model_properties = _key_value_table("model_properties", "model_versions", "model_key")

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(255), ForeignKey("model_names.name", ondelete="CASCADE"), primary_key=True),
    Column("alias", String(255), primary_key=True),
    Column("model_key", BigId, ForeignKey("model_versions.key", ondelete="CASCADE"), nullable=False),
)

model_files = Table(
    "model_files",
    metadata,
    Column("model_key", BigId, ForeignKey("model_versions.key", ondelete="CASCADE"), primary_key=True),
    Column("path", String(1024), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("size", BigInteger, nullable=False),
)

events = Table(
    "events",
    metadata,
    # A change feed, written in the same transaction as the change: the server streams it to
    # browsers (server-sent events, resumable by id), whichever process made the change.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False),
    # run.created | run.status | model.version.created | dataset.version.created | activity.updated
    Column("kind", String(64), nullable=False),
    Column("run_id", String(255), nullable=True),
    Column("experiment", String(255), nullable=True),
    Column("payload", Text, nullable=False),  # JSON
    Index(None, "time"),
)

environments = Table(
    "environments",
    metadata,
    # Versions by content: the same definition registered again is the same version.
    Column("name", String(255), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("content_hash", String(64), nullable=False),
    Column("definition", Text, nullable=False),  # JSON
    Column("created_time", Float, nullable=False),
    UniqueConstraint("name", "content_hash"),
)

activities = Table(
    "activities",
    metadata,
    # Long operations (environment builds, ...) with progress and log, shown by the sidebar.
    Column("activity_id", String(64), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_time", Float, nullable=False),
    Column("end_time", Float, nullable=True),
    Column("progress", Text, nullable=True),
    Column("run_id", String(255), nullable=True),
    Column("details", Text, nullable=False),  # JSON
    Column("error", Text, nullable=True),  # JSON
    Column("log", Text, nullable=False),
    Index(None, "created_time"),
)

datastores = Table(
    "datastores",
    metadata,
    # Named fsspec URLs (issue 15). Only non-secret storage options are kept here: keys live in a
    # 0600 file of the workspace's .mlws/ or in the environment.
    Column("name", String(255), primary_key=True),
    Column("url", Text, nullable=False),
    Column("options", Text, nullable=False),  # JSON
    Column("is_default", Integer, nullable=False),
    Column("created_time", Float, nullable=False),
)

dataset_names = Table(
    "dataset_names",
    metadata,
    # One row per dataset name: its kind (a name never changes kind) and the version counter, bumped
    # inside the transaction that adds a version (concurrent registrations get distinct versions).
    Column("name", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("last_version", Integer, nullable=False),
    Column("created_time", Float, nullable=False),
)

dataset_versions = Table(
    "dataset_versions",
    metadata,
    # Immutable once written (issue 15): the manifest digest says which bytes the version holds.
    Column("id", String(64), primary_key=True),
    Column("name", String(255), ForeignKey("dataset_names.name", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("content_key", String(64), nullable=False),
    Column("description", Text, nullable=True),
    Column("tags", Text, nullable=False),  # JSON object
    Column("created_time", Float, nullable=False),
    Column("file_count", BigInteger, nullable=False),
    Column("total_size", BigInteger, nullable=False),
    Column("rows", BigInteger, nullable=True),
    Column("schema", Text, nullable=True),  # JSON list of {"name", "type"}
    Column("definition", Text, nullable=False),  # JSON: source, manifest, spec
    UniqueConstraint("name", "version"),
)

run_dataset_inputs = Table(
    "run_dataset_inputs",
    metadata,
    # The datasets a run read (lineage); dataset_id is NULL for an unregistered dataset.
    Column("run_key", BigId, ForeignKey("runs.key", ondelete="CASCADE"), primary_key=True),
    Column("input_name", String(255), primary_key=True),
    Column("dataset_id", String(64), nullable=True),
    Column("dataset_name", String(255), nullable=True),
    Column("version", Integer, nullable=True),
    Column("digest", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Index(None, "dataset_id"),
)

pipeline_step_runs = Table(
    "pipeline_step_runs",
    metadata,
    # The reuse index of pipeline steps (issue 16): one row per step run, keyed by the digest of what
    # the step depends on. ``parts`` (JSON) is what went into the key, to explain a miss; ``outputs``
    # (JSON {name: manifest id}) is set when the step completes (or at once when it is reused).
    Column("run_key", BigId, ForeignKey("runs.key", ondelete="CASCADE"), primary_key=True),
    Column("step_name", String(255), nullable=False),
    Column("reuse_key", String(64), nullable=True),
    Column("parts", Text, nullable=False),
    Column("outputs", Text, nullable=True),
    Column("reused_from", String(255), nullable=True),
    Column("created_time", Float, nullable=False),
    Index(None, "reuse_key"),
    Index(None, "step_name"),
)

published_pipelines = Table(
    "published_pipelines",
    metadata,
    # A published pipeline (issue 16): its definition (JSON, written by the pipeline graph, opaque
    # here) never changes; only its status does (Active | Disabled).
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("version", String(255), nullable=True),
    Column("definition", Text, nullable=False),  # JSON
    Column("status", String(16), nullable=False),
    Column("continue_on_step_failure", Integer, nullable=True),  # NULL: the definition's own
    Column("created_time", Float, nullable=False),
    Index(None, "name"),
)

pipeline_endpoints = Table(
    "pipeline_endpoints",
    metadata,
    # A named endpoint over versions of published pipelines; ``last_version`` is the counter bumped in
    # the transaction that adds a version (concurrent adds get distinct versions).
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("status", String(16), nullable=False),
    Column("default_version", String(32), nullable=False),
    Column("last_version", Integer, nullable=False),
    Column("created_time", Float, nullable=False),
)

pipeline_endpoint_versions = Table(
    "pipeline_endpoint_versions",
    metadata,
    Column("endpoint_id", String(64), ForeignKey("pipeline_endpoints.id", ondelete="CASCADE"), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("pipeline_id", String(64), ForeignKey("published_pipelines.id"), nullable=False),
    Column("created_time", Float, nullable=False),
)

pipeline_tokens = Table(
    "pipeline_tokens",
    metadata,
    # Tokens that open one published pipeline (or endpoint) over REST: only their sha256 is kept.
    Column("token_hash", String(64), primary_key=True),
    Column("scope", String(16), nullable=False),  # "pipeline" | "endpoint"
    Column("target_id", String(64), nullable=False),
    Column("created_time", Float, nullable=False),
    Index(None, "scope", "target_id"),
)

schedules = Table(
    "schedules",
    metadata,
    # Schedules of published pipelines (issue 16): a recurrence (JSON) counted from ``anchor_time``, or
    # a datastore path whose content fingerprint is polled. ``last_fire_time`` is the newest fire time
    # handled (fired or skipped by the catch-up policy).
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False),
    Column("description", Text, nullable=True),
    Column("pipeline_id", String(64), ForeignKey("published_pipelines.id"), nullable=True),
    Column("pipeline_endpoint_id", String(64), ForeignKey("pipeline_endpoints.id"), nullable=True),
    Column("experiment_name", String(255), nullable=False),
    Column("recurrence", Text, nullable=True),  # JSON
    Column("datastore_name", String(255), nullable=True),
    Column("path_on_datastore", Text, nullable=True),
    Column("polling_interval", Integer, nullable=True),  # minutes
    Column("data_path_parameter_name", String(255), nullable=True),
    Column("parameters", Text, nullable=False),  # JSON
    Column("continue_on_step_failure", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("catch_up", String(16), nullable=False),
    Column("created_time", Float, nullable=False),
    Column("anchor_time", BigInteger, nullable=False),
    Column("last_fire_time", BigInteger, nullable=True),
    Column("fingerprint", String(64), nullable=True),
    Column("next_poll_time", Float, nullable=True),
    # What a fire starts when it is not a published pipeline (issue 20): ``"drift"`` checks a data
    # drift detector's interval (``core.registry.schedule_targets``); NULL for a pipeline schedule.
    Column("target_kind", String(32), nullable=True),
    Index(None, "pipeline_id"),
    Index(None, "status"),
)

schedule_fires = Table(
    "schedule_fires",
    metadata,
    # One row per fire: the primary key (schedule, fire time) is the claim — the one INSERT that
    # succeeds decides which process submits that fire, so no fire ever runs twice.
    Column("schedule_id", String(64), ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True),
    Column("fire_time", BigInteger, primary_key=True),
    Column("claimed_time", Float, nullable=False),
    Column("claimed_by", String(255), nullable=False),
    Column("run_id", String(255), nullable=True),
    Column("error", Text, nullable=True),
)

webservices = Table(
    "webservices",
    metadata,
    # Deployed web services (issue 17). ``models``, ``inference``, ``config``, ``tags`` and ``properties``
    # are JSON; ``state``/``error`` mirror what the service's supervisor last reported.
    Column("key", BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("compute_type", String(32), nullable=False),
    Column("generation", Integer, nullable=False),
    Column("models", Text, nullable=False),
    Column("inference", Text, nullable=False),
    Column("config", Text, nullable=False),
    Column("description", Text, nullable=True),
    Column("tags", Text, nullable=False),
    Column("properties", Text, nullable=False),
    Column("state", String(32), nullable=False),
    Column("error", Text, nullable=True),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
)

webservice_models = Table(
    "webservice_models",
    metadata,
    # The model versions each service uses: the registry refuses to delete a version listed here.
    Column("service_key", BigId, ForeignKey("webservices.key", ondelete="CASCADE"), primary_key=True),
    Column("model_key", BigId, ForeignKey("model_versions.key"), primary_key=True),
    Index(None, "model_key"),
)

drift_detectors = Table(
    "drift_detectors",
    metadata,
    # Data drift detectors (issue 20): ``definition`` is JSON (baseline and target datasets, features,
    # frequency, threshold, latency, alerts); ``schedule_id`` names its schedule while one exists.
    Column("key", BigId, primary_key=True, autoincrement=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("definition", Text, nullable=False),
    Column("schedule_id", String(64), nullable=True),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
)

secrets = Table(
    "secrets",
    metadata,
    # Workspace secrets (issue 21): only the Fernet ciphertext is stored; the key is kept outside the
    # database (MLWS_SECRET_KEY, the OS keyring or a 0600 key file; ``core/secret_key.py``).
    Column("key", BigId, primary_key=True, autoincrement=True),
    Column("name", String(127), nullable=False, unique=True),
    Column("ciphertext", Text, nullable=False),
    Column("created_time", Float, nullable=False),
    Column("updated_time", Float, nullable=False),
)
