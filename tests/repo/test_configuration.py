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
from platform_common.migrations import SERVICE_ROLES, MigrationSettings
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


def _env_example() -> dict[str, str]:
    text = (ROOT / ".env.example").read_text()
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*)=(.*)$", text, flags=re.MULTILINE))


# Each secret a service reads, with the settings that read it.
SECRETS = {
    "INTERNAL_TOKENS": IngestionSettings,
    "LINK_SIGNING_KEY": IncidentSettings,
    "ADMIN_PASSWORD": OncallSettings,
    "NOTIFICATION_WEBHOOK_SECRET": NotificationSettings,
    # The services' database roles' passwords, which the migration sets.
    **{f"{role.upper()}_DATABASE_PASSWORD": MigrationSettings for role in SERVICE_ROLES},
}
# A deployment's settings apart from the one secret under test.
DEPLOYED = {
    "database_url": "postgresql://u:p@db:5432/platform",
    "internal_tokens": "internal-token-of-the-repository-tests",
    "link_signing_key": "link-signing-key-of-the-repository-tests",
    "notification_webhook_secret": "webhook-secret-of-the-repository-tests",
}


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("name", sorted(SECRETS))
def test_env_examples_placeholder_secrets_are_refused_outside_local_runs(name, environment):
    placeholder = _env_example()[name]
    settings = SECRETS[name]
    given = {**DEPLOYED, "admin_email": "a@example.com"} if name == "ADMIN_PASSWORD" else DEPLOYED
    assert settings(environment=environment, **{**given, name.lower(): "x7Kq2mPz9Rt4Lw8Nc3Vb6Hy1Jd5Gf0Ss"}), name
    with pytest.raises(ValidationError, match=f"{name} is still"):
        settings(environment=environment, **{**given, name.lower(): placeholder})


# The review's reproduction (issue 24, finding 13): each of these started a deployment.
WEAK = [
    ("INTERNAL_TOKENS", "a"),
    ("LINK_SIGNING_KEY", "b"),
    ("ADMIN_PASSWORD", "aaaaaaaaaaaa"),
    *((name, "CHANGE_ME_PLEASE") for name in SECRETS),
    ("NOTIFICATION_WEBHOOK_SECRET", "too-short-a-webhook-key"),
]


@pytest.mark.parametrize(("name", "value"), WEAK)
def test_weak_secrets_stop_a_deployment_naming_the_variable(name, value):
    given = {**DEPLOYED, "admin_email": "a@example.com"} if name == "ADMIN_PASSWORD" else DEPLOYED
    with pytest.raises(ValidationError, match=f"{name} is (still a placeholder|shorter than|too weak)"):
        SECRETS[name](environment="prod", **{**given, name.lower(): value})
    # Local runs guard nothing and may keep any (the password's 12 characters apart).
    assert SECRETS[name](environment="local", **{**given, name.lower(): value})


def test_a_placeholder_among_internal_tokens_is_refused_and_local_runs_may_keep_them():
    with pytest.raises(ValidationError, match="INTERNAL_TOKENS is still"):
        OncallSettings(
            environment="prod", **{**DEPLOYED, "internal_tokens": f"{DEPLOYED['internal_tokens']},{PLACEHOLDER}"}
        )
    # Local runs may keep them: nothing there is a deployment.
    assert OncallSettings(environment="local", internal_tokens=PLACEHOLDER).internal_tokens is not None
