"""Repository-level promises: every setting is documented, Compose wires what the contract says."""

import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from alert_ingestion.config import Settings as IngestionSettings
from incident_management.config import Settings as IncidentSettings
from notification_service.config import Settings as NotificationSettings
from oncall_service.config import Settings as OncallSettings
from platform_common.settings import PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"alert-ingestion": 8001, "incident-management": 8002, "oncall-service": 8003, "notification-service": 8004}
# Set per service or per process, not by an operator in .env.
NOT_OPERATOR_SETTINGS = {"SERVICE_NAME"}


def _documented() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE))


def test_env_example_lists_every_setting_of_every_service():
    documented = _documented()
    for settings in (IngestionSettings, IncidentSettings, OncallSettings, NotificationSettings):
        names = {name.upper() for name in settings.model_fields} - NOT_OPERATOR_SETTINGS
        assert names <= documented, f"{settings.__module__}: not in .env.example: {sorted(names - documented)}"


def test_compose_runs_each_service_on_its_contract_port_after_migrations():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, port in PORTS.items():
        service = services[name]
        assert service["environment"]["PORT"] == str(port)
        assert f"{port}:{port}" in service["ports"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "healthcheck" in service
        assert service["deploy"]["resources"]["limits"]["memory"]
    assert services["migrate"]["command"] == ["platform-migrate", "upgrade"]
    assert "pgdata" in compose["volumes"]


def test_compose_takes_secrets_from_env_and_insists_on_them():
    text = (ROOT / "docker-compose.yml").read_text()
    for secret in (
        "POSTGRES_PASSWORD",
        "INTERNAL_TOKENS",
        "LINK_SIGNING_KEY",
        "ADMIN_EMAIL",
        "ADMIN_PASSWORD",
        "NOTIFICATION_WEBHOOK_SECRET",
    ):
        assert re.search(rf"\$\{{{secret}:\?", text), f"{secret} must be required with ${{{secret}:?...}}"
        assert secret in _documented()


def test_prometheus_scrapes_every_service():
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    targets = {t for job in config["scrape_configs"] for sc in job["static_configs"] for t in sc["targets"]}
    assert targets == {f"{name}:{port}" for name, port in PORTS.items()}


def test_compose_mounts_the_alert_rules_beside_the_prometheus_config():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    volumes = compose["services"]["prometheus"]["volumes"]
    config = yaml.safe_load((ROOT / "monitoring" / "prometheus.yml").read_text())
    assert config["rule_files"] == ["rules/*.yml"]
    assert "./monitoring/rules:/etc/prometheus/rules:ro" in volumes
    assert "./monitoring/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes


def test_placeholder_secrets_from_env_example_are_refused_outside_local_runs():
    db = {"database_url": "postgresql://u:p@db:5432/platform"}
    with pytest.raises(ValidationError, match="INTERNAL_TOKENS is still"):
        OncallSettings(environment="prod", internal_tokens=f"real-one,{PLACEHOLDER}", **db)
    with pytest.raises(ValidationError, match="LINK_SIGNING_KEY is still"):
        IncidentSettings(environment="dev", internal_tokens="real", link_signing_key=PLACEHOLDER, **db)
    with pytest.raises(ValidationError, match="ADMIN_PASSWORD is still"):
        OncallSettings(
            environment="prod",
            internal_tokens="real",
            admin_email="a@example.com",
            admin_password=f"{PLACEHOLDER}-now",  # .env.example's placeholder, built from the rule's own constant
            **db,
        )
    # Local runs may keep them: nothing there is a deployment.
    assert OncallSettings(environment="local", internal_tokens=PLACEHOLDER).internal_tokens is not None
