"""`python -m alert_ingestion`: serve alert-ingestion on $HOST:$PORT (default 127.0.0.1:8001).

INGEST_WORKERS > 1 runs that many uvicorn worker processes on the one port:
ingestion is CPU-bound Python, and every worker is safe beside the others
(races are settled in the database)."""

from alert_ingestion.config import get_settings
from platform_common.server import serve


def main() -> None:
    """Serve the app with uvicorn on the configured port."""
    settings = get_settings()
    serve("alert_ingestion.main:create_app", settings, workers=settings.ingest_workers)


if __name__ == "__main__":
    main()
