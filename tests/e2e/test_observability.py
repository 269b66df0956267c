"""The dashboards and alert rules against a real Prometheus scraping the real platform.

The four services run as processes; Debian's Prometheus (the one `make dev` runs, with
the config scripts/observe.py writes) scrapes them every second. A smoke flow goes
through the platform (alerts, correlation, a repeat, a page, acknowledge, resolve), then
every query of every dashboard panel and every rule expression goes through
Prometheus' HTTP API: each parses, names only metrics the services export, and each
panel returns data. Rules are also seen evaluated by Prometheus without error."""

import json
import math
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

import observe
from platform_testing import ServiceProcess, free_port, login_token

from .test_platform import ADMIN, Phone, Platform, platform, wait_for  # noqa: F401 - `platform` is a fixture

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "monitoring" / "grafana" / "dashboards").glob("*.json"))
RULE_FILES = sorted((ROOT / "monitoring" / "rules").glob("*.yml"))
JOBS = {
    "alert-ingestion": "ingestion",
    "incident-management": "incidents",
    "oncall-service": "oncall",
    "notification-service": "notifications",
}
# Made by Prometheus itself, not by a service.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset"}


class Smoke:
    """Every HTTP call of the smoke flow, in one place: when the APIs need credentials,
    they are added here (`headers`), once."""

    def __init__(self, services: Platform, headers: dict[str, str] | None = None) -> None:
        self.ingestion = httpx.Client(base_url=services.ingestion.url, timeout=10, headers=headers)
        self.incidents = httpx.Client(base_url=services.incidents.url, timeout=10, headers=headers)
        self.oncall = httpx.Client(base_url=services.oncall.url, timeout=10, headers=headers)

    def _ok(self, response: httpx.Response) -> dict[str, Any]:
        assert response.is_success, (response.request.url, response.status_code, response.text)
        return response.json()

    def on_call(self, service: str, webhook: str) -> None:
        """A responder with a webhook, on call for `service` through a policy, and a schedule."""
        user = self._ok(
            self.oncall.post(
                "/api/v1/users",
                json={
                    "name": "Olu",
                    "email": "olu@example.com",
                    "contact_methods": [{"type": "webhook", "address": webhook}],
                },
            )
        )
        levels = [{"delay_minutes": 10, "targets": [{"type": "user", "id": user["id"]}]}]
        policy = self._ok(self.oncall.post("/api/v1/escalation-policies", json={"name": service, "levels": levels}))
        self._ok(self.oncall.post("/api/v1/services", json={"name": service, "escalation_policy_id": policy["id"]}))
        layer = {"rotation_type": "weekly", "start_date": "2026-01-05", "members": [user["id"]]}
        self._ok(self.oncall.post("/api/v1/schedules", json={"name": service, "timezone": "UTC", "layers": [layer]}))

    def integration_key(self, service: str) -> str:
        body = {"name": "smoke", "service": service, "type": "pagerduty"}
        return self._ok(self.ingestion.post("/api/v1/integrations", json=body))["key"]

    def page(self, key: str, dedup_key: str, summary: str, severity: str = "critical") -> None:
        payload = {"summary": summary, "source": "smoke", "severity": severity}
        body = {"routing_key": key, "event_action": "trigger", "dedup_key": dedup_key, "payload": payload}
        self._ok(self.ingestion.post("/v2/enqueue", json=body))

    def maintenance(self, service: str, seconds: float) -> None:
        """A maintenance window for `service`, from now for `seconds`."""
        end = datetime.now(UTC) + timedelta(seconds=seconds)
        self._ok(
            self.ingestion.post("/api/v1/maintenance-windows", json={"services": [service], "end": end.isoformat()})
        )

    def suppressed(self) -> int:
        return self._ok(self.ingestion.get("/api/v1/alerts", params={"action": "suppressed"}))["total"]

    def incidents_of(self, service: str) -> list[dict[str, Any]]:
        return self._ok(self.incidents.get("/api/v1/incidents", params={"service": service}))["items"]

    def incident(self, incident_id: str) -> dict[str, Any]:
        return self._ok(self.incidents.get(f"/api/v1/incidents/{incident_id}"))

    def move(self, incident_id: str, status: str) -> None:
        """A responder acknowledges or resolves in the UI (incident-management's API)."""
        self._ok(self.incidents.patch(f"/api/v1/incidents/{incident_id}", json={"status": status}))


