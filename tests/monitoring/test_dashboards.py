"""The Grafana dashboards: the committed JSON is what monitoring/dashboards.py makes,
each dashboard has the panels SREs were promised, and every query names the
provisioned datasource. (tests/e2e/test_observability.py runs every query against
a real Prometheus.)"""

import json
import subprocess
import sys
from pathlib import Path

import yaml

MONITORING = Path(__file__).resolve().parents[2] / "monitoring"
DASHBOARDS = MONITORING / "grafana" / "dashboards"

PANELS = {
    "incident-overview.json": [
        "Total Alerts Received",
        "Total Incidents Created",
        "Open Incidents",
        "Resolved Incidents",
        "Alerts by Severity",
        "Incidents by Status",
        "Alert Correlation Outcomes",
        "Alert Processing Latency",
        "Suppressed alerts by service",
        "Active maintenance windows",
        "Heartbeats late",
        "Snoozed, merged, split and bulk-changed incidents",
    ],
    "sre-performance.json": [
        "MTTA p50",
        "MTTR p50",
        "Incidents by Severity",
        "MTTA distribution",
        "MTTR distribution",
        "Incident Status Breakdown",
        "Incident Creation Rate by Severity",
    ],
    "platform-health.json": [
        "Request rate per service",
        "5xx per service",
        "Latency p99 per service",
        "Escalation loop",
        "Waiting work",
        "Outbox depth",
        "Schedules with an on-call gap (24 h)",
        "Notification success by channel",
        "Database readiness",
        "Timeline entries kept",
        "Timeline months dropped",
    ],
}


def _load(name: str) -> dict:
    return json.loads((DASHBOARDS / name).read_text())


def test_regenerating_the_dashboards_changes_nothing():
    result = subprocess.run(
        [sys.executable, str(MONITORING / "dashboards.py"), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_each_dashboard_has_its_panels_in_order():
    assert sorted(p.name for p in DASHBOARDS.glob("*.json")) == sorted(PANELS)
    for name, titles in PANELS.items():
        panels = [p for p in _load(name)["panels"] if p["type"] != "row"]
        assert [p["title"] for p in panels] == titles, name
        assert all(p.get("targets") for p in panels), f"{name}: a panel without a query"


def test_the_promised_colours():
    overview = {p["title"]: p for p in _load("incident-overview.json")["panels"]}
    assert overview["Open Incidents"]["fieldConfig"]["defaults"]["color"]["fixedColor"] == "red"
    assert overview["Resolved Incidents"]["fieldConfig"]["defaults"]["color"]["fixedColor"] == "green"
    assert overview["Alert Correlation Outcomes"]["type"] == "barchart"
    assert [t["legendFormat"] for t in overview["Alert Processing Latency"]["targets"]] == ["p50", "p95", "p99"]
    sre = {p["title"]: p for p in _load("sre-performance.json")["panels"]}
    mtta = [s["color"] for s in sre["MTTA p50"]["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    mttr = [s["color"] for s in sre["MTTR p50"]["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert "yellow" in mtta and "orange" in mttr
    assert sre["Incident Status Breakdown"]["type"] == "barchart"


def test_every_query_uses_the_provisioned_datasource():
    provisioned = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/prometheus.yml").read_text())
    [datasource] = provisioned["datasources"]
    for name in PANELS:
        for panel in _load(name)["panels"]:
            for target in panel.get("targets", []):
                assert target["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}, panel["title"]


def test_the_provider_loads_the_dashboards_folder_and_refuses_ui_edits():
    provider = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/incident-platform.yml").read_text())
    [entry] = provider["providers"]
    assert entry["type"] == "file" and entry["allowUiUpdates"] is False
    assert entry["options"]["path"] == "/var/lib/grafana/dashboards"
