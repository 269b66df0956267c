"""Real senders, unchanged but for the URL: the pdpyras client library from PyPI
and a real Prometheus Alertmanager through both pagerduty_configs and
webhook_configs. A test whose sender is not installed skips, except under
CI=true, where it fails (platform_testing.missing)."""

import asyncio
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml

import webui
from platform_testing import (
    PLATFORM_HEADERS,
    ServiceProcess,
    as_service,
    free_port,
    missing,
    require_binary,
    require_module,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def ingestion(clean_database, incident_service):
    env = {
        "ENVIRONMENT": "test",
        "DATABASE_URL": as_service(clean_database, "alert_ingestion"),
        "INCIDENT_SERVICE_URL": incident_service.url,
        "INCIDENT_ACTIONS_INTERVAL_SECONDS": "0.5",
        "READINESS_INTERVAL_SECONDS": "60",
    }
    with ServiceProcess("alert_ingestion", env) as process:
        yield process


def new_key(base_url: str, service: str, type_: str) -> str:
    response = httpx.post(
        f"{base_url}/api/v1/integrations",
        json={"name": type_, "service": service, "type": type_},
        headers=PLATFORM_HEADERS,
    )
    response.raise_for_status()
    return response.json()["key"]


async def eventually(check, within: float = 20.0):
    deadline = time.monotonic() + within
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        await asyncio.sleep(0.2)


async def test_pdpyras_triggers_acknowledges_and_resolves(ingestion, db):
    with warnings.catch_warnings():
        # pdpyras says it is superseded by "pagerduty"; it is still what many senders run.
        warnings.simplefilter("ignore", UserWarning)
        pdpyras = require_module("pdpyras", "pip install -e 'services/alert-ingestion[test]' (make install does)")
    key = new_key(ingestion.url, "payments", "pagerduty")
    session = pdpyras.EventsAPISession(key)
    session.url = ingestion.url

    dedup_key = await asyncio.to_thread(session.trigger, "Card processor timeouts", "pay-api-1", severity="critical")
    assert dedup_key  # pdpyras reads it from our 202 body
    [alert] = db.rows("SELECT incident_id FROM alerts WHERE dedup_key = :k", k=dedup_key)
    # Opened just after the 202 that reserved its id.
    incident = await db.incident_eventually(alert.incident_id)
    assert (incident.service, incident.severity, incident.alert_count) == ("payments", "critical", 1)
    assert len(db.incidents()) == 1

    await asyncio.to_thread(session.acknowledge, dedup_key)
    assert await eventually(lambda: db.scalar("SELECT status FROM incidents") == "acknowledged")
    await asyncio.to_thread(session.resolve, dedup_key)
    assert await eventually(lambda: db.scalar("SELECT status FROM incidents") == "resolved")


def alertmanager_config(url: str, pd_key: str, webhook_key: str) -> str:
    return f"""
route:
  receiver: pagerduty
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - receiver: webhook
      matchers: ['via="webhook"']
receivers:
  - name: pagerduty
    pagerduty_configs:
      - routing_key: {pd_key}
        url: {url}/v2/enqueue
        send_resolved: true
  - name: webhook
    webhook_configs:
      - url: {url}/api/v1/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {webhook_key}
"""


class Alertmanager:
    """A real, single, loopback-only Alertmanager that can be stopped and started again."""

    def __init__(self, config: str) -> None:
        self.binary = require_binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
        self.folder = Path(tempfile.mkdtemp(prefix="alertmanager-"))
        (self.folder / "alertmanager.yml").write_text(config)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.folder / "out.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                f"--config.file={self.folder / 'alertmanager.yml'}",
                f"--storage.path={self.folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--cluster.listen-address=",  # no gossip port: a single, loopback-only instance
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{self.url}/-/ready", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"alertmanager did not start:\n{(self.folder / 'out.log').read_text()}")
            time.sleep(0.2)

    def watchdog(self) -> None:
        """What Prometheus's Watchdog rule sends: always firing."""
        alert = {
            "labels": {"alertname": "Watchdog", "severity": "none"},
            "annotations": {"summary": "the alerting pipeline works"},
            "startsAt": (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
        }
        httpx.post(f"{self.url}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None


@contextmanager
def running_alertmanager(config: str) -> Iterator[str]:
    """A real Alertmanager with this configuration, running for the block; its URL."""
    alertmanager = Alertmanager(config)
    try:
        alertmanager.start()
        yield alertmanager.url
    finally:
        alertmanager.stop()
        shutil.rmtree(alertmanager.folder, ignore_errors=True)


@pytest.fixture
def alertmanager(ingestion):
    pd_key = new_key(ingestion.url, "am-pagerduty", "pagerduty")
    webhook_key = new_key(ingestion.url, "am-webhook", "alertmanager")
    with running_alertmanager(alertmanager_config(ingestion.url, pd_key, webhook_key)) as url:
        yield url


def push(alertmanager_url: str, name: str, via: str, *, resolved: bool) -> None:
    now = datetime.now(UTC)
    alert = {
        "labels": {"alertname": name, "via": via, "severity": "critical", "instance": "db-1:9100"},
        "annotations": {"summary": f"{name} on db-1"},
        "startsAt": (now - timedelta(minutes=1)).isoformat(),
    }
    if resolved:
        alert["endsAt"] = (now - timedelta(seconds=1)).isoformat()
    httpx.post(f"{alertmanager_url}/api/v2/alerts", json=[alert], timeout=5).raise_for_status()


async def test_real_alertmanager_through_pagerduty_and_webhook_configs(alertmanager, db):
    push(alertmanager, "DiskFullPD", "pagerduty", resolved=False)
    push(alertmanager, "DiskFullWH", "webhook", resolved=False)

    def incident(service: str):
        rows = db.incidents("service = :s", s=service)
        assert len(rows) <= 1, f"{service}: {len(rows)} incidents"
        return rows[0] if rows else None

    pd = await eventually(lambda: incident("am-pagerduty"))
    wh = await eventually(lambda: incident("am-webhook"))
    assert pd is not None, "no incident from pagerduty_configs"
    assert wh is not None, "no incident from webhook_configs"
    # pagerduty_configs sends severity "error" (ours: high); the webhook carries the label.
    assert (pd.severity, wh.severity) == ("high", "critical")
    assert db.scalar("SELECT count(*) FROM alerts WHERE format = 'pagerduty' AND length(dedup_key) = 64") >= 1

    push(alertmanager, "DiskFullPD", "pagerduty", resolved=True)
    push(alertmanager, "DiskFullWH", "webhook", resolved=True)
    assert await eventually(lambda: incident("am-pagerduty").status == "resolved")
    assert await eventually(lambda: incident("am-webhook").status == "resolved")


WEB_UI = webui.UI
# senders.ts compiled by the UI's own TypeScript and called as the page calls it.
SNIPPETS_JS = """
const [ts, source, key, origin, name] = process.argv.slice(1);
const typescript = require(ts);
const text = require("fs").readFileSync(source, "utf8");
const js = typescript.transpileModule(text, { compilerOptions: { module: typescript.ModuleKind.CommonJS } }).outputText;
const module_ = { exports: {} };
new Function("module", "exports", js)(module_, module_.exports);
process.stdout.write(JSON.stringify(module_.exports.senderSettings(key, origin, name)));
"""


def offered_settings(key: str, origin: str) -> dict[str, str]:
    """The settings the UI offers with a new key (web-ui/src/senders.ts), as it renders them."""
    node = require_binary("node", "apt-get install nodejs")
    typescript = WEB_UI / "node_modules" / "typescript"
    if not webui.packages():
        missing("web-ui's packages (TypeScript)", "apt-get install npm")
    out = subprocess.run(
        [
            node,
            "-e",
            SNIPPETS_JS,
            str(typescript),
            str(WEB_UI / "src" / "senders.ts"),
            key,
            origin,
            "prod alertmanager",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    ("snippet", "type_"), [("alertmanagerPagerduty", "pagerduty"), ("alertmanagerWebhook", "alertmanager")]
)
async def test_each_alertmanager_snippet_the_ui_offers_passes_amtool_and_keeps_the_severity(
    ingestion, db, snippet, type_, tmp_path
):
    key = new_key(ingestion.url, f"snippet-{type_}", type_)
    config = offered_settings(key, ingestion.url)[snippet]
    # Pasted as offered: Alertmanager's own checker accepts it.
    amtool = require_binary("amtool", "apt-get install prometheus-alertmanager")
    (tmp_path / "alertmanager.yml").write_text(config)
    checked = await asyncio.to_thread(
        subprocess.run, [amtool, "check-config", str(tmp_path / "alertmanager.yml")], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Run with it (the route made quick for the test; the receivers exactly as offered).
    parsed = yaml.safe_load(config)
    parsed["route"] |= {"group_by": ["alertname"], "group_wait": "1s", "group_interval": "1s"}
    with running_alertmanager(yaml.safe_dump(parsed)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            for name, label in (("DiskFull", "critical"), ("DiskSlow", "warning")):
                alert = {"labels": {"alertname": name, "severity": label, "instance": "db-1:9100"}}
                (await http.post("/api/v2/alerts", json=[alert])).raise_for_status()

        def severities():
            rows = db.incidents("service = :s", s=f"snippet-{type_}")
            return {row.title: row.severity for row in rows} if len(rows) == 2 else None

        found = await eventually(severities)
    assert found is not None, "expected two incidents: the critical alert and the warning apart"
    # A critical alert arrives critical (not PagerDuty's default "error", high), a warning as medium.
    assert sorted(found.values()) == ["critical", "medium"], found
