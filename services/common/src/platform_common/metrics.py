"""Prometheus: the HTTP metrics of prometheus-fastapi-instrumentator and `/metrics`."""

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_fastapi_instrumentator import Instrumentator


def install_metrics(app: FastAPI) -> None:
    """HTTP metrics go to a registry of the app's own (`app.state.metrics_registry`,
    where a service can also register collectors bound to this app, such as
    gauges read from its database); module-level domain metrics stay in the
    default registry. `/metrics` serves both."""
    registry = CollectorRegistry()
    app.state.metrics_registry = registry
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics", "/health", "/health/ready"],
        # Unknown paths share one label so a scanner cannot blow up cardinality.
        should_ignore_untemplated=True,
        registry=registry,
    ).instrument(app)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(REGISTRY) + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
