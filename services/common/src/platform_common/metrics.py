"""Prometheus: the HTTP metrics of prometheus-fastapi-instrumentator and `/metrics`."""

from fastapi import FastAPI
from prometheus_fastapi_instrumentator import Instrumentator


def install_metrics(app: FastAPI) -> None:
    Instrumentator(
        should_group_status_codes=False,
        excluded_handlers=["/metrics", "/health", "/health/ready"],
        # Unknown paths share one label so a scanner cannot blow up cardinality.
        should_ignore_untemplated=True,
    ).instrument(app).expose(app, include_in_schema=False)
