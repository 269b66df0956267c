"""Run a service under uvicorn; SIGTERM/SIGINT drain in-flight requests, then stop."""

import os
import shutil
import tempfile
from pathlib import Path

import uvicorn

from platform_common.logging import configure_logging
from platform_common.metrics import MULTIPROCESS_DIR_ENV
from platform_common.settings import BaseServiceSettings


def serve(app_factory: str, settings: BaseServiceSettings, *, workers: int = 1) -> None:
    """`app_factory` is "package.main:create_app"; uvicorn's own signal handling
    gives the graceful shutdown (stop accepting, finish requests, run lifespan exit).
    `workers` > 1 runs that many processes on the one port (uvicorn supervises them),
    their metrics shared through prometheus_client's multiprocess files (as are a single
    process's when PROMETHEUS_MULTIPROC_DIR is set, so that folder is emptied then too)."""
    configure_logging(settings.service_name, settings.log_level)
    shared = workers > 1 or bool(os.environ.get(MULTIPROCESS_DIR_ENV))
    made_dir = _prepare_multiprocess_metrics() if shared else None
    try:
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
            forwarded_allow_ips=settings.forwarded_allow_ips,
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
            timeout_keep_alive=settings.http_keepalive_seconds,
        )
    finally:
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)


def _prepare_multiprocess_metrics() -> Path | None:
    """Point the workers (which inherit the environment) at an empty folder for their
    metric files: PROMETHEUS_MULTIPROC_DIR if set, else a temporary one made here and
    returned so it is removed at exit. Files of an earlier run would be added to this
    run's counters, so they go first."""
    given = os.environ.get(MULTIPROCESS_DIR_ENV)
    folder = Path(given) if given else Path(tempfile.mkdtemp(prefix="prometheus-multiproc-"))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROCESS_DIR_ENV] = str(folder)
    return None if given else folder
