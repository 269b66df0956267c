"""`python -m alert_ingestion`: serve alert-ingestion on $HOST:$PORT (default 127.0.0.1:8001)."""

from alert_ingestion.config import get_settings
from platform_common.server import serve


def main() -> None:
    serve("alert_ingestion.main:create_app", get_settings())


if __name__ == "__main__":
    main()
