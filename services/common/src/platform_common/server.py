"""Run a service under uvicorn; SIGTERM/SIGINT drain in-flight requests, then stop."""

import uvicorn

from platform_common.logging import configure_logging
from platform_common.settings import BaseServiceSettings


def serve(app_factory: str, settings: BaseServiceSettings, *, workers: int = 1) -> None:
    """`app_factory` is "package.main:create_app"; uvicorn's own signal handling
    gives the graceful shutdown (stop accepting, finish requests, run lifespan exit).
    `workers` > 1 runs that many processes on the one port (uvicorn supervises them)."""
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        app_factory,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        timeout_keep_alive=settings.http_keepalive_seconds,
    )