class Prometheus:
    """A real Prometheus process and its HTTP API."""

    def __init__(self, argv: list[str], port: int, log: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
        self.started = time.time()
        wait_for(self._ready, timeout=60)

    def _ready(self) -> bool:
        assert self.process.poll() is None, self.log.read_text()
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def api(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body = response.json()
        assert body["status"] == "success", (params, body)
        return body["data"]

    def instant(self, expr: str) -> list[dict[str, Any]]:
        return self.api("query", query=expr)["result"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def prometheus(platform: Platform, tmp_path: Path) -> Iterator[Prometheus]:  # noqa: F811 - the imported fixture
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.fail("prometheus not installed: apt-get install prometheus (.ci/run does)")
    targets = {job: getattr(platform, attr).url.removeprefix("http://") for job, attr in JOBS.items()}
    port = free_port()
    argv = observe.command(binary, targets=targets, port=port, data=tmp_path / "prometheus", scrape_interval="1s")
    server = Prometheus(argv, port, tmp_path / "prometheus.log")
    # Scraping every service before the flow starts, so its changes land between samples.
    wait_for(lambda: len(server.instant("up == 1")) == len(JOBS), timeout=60)
    time.sleep(2)
    yield server
    server.stop()


def _metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers outside label matchers,
    grouping clauses, strings and durations that are not function calls or keywords."""
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    bare = re.sub(r"\{[^}]*\}", "", bare)
    bare = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", bare)
    bare = re.sub(r"\[[^\]]*\]", "", bare)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", bare):
        rest = bare[match.end() :].lstrip()
        if rest.startswith("(") or match.group() in PROMQL_WORDS:
            continue
        if bare[: match.start()].endswith(("$", "{{")):
            continue
        names.add(match.group())
    return names


def _exported(services: Platform) -> set[str]:
    """Every sample name the services' /metrics serve now."""
    names = set()
    for attr in JOBS.values():
        text = httpx.get(f"{getattr(services, attr).url}/metrics", timeout=10).text
        names |= {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    return names


def _panel_targets() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path in DASHBOARDS:
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                found.append((path.stem, panel["title"], target))
    return found


def _rule_exprs() -> list[tuple[str, str]]:
    return [
        (rule.get("alert") or rule["record"], rule["expr"])
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


def _finite(result: list[dict[str, Any]]) -> bool:
    values = [v for series in result for v in ([series["value"]] if "value" in series else series["values"])]
    return any(math.isfinite(float(value)) for _, value in values)


def _smoke_flow(smoke: Smoke, phone: Phone) -> str:
    """Alerts, a repeat, a correlated alert, the page, acknowledge, resolve, an alert held back by a
    maintenance window; returns the integration key."""
    smoke.on_call("checkout", phone.url)
    key = smoke.integration_key("checkout")
    smoke.page(key, "checkout-5xx", "Checkout 5xx above 5%")
    smoke.page(key, "checkout-5xx", "Checkout 5xx above 5%")  # a repeat: deduplicated
    smoke.page(key, "checkout-latency", "Checkout p99 above 2 s")  # same service and severity: correlated
    [incident] = wait_for(lambda: smoke.incidents_of("checkout"))
    wait_for(lambda: phone.pages)
    wait_for(lambda: "notified" in [e["event_type"] for e in smoke.incident(incident["id"])["timeline"]])
    smoke.move(incident["id"], "acknowledged")
    smoke.move(incident["id"], "resolved")
    # An alert inside a short maintenance window: held back, counted by service (the Noise row);
    # the window is over before the steady traffic.
    smoke.maintenance("checkout", seconds=2)
    smoke.page(key, "checkout-disk", "Checkout disk 95%")
    wait_for(lambda: smoke.suppressed() >= 1)
    time.sleep(2)
    return key


def _steady_traffic(platform: Platform, key: str) -> None:  # noqa: F811
    """A few seconds of the alert generator's traffic, as a live platform always has: a
    counter's first increment is invisible to rate() (the series is born with it), so
    panels of rates need increments between scrapes, across every service."""
    env = {"ALERTGEN_TARGET": platform.ingestion.url, "ALERTGEN_KEYS": f"checkout={key}", "ALERTGEN_RATE": "10"}
    with ServiceProcess("alert_generator", env) as generator:
        wait_for(lambda: sum(httpx.get(f"{generator.url}/generator").json()["sent"].values()) >= 60, timeout=60)
        httpx.post(f"{generator.url}/generator/stop")


def test_every_panel_and_rule_runs_on_prometheus_against_the_live_platform(platform, prometheus):  # noqa: F811
    admin = login_token(platform.oncall.url, ADMIN["ADMIN_EMAIL"], ADMIN["ADMIN_PASSWORD"])
    key = _smoke_flow(Smoke(platform, admin), Phone())
    _steady_traffic(platform, key)
    # Scraped after the flow: the resolve's MTTR and the delivered page are in Prometheus.
    wait_for(lambda: prometheus.instant("sum(incident_mttr_seconds_count) >= 1"), timeout=30)
    wait_for(lambda: prometheus.instant('sum(notifications_sent_total{result="delivered"}) >= 1'), timeout=30)
    time.sleep(3)  # a few more scrapes, so every rate window holds two samples after the flow

    exported = _exported(platform) | PROMETHEUS_SERIES
    end = time.time()
    span = math.ceil(end - prometheus.started)
    grafana = {"$__rate_interval": "4s", "$__interval": "1s", "$__range": f"{span}s"}

    def in_prometheus(expr: str) -> str:
        for variable, value in grafana.items():
            expr = expr.replace(variable, value)
        return expr

    targets = _panel_targets()
    assert len(targets) >= 24
    for dashboard, title, target in targets:
        where = f"{dashboard} / {title}"
        expr = in_prometheus(target["expr"])
        unknown = _metric_names(expr) - exported
        assert not unknown, f"{where}: names metrics no service exports: {unknown}"
        if target.get("instant"):
            result = prometheus.instant(expr)
        else:
            result = prometheus.api("query_range", query=expr, start=prometheus.started, end=end, step="1s")["result"]
        assert _finite(result), f"{where}: no data for {expr}"

    rules = _rule_exprs()
    assert len(rules) == 10
    for name, expr in rules:
        unknown = _metric_names(expr) - exported
        assert not unknown, f"rule {name}: names metrics no service exports: {unknown}"
        prometheus.instant(expr)  # parses and evaluates (the API answers 400 otherwise)

    # Prometheus itself loaded and evaluated every rule without an error.
    loaded = [rule for group in prometheus.api("rules")["groups"] for rule in group["rules"]]
    assert sorted(r["name"] for r in loaded) == sorted(name for name, _ in rules)
    assert all(r["health"] == "ok" for r in loaded), [(r["name"], r.get("lastError")) for r in loaded]
    firing = {a["labels"]["alertname"] for a in prometheus.api("alerts")["alerts"] if a["state"] == "firing"}
    assert "Watchdog" in firing
    assert not firing & {"ServiceDown", "DatabaseNotReady", "HighErrorRatio"}, firing
