"""`python -m notification_service`: serve notification-service on $HOST:$PORT (default 127.0.0.1:8004)."""

from notification_service.config import get_settings
from platform_common.server import serve


def main() -> None:
    """Serve the app with uvicorn on the configured port."""
    serve("notification_service.main:create_app", get_settings())


if __name__ == "__main__":
    main()
