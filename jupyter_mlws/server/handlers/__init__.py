"""REST routes under /mlws/api/v1/ (described in openapi.yaml): one module per resource, and the route
table below.

Every handler derives from ``MlwsHandler`` (``server/base.py``), which authenticates and authorises each
request once (in ``prepare``) and translates every ``MlwsError`` into ``{"error": {"type", "message"}}``
with its HTTP status; a handler translates one request into calls on the core and never catches errors
itself. Request bodies are parsed in one place, ``server/requests.py``: a typed model per body, checked
against its ``components/schemas`` entry in openapi.yaml.

How a new feature adds its routes:

1. Write its handlers in its own module here (as ``monitoring.py`` does). A handler module imports ``..base``,
   ``..requests``, ``..serialize`` and the core, never another handler module nor ``stores``
   (tests/test_layering.py checks it).
2. Describe each operation in ``openapi.yaml`` (and its request body under ``components/schemas``),
   then regenerate the front end's types (``jlpm generate:api``).
3. A route with a body adds a request model to ``server/requests.py`` naming that schema (e.g.
   ``CreateDataset``), and reads it with ``self.parse(CreateDataset)``.
4. Add its rows to ``handlers()`` below, above the fallback, which must stay last. tests/server/
   test_openapi.py fails until the table and openapi.yaml list the same operations, and the fuzz test
   then exercises the new routes.
"""

from __future__ import annotations

from .activities import ActivitiesHandler, ActivityHandler
from .computes import ComputeHandler, ComputesHandler
from .datasets import DatasetHandler, DatasetPreviewHandler, DatasetsHandler, DatasetVersionHandler
from .datastores import DatastoresHandler
from .environments import EnvironmentHandler, EnvironmentsHandler
from .events import EventsHandler
from .experiments import ExperimentRunsHandler, ExperimentsHandler
from .fallback import UnknownRouteHandler
from .logs import RunLogsHandler
from .models import (
    ModelFileHandler,
    ModelFilesHandler,
    ModelHandler,
    ModelsHandler,
    ModelVersionHandler,
    ModelVersionsHandler,
)
from .monitoring import (
    DriftRunHandler,
    MonitorBackfillHandler,
    MonitorHandler,
    MonitorRunHandler,
    MonitorsHandler,
)
from .pipeline_runs import PipelineRunHandler, PipelineRunsHandler
from .pipelines import (
    PipelineEndpointRunsHandler,
    PipelineEndpointsHandler,
    PublishedPipelineRunsHandler,
    PublishedPipelinesHandler,
    SchedulesHandler,
)
from .run_files import RunFileHandler, RunFilesHandler
from .runs import RunCancelHandler, RunHandler, RunMetricsHandler, RunsHandler
from .secrets import SecretHandler, SecretsHandler
from .snapshots import RunSnapshotHandler, SnapshotsHandler
from .submissions import SubmissionsHandler
from .sweeps import SweepHandler
from .webservices import (
    WebserviceHandler,
    WebserviceKeysHandler,
    WebserviceLogsHandler,
    WebservicesHandler,
    WebserviceTelemetryHandler,
    WebserviceTestHandler,
)
from .workspace import WorkspaceHandler

__all__ = ["API", "UnknownRouteHandler", "handlers"]

API = "/mlws/api/v1"


def handlers() -> list[tuple[str, type]]:
    """The route table: (URL pattern, handler class); tornado matches each pattern whole."""
    run = rf"{API}/runs/(?P<run_id>[^/]+)"
    model = rf"{API}/models/(?P<name>[^/]+)"
    dataset_version = rf"{API}/datasets/(?P<name>[^/]+)/versions/(?P<version>[^/]+)"
    webservice = rf"{API}/webservices/(?P<name>[^/]+)"
    monitor = rf"{API}/monitors/(?P<name>[^/]+)"
    return [
        (rf"{API}/workspace", WorkspaceHandler),
        (rf"{API}/experiments", ExperimentsHandler),
        (rf"{API}/experiments/(?P<name>[^/]+)/runs", ExperimentRunsHandler),
        (rf"{API}/runs", RunsHandler),
        (run, RunHandler),
        (rf"{run}/metrics", RunMetricsHandler),
        (rf"{run}/files", RunFilesHandler),
        (rf"{run}/files/(?P<path>.+)", RunFileHandler),
        (rf"{run}/logs", RunLogsHandler),
        (rf"{run}/snapshot", RunSnapshotHandler),
        (rf"{run}/cancel", RunCancelHandler),
        (rf"{run}/sweep", SweepHandler),
        (rf"{run}/drift", DriftRunHandler),
        (rf"{API}/snapshots", SnapshotsHandler),
        (rf"{API}/submissions", SubmissionsHandler),
        (rf"{API}/models", ModelsHandler),
        (model, ModelHandler),
        (rf"{model}/versions", ModelVersionsHandler),
        (rf"{model}/versions/(?P<version>[^/]+)", ModelVersionHandler),
        (rf"{model}/versions/(?P<version>[^/]+)/files", ModelFilesHandler),
        (rf"{model}/versions/(?P<version>[^/]+)/files/(?P<path>.+)", ModelFileHandler),
        (rf"{API}/computes", ComputesHandler),
        (rf"{API}/computes/(?P<name>[^/]+)", ComputeHandler),
        (rf"{API}/activities", ActivitiesHandler),
        (rf"{API}/activities/(?P<activity_id>[^/]+)", ActivityHandler),
        (rf"{API}/datastores", DatastoresHandler),
        (rf"{API}/datasets", DatasetsHandler),
        (rf"{API}/datasets/(?P<name>[^/]+)", DatasetHandler),
        (dataset_version, DatasetVersionHandler),
        (rf"{dataset_version}/preview", DatasetPreviewHandler),
        (rf"{API}/environments", EnvironmentsHandler),
        (rf"{API}/environments/(?P<name>[^/]+)", EnvironmentHandler),
        (rf"{API}/pipeline-runs", PipelineRunsHandler),
        (rf"{API}/pipeline-runs/(?P<run_id>[^/]+)", PipelineRunHandler),
        (rf"{API}/pipelines", PublishedPipelinesHandler),
        (rf"{API}/pipelines/(?P<pipeline_id>[^/]+)/runs", PublishedPipelineRunsHandler),
        (rf"{API}/pipeline-endpoints", PipelineEndpointsHandler),
        (rf"{API}/pipeline-endpoints/(?P<name>[^/]+)/runs", PipelineEndpointRunsHandler),
        (rf"{API}/schedules", SchedulesHandler),
        (rf"{API}/webservices", WebservicesHandler),
        (webservice, WebserviceHandler),
        (rf"{webservice}/keys", WebserviceKeysHandler),
        (rf"{webservice}/logs", WebserviceLogsHandler),
        (rf"{webservice}/telemetry", WebserviceTelemetryHandler),
        (rf"{webservice}/test", WebserviceTestHandler),
        (rf"{API}/monitors", MonitorsHandler),
        (monitor, MonitorHandler),
        (rf"{monitor}/backfill", MonitorBackfillHandler),
        (rf"{monitor}/run", MonitorRunHandler),
        (rf"{API}/secrets", SecretsHandler),
        (rf"{API}/secrets/(?P<name>[^/]+)", SecretHandler),
        (rf"{API}/events", EventsHandler),
        (rf"{API}(?:/.*)?", UnknownRouteHandler),  # last: the JSON 404 for anything else
    ]
