"""`make dev` runs Prometheus and the nginx front door beside the services: Prometheus
with the repository's rules, scraping the local ports (which follow DEV_BASE_PORT),
nginx in front of the same ports; both stopped with them."""

import shutil
from pathlib import Path

import httpx
import pytest

from platform_testing import LocalRunner, free_port, wait_for

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


def _targets(prometheus: str) -> dict[str, str]:
    """Each scrape job Prometheus runs and its URL; none while it answers 503, until it has loaded its configuration."""
    try:
        answer = httpx.get(f"{prometheus}/api/v1/targets", timeout=1)
    except httpx.HTTPError:
        return {}
    if answer.status_code != 200:
        return {}
    return {t["labels"]["job"]: t["scrapeUrl"] for t in answer.json()["data"]["activeTargets"]}


def test_the_local_runner_runs_prometheus_with_the_rules_on_the_local_ports(clean_database, tmp_path):
    assert RULE_FILES
    if shutil.which("prometheus") is None:
        pytest.fail("prometheus not installed: apt-get install prometheus (.ci/run does)")
    port = free_port()
    prometheus = f"http://127.0.0.1:{port}"
    runner = LocalRunner(
        ROOT,
        tmp_path,
        {"DEV_PROMETHEUS": "1", "DEV_PROMETHEUS_PORT": str(port), "DEV_PROMETHEUS_DIR": str(tmp_path / "prometheus")},
        database_url=clean_database,
    )
    with runner:
        wait_for(lambda: len(_targets(prometheus)) == len(JOBS), timeout=90)
        targets = _targets(prometheus)
        groups = httpx.get(f"{prometheus}/api/v1/rules", timeout=5).json()["data"]["groups"]
        # The runner's nginx, in front of the same services, and the admin it made and printed.
        door = httpx.Client(base_url=runner.url, timeout=5)
        anonymous = door.get("/api/v1/incidents")
        made = runner.secrets
        login = door.post("/api/v1/auth/login", json={"email": made["ADMIN_EMAIL"], "password": made["ADMIN_PASSWORD"]})
        through_nginx = door.get("/api/v1/incidents")  # with the session cookie
    log_text = runner.output()
    assert targets == {job: f"http://127.0.0.1:{runner.base + offset}/metrics" for offset, job in enumerate(JOBS)}, (
        log_text
    )
    assert sorted(r["name"] for g in groups for r in g["rules"]) == sorted(name for name, _ in _rule_exprs())
    assert (tmp_path / "prometheus" / "tsdb").is_dir()
    assert _refused(port), "Prometheus stops with the services"
    assert anonymous.status_code == 401, anonymous.text
    assert login.status_code == 200, login.text
    assert f"as {made['ADMIN_EMAIL']} with password {made['ADMIN_PASSWORD']}" in log_text
    assert oct((tmp_path / "dev-secrets.json").stat().st_mode & 0o777) == "0o600"
    assert through_nginx.status_code == 200 and through_nginx.json()["items"] == [], log_text
    assert _refused(runner.http_port), "nginx stops with the services"
