"""The front door for real: nginx with the shipped configuration in front of
the four services as real processes, a built SPA of a few files, HTTP and HTTPS."""

import contextlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_testing import ServiceProcess, as_service, free_port, reset_database, user_with_token

ROOT = Path(__file__).resolve().parents[2]


def _load_frontdoor():
    # scripts/ is not a package; load the one implementation `make dev` runs.
    spec = importlib.util.spec_from_file_location("frontdoor", ROOT / "scripts" / "frontdoor.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["frontdoor"] = module
    spec.loader.exec_module(module)
    return module


frontdoor = _load_frontdoor()
# A hashed asset big enough for gzip (over gzip_min_length).
ASSET = "assets/index-3f2a9c1b.js"
ASSET_BODY = "export const pages = [" + ",".join(f'"page-{i}"' for i in range(400)) + "];\n"
ADMIN_EMAIL = "door-admin@example.com"
ADMIN_PASSWORD = "front-door-password"
INDEX = '<!doctype html><html><head><script type="module" src="/assets/index-3f2a9c1b.js"></script></head>\n'


@pytest.fixture(scope="session")
def nginx() -> str:
    binary = frontdoor.find_nginx()
    assert binary, f"nginx is not installed; {frontdoor.INSTALL_COMMAND} (.ci/run installs it)"
    return binary


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dist")
    (root / "assets").mkdir()
    (root / "index.html").write_text(INDEX)
    (root / ASSET).write_text(ASSET_BODY)
    return root


@pytest.fixture(scope="module")
def services(database_url: str) -> Iterator[dict[str, ServiceProcess]]:
    """The four services, wired to each other, on one emptied database."""
    reset_database(database_url)
    env = {
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        # The first admin, as `make dev` makes one: the login tests sign in as them.
        "ADMIN_EMAIL": ADMIN_EMAIL,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
    }
    processes = {
        role: ServiceProcess(role, {**env, "DATABASE_URL": as_service(database_url, role)})
        for role in ("alert_ingestion", "incident_management", "oncall_service", "notification_service")
    }
    wiring = {
        "ALERT_INGESTION_URL": processes["alert_ingestion"].url,
        "INCIDENT_SERVICE_URL": processes["incident_management"].url,
        "ONCALL_SERVICE_URL": processes["oncall_service"].url,
        "NOTIFICATION_SERVICE_URL": processes["notification_service"].url,
        "INCIDENT_WORKER_INTERVAL_SECONDS": "0.2",
    }
    with contextlib.ExitStack() as stack:
        for process in processes.values():
            process.env.update(wiring)
            stack.enter_context(process)
        yield processes


@pytest.fixture(scope="module")
def admin_headers(services, database_url: str) -> dict[str, str]:
    """An admin's API token, as a script behind the front door would send it."""
    return user_with_token(database_url, "token-admin", role="admin")[1]


def upstreams_of(services: dict[str, ServiceProcess]):
    return frontdoor.Upstreams(**{name: f"127.0.0.1:{process.port}" for name, process in services.items()})


@pytest.fixture(scope="module")
def front_door(nginx, services, static_root, tmp_path_factory) -> Iterator:
    """nginx on free HTTP and HTTPS ports, its own folder and certificate."""
    folder = tmp_path_factory.mktemp("nginx")
    door = frontdoor.FrontDoor(
        folder,
        upstreams_of(services),
        http_port=free_port(),
        https_port=free_port(),
        static_root=static_root,
        tls_dir=folder / "tls",
        nginx=nginx,
    )
    with door:
        yield door
