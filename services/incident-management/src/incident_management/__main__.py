"""`python -m incident_management`: serve incident-management on $HOST:$PORT (default 127.0.0.1:8002)."""

from incident_management.config import get_settings
from platform_common.server import serve


def main() -> None:
    """Serve the app with uvicorn on the configured port."""
    serve("incident_management.main:create_app", get_settings())


if __name__ == "__main__":
    main()
