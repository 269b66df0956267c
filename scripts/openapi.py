"""The four services' OpenAPI documents, written to web-ui/openapi/ (committed):
the UI's API types are generated from them (`npm run build` in web-ui/), and
tests/ui/test_openapi_documents.py fails when a service's contract changed and
these were not written anew, so a change that breaks the UI breaks its build.

    .venv/bin/python scripts/openapi.py
"""

import json
import sys
from pathlib import Path

from alert_ingestion.config import Settings as IngestionSettings
from alert_ingestion.main import create_app as ingestion_app
from incident_management.config import Settings as IncidentSettings
from incident_management.main import create_app as incident_app
from notification_service.config import Settings as NotificationSettings
from notification_service.main import create_app as notification_app
from oncall_service.config import Settings as OncallSettings
from oncall_service.main import create_app as oncall_app

OUT = Path(__file__).resolve().parents[1] / "web-ui" / "openapi"
# Building an app opens nothing: the database URL is only parsed.
_DB = {"environment": "test", "database_url": "postgresql://openapi@127.0.0.1:1/openapi"}


def documents() -> dict[str, dict]:
    """Each service's OpenAPI document, by service name."""
    apps = {
        "alert-ingestion": ingestion_app(IngestionSettings(**_DB)),
        "incident-management": incident_app(IncidentSettings(**_DB)),
        "oncall-service": oncall_app(OncallSettings(**_DB)),
        "notification-service": notification_app(NotificationSettings(**_DB)),
    }
    return {name: app.openapi() for name, app in apps.items()}


def render(document: dict) -> str:
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, document in documents().items():
        (OUT / f"{name}.json").write_text(render(document))
        print(f"wrote {OUT / name}.json")  # noqa: T201 - a command-line tool's report
    return 0


if __name__ == "__main__":
    sys.exit(main())
