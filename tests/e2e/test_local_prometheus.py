"""`make dev` runs Prometheus and the nginx front door beside the services: Prometheus
with the repository's rules, scraping the local ports (which follow DEV_BASE_PORT),
nginx in front of the same ports; both stopped with them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from platform_testing import free_port, free_ports

from .test_observability import JOBS, RULE_FILES, _rule_exprs

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]


def _refused(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=0.5)
    except httpx.ConnectError:
        return True
    except httpx.HTTPError:
        pass
    return False


def test_the_local_runner_runs_prometheus_with_the_rules_on_the_local_ports(clean_database, tmp_path):
    assert RULE_FILES
    base, port, http_port, https_port = free_ports(4), free_port(), free_port(), free_port()
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus not installed: apt-get install prometheus (.ci/run does)")
    env = {
        **os.environ,
        "DATABASE_URL": clean_database,
        "DEV_BASE_PORT": str(base),
        "DEV_PROMETHEUS_PORT": str(port),
        "DEV_PROMETHEUS_DIR": str(tmp_path / "prometheus"),
        "DEV_HTTP_PORT": str(http_port),
        "DEV_HTTPS_PORT": str(https_port),
        "DEV_NGINX_DIR": str(tmp_path / "nginx"),
        "DEV_SECRETS_FILE": str(tmp_path / "dev-secrets.json"),
        "LOG_LEVEL": "WARNING",
    }
    for name in ("ADMIN_EMAIL", "ADMIN_PASSWORD", "INTERNAL_TOKENS", "LINK_SIGNING_KEY"):
        env.pop(name, None)  # the runner makes its own, as on a developer's first run
    prometheus = f"http://127.0.0.1:{port}"
    with (tmp_path / "dev.log").open("wb") as log:
        runner = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "dev.py")], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 90
        targets: dict[str, str] = {}
        while time.monotonic() < deadline and len(targets) < len(JOBS):
            assert runner.poll() is None, (tmp_path / "dev.log").read_text()
            try:
                answer = httpx.get(f"{prometheus}/api/v1/targets", timeout=1)
                # Prometheus answers 503 "Service Unavailable" until it has loaded its configuration.
                if answer.status_code == 200:
                    targets = {t["labels"]["job"]: t["scrapeUrl"] for t in answer.json()["data"]["activeTargets"]}
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        # The runner's nginx, in front of the same services, and the admin it made and printed.
        door = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=5)
        anonymous = door.get("/api/v1/incidents")
        made = json.loads((tmp_path / "dev-secrets.json").read_text())
        login = door.post("/api/v1/auth/login", json={"email": made["ADMIN_EMAIL"], "password": made["ADMIN_PASSWORD"]})
        through_nginx = door.get("/api/v1/incidents")  # with the session cookie
    finally:
        runner.send_signal(signal.SIGINT)
        runner.wait(timeout=60)
    log_text = (tmp_path / "dev.log").read_text(errors="replace")
    assert targets == {job: f"http://127.0.0.1:{base + offset}/metrics" for offset, job in enumerate(JOBS)}, log_text
    assert sorted(r["name"] for g in groups for r in g["rules"]) == sorted(name for name, _ in _rule_exprs())
    assert (tmp_path / "prometheus" / "tsdb").is_dir()
    assert _refused(port), "Prometheus stops with the services"
    assert anonymous.status_code == 401, anonymous.text
    assert login.status_code == 200, login.text
    assert f"as {made['ADMIN_EMAIL']} with password {made['ADMIN_PASSWORD']}" in log_text
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode & 0o777) == "0o600"
    assert through_nginx.status_code == 200 and through_nginx.json()["items"] == [], log_text
    assert _refused(http_port), "nginx stops with the services"
