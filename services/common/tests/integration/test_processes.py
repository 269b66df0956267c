"""The four services as real processes: what `make dev` runs, over real HTTP."""

import http.client
import json
import os
import shutil
import signal
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from platform_testing import LocalRunner, ServiceProcess

ROOT = Path(__file__).resolve().parents[4]
MODULES = ("alert_ingestion", "incident_management", "oncall_service", "notification_service")
pytestmark = pytest.mark.e2e


def _is_free(port: int) -> bool:
    """Nothing listens there (a connection is refused)."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("module", MODULES)
def test_service_process_serves_health_metrics_docs_and_stops_on_sigterm(module, database_url, tmp_path):
    service = ServiceProcess(module, {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}, log_dir=tmp_path)
    with service:
        health = httpx.get(f"{service.url}/health", headers={"X-Request-ID": "e2e-1"})
        metrics = httpx.get(f"{service.url}/metrics")
        docs = httpx.get(f"{service.url}/openapi.json")
        ready = httpx.get(f"{service.url}/health/ready")
        code = service.stop(signal.SIGTERM)
    assert health.status_code == 200 and health.headers["x-request-id"] == "e2e-1"
    assert ready.json()["dependencies"]["database"]["status"] == "up"
    assert any(f.name == "http_requests" for f in text_string_to_metric_families(metrics.text))
    assert docs.json()["info"]["title"]
    # uvicorn drains, runs the lifespan exit, then re-raises the signal it caught.
    assert code in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in service.output().splitlines() if line.startswith("{")]
    assert lines, service.output()
    assert all({"time", "level", "service", "message"} <= line.keys() for line in lines)
    assert any("shutdown complete" in line["message"].lower() for line in lines)


def _postgres_serving(folder: Path) -> list[int]:
    """Pids of postgres processes whose command line names `folder`."""
    pids = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"/postgres") and os.fsencode(folder) in args:
            pids.append(int(cmdline.parent.name))
    return pids


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGHUP], ids=["ctrl-c", "sighup"])
def test_local_runner_starts_postgres_and_all_four_and_stops_them_on_a_signal(tmp_path, stop_signal):
    """`make dev` with nothing configured: an embedded PostgreSQL, migrated, the
    four services on it; Ctrl-C, or SIGHUP from a closed terminal, stops the
    services and then the database."""
    # Under the checkout, not /tmp: as root the server runs as its own user,
    # who cannot pass through pytest's private temporary folder.
    folder = ROOT / "data" / f"test-dev-{uuid.uuid4().hex[:8]}"
    env = {
        "DEV_POSTGRES_DIR": str(folder),
        # tests/e2e/test_observability.py runs Prometheus, tests/e2e/test_local_prometheus.py the runner's nginx
        "DEV_NGINX": "0",
    }
    runner = LocalRunner(ROOT, tmp_path, env, database_url=None)
    try:
        runner.start(timeout=90)
        ready = httpx.get(f"{runner.services['incident-management']}/health/ready").json()
        serving = _postgres_serving(folder)
    finally:
        returncode = runner.stop(stop_signal)
        leftover = _postgres_serving(folder)
        for pid in leftover:
            os.kill(pid, signal.SIGKILL)
        initialised = (folder / "PG_VERSION").is_file()
        shutil.rmtree(folder, ignore_errors=True)
        for suffix in (".lock", ".log"):
            folder.with_name(folder.name + suffix).unlink(missing_ok=True)
    log = runner.output()
    assert ready["dependencies"]["database"]["status"] == "up", ready
    assert ready["dependencies"]["oncall-service"]["status"] == "up", ready
    assert initialised and serving, log
    assert returncode == 0, log
    assert not leftover, log
    for port in range(runner.base, runner.base + 4):
        assert _is_free(port)


def _health_on(connection: http.client.HTTPConnection) -> bool:
    """GET /health on the connection as it is; False when the server has closed it."""
    try:
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        return response.status == 200
    except (ConnectionError, http.client.RemoteDisconnected):
        return False


@pytest.mark.parametrize(("keepalive", "idle", "still_open"), [(None, 5.5, True), ("1", 2.0, False)])
def test_idle_connections_outlive_the_clients_own_expiry(database_url, tmp_path, keepalive, idle, still_open):
    """A client that reuses a connection after up to 5 s idle (httpx's expiry; uvicorn's
    own default was also 5 s, so the two raced and the request was reset) finds it open."""
    env = {"DATABASE_URL": database_url, "ENVIRONMENT": "test"}
    if keepalive:
        env["HTTP_KEEPALIVE_SECONDS"] = keepalive
    with ServiceProcess("oncall_service", env, log_dir=tmp_path) as service:
        connection = http.client.HTTPConnection("127.0.0.1", service.port, timeout=5)
        try:
            assert _health_on(connection)
            first = connection.sock
            time.sleep(idle)
            # The same socket, not a new one (http.client would reconnect only after a close it saw).
            assert connection.sock is first
            assert _health_on(connection) is still_open
        finally:
            connection.close()
