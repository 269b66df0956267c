"""`python -m alert_ingestion`: serve alert-ingestion on $HOST:$PORT (default 127.0.0.1:8001).

INGEST_WORKERS > 1 runs that many uvicorn worker processes on the one port:
ingestion is CPU-bound Python, and every worker is safe beside the others
(races are settled in the database)."""

import uvicorn

from alert_ingestion.config import get_settings
from platform_common.logging import configure_logging
from platform_common.server import serve


def main() -> None:
    settings = get_settings()
    if settings.ingest_workers == 1:
        serve("alert_ingestion.main:create_app", settings)
        return
    if settings.is_sqlite:
        # On SQLite the one gap between deciding and creating an incident is
        # closed by an in-process lock, which several processes would not share.
        raise SystemExit("INGEST_WORKERS > 1 needs PostgreSQL (DATABASE_URL); SQLite runs one process")
    configure_logging(settings.service_name, settings.log_level)
    uvicorn.run(
        "alert_ingestion.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.ingest_workers,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
    )


if __name__ == "__main__":
    main()
