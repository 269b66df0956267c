"""Prometheus: the HTTP metrics of prometheus-fastapi-instrumentator and `/metrics`.

A service run as several worker processes on one port (`serve(workers=N)`) uses
prometheus_client's multiprocess mode: each process writes its samples to files
in PROMETHEUS_MULTIPROC_DIR, and whichever process answers a scrape adds them all
up, so a counter never goes back when the scrape lands on another worker."""

import os

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_fastapi_instrumentator import Instrumentator

MULTIPROCESS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def install_metrics(app: FastAPI) -> None:
    """HTTP metrics go to a registry of the app's own. `app.state.metrics_registry`
    holds the collectors a service binds to this app, such as gauges read from its
    database at scrape time (the same in every process, so never summed). Module-level
    domain metrics stay in the default registry. `/metrics` serves all three, or, in
    multiprocess mode, every process's samples summed plus the app's collectors."""
    http_registry = CollectorRegistry()
    app.state.metrics_registry = CollectorRegistry()
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics", "/health", "/health/ready"],
        # Unknown paths share one label so a scanner cannot blow up cardinality.
        should_ignore_untemplated=True,
        registry=http_registry,
    ).instrument(app)
    multiprocess = bool(os.environ.get(MULTIPROCESS_DIR_ENV))

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        if multiprocess:
            # The default registry's process and GC metrics describe one worker only: left out.
            processes = CollectorRegistry()
            MultiProcessCollector(processes)
            sources = (processes, app.state.metrics_registry)
        else:
            sources = (REGISTRY, http_registry, app.state.metrics_registry)
        return Response(b"".join(generate_latest(r) for r in sources), media_type=CONTENT_TYPE_LATEST)
