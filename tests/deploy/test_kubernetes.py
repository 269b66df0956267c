"""Run mode 3 as files: every kustomize overlay renders with `kubectl kustomize`,
and every rendered object is valid by the Kubernetes schemas (kubernetes-validate,
Kubernetes 1.32, strict: no unknown fields) and has what running it safely needs."""

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from platform_common.migrations import SERVICE_ROLES

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
KUBERNETES_VERSION = "1.32.0"
SERVICES = {"alert-ingestion": 8001, "incident-management": 8002, "oncall-service": 8003, "notification-service": 8004}
# Objects of the CloudNativePG operator's own kinds, validated against its published
# CRDs (k8s/crds/README.md), the version k8s/README.md installs.
CNPG = "postgresql.cnpg.io/v1"
CNPG_CRDS = K8S / "crds" / "cloudnative-pg-1.25.1"


def strict(schema: dict) -> dict:
    """The CRD's OpenAPI schema with unknown fields refused where the API server
    would refuse them under strict validation: every object that lists its
    properties and does not keep unknown fields. Kubernetes' own extensions
    (x-kubernetes-*) mean nothing to jsonschema and are left as they are."""
    if isinstance(schema, dict):
        schema = {key: strict(value) for key, value in schema.items()}
        if (
            "properties" in schema
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")
        ):
            schema["additionalProperties"] = False
    elif isinstance(schema, list):
        schema = [strict(item) for item in schema]
    return schema


def cnpg_validator(kind: str) -> jsonschema.Draft4Validator:
    crd = json.loads((CNPG_CRDS / f"{kind.lower()}s.postgresql.cnpg.io.json").read_text())
    version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1")
    schema = strict(version["schema"]["openAPIV3Schema"])
    # metadata is the API server's, checked by it, not by the CRD.
    schema["properties"]["metadata"] = {"type": "object"}
    return jsonschema.Draft4Validator(schema)


def render(overlay: str) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is required to render k8s/ (it comes with this kind of machine)")
    out = subprocess.run(
        [kubectl, "kustomize", str(K8S / "overlays" / overlay)], capture_output=True, text=True, check=True
    )
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.fixture(scope="module", params=["dev", "prod"])
def overlay(request) -> tuple[str, list[dict]]:
    return request.param, render(request.param)


def test_every_object_is_valid_by_the_kubernetes_schemas(overlay):
    _, objects = overlay
    checked = 0
    for obj in objects:
        if obj["apiVersion"] == CNPG:
            continue
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        checked += 1
    assert checked >= 25


def test_the_cloudnativepg_objects_are_valid_by_the_operators_published_crds():
    objects = [o for o in render("prod") if o["apiVersion"] == CNPG]
    assert {o["kind"] for o in objects} == {"Cluster", "ScheduledBackup"}
    for obj in objects:
        errors = [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in cnpg_validator(obj["kind"]).iter_errors(obj)
        ]
        assert errors == [], f"{obj['kind']} {obj['metadata']['name']}"


def test_the_crd_validation_refuses_a_misspelt_or_mistyped_field():
    cluster = next(o for o in render("prod") if o["kind"] == "Cluster")
    validator = cnpg_validator("Cluster")
    misspelt = {**cluster, "spec": {**cluster["spec"], "instance": 3}}
    mistyped = {**cluster, "spec": {**cluster["spec"], "instances": "three"}}
    nested = {**cluster, "spec": {**cluster["spec"], "storage": {"sise": "20Gi"}}}
    for broken in (misspelt, mistyped, nested):
        assert not validator.is_valid(broken)


def test_the_validation_refuses_a_broken_object(overlay):
    _, objects = overlay
    deployment = dict(by_kind(objects, "Deployment")["alert-ingestion"])
    deployment["spec"] = {**deployment["spec"], "replicas": "two"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_every_pod_is_probed_limited_non_root_read_only_and_ends_cleanly(overlay):
    _, objects = overlay
    pods = [o["spec"]["template"] for o in objects if o["kind"] in ("Deployment", "StatefulSet", "Job")]
    assert len(pods) >= 6
    for pod in pods:
        spec = pod["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert container["resources"]["requests"] and container["resources"]["limits"]
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
    for name, port in SERVICES.items():
        deployment = by_kind(objects, "Deployment")[name]
        pod = deployment["spec"]["template"]
        container = pod["spec"]["containers"][0]
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        assert container["lifecycle"]["preStop"]
        # Longer than the service's own drain (GRACEFUL_SHUTDOWN_SECONDS 15) plus preStop.
        assert pod["spec"]["terminationGracePeriodSeconds"] > 20
        service = by_kind(objects, "Service")[name]
        assert service["metadata"]["annotations"]["prometheus.io/scrape"] == "true"
        assert service["metadata"]["annotations"]["prometheus.io/port"] == str(port)
        assert by_kind(objects, "PodDisruptionBudget")[name]


def test_ingress_networkpolicies_autoscaling_and_the_migration_job(overlay):
    _, objects = overlay
    ingress = by_kind(objects, "Ingress")["incident-platform"]
    assert ingress["spec"]["ingressClassName"] == "traefik" and ingress["spec"]["tls"]
    assert set(by_kind(objects, "HorizontalPodAutoscaler")) == {"alert-ingestion", "incident-management"}
    policies = by_kind(objects, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    database = policies["database-from-services"]["spec"]["ingress"][0]["from"]
    assert database == [{"podSelector": {"matchLabels": {"platform.io/db-client": "true"}}}]
    job = by_kind(objects, "Job")["migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["command"] == ["platform-migrate", "upgrade"]
    # No Secret is part of the manifests: it is made outside the repository.
    assert by_kind(objects, "Secret") == {}


def test_dev_runs_one_of_each_and_its_own_postgres():
    objects = render("dev")
    assert all(d["spec"]["replicas"] == 1 for d in by_kind(objects, "Deployment").values())
    postgres = by_kind(objects, "StatefulSet")["postgres"]
    assert postgres["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "local-path"
    nodeport = by_kind(objects, "Service")["web-ui-nodeport"]
    assert nodeport["spec"]["type"] == "NodePort" and nodeport["spec"]["ports"][0]["nodePort"] == 30080


def test_prod_runs_replicas_on_a_cloudnativepg_cluster_with_backups():
    objects = render("prod")
    assert all(d["spec"]["replicas"] >= 2 for d in by_kind(objects, "Deployment").values())
    assert all(h["spec"]["minReplicas"] >= 2 for h in by_kind(objects, "HorizontalPodAutoscaler").values())
    assert by_kind(objects, "StatefulSet") == {}
    cluster = next(o for o in objects if o["apiVersion"] == CNPG and o["kind"] == "Cluster")
    assert cluster["spec"]["instances"] == 3
    assert cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
    scheduled = next(o for o in objects if o["apiVersion"] == CNPG and o["kind"] == "ScheduledBackup")
    assert scheduled["spec"]["cluster"]["name"] == cluster["metadata"]["name"]
    # The migration reads the operator's Secret of the schema owner; each service's role is a managed one.
    migrate = by_kind(objects, "Job")["migrate"]["spec"]["template"]["spec"]["containers"][0]
    assert migrate["env"] == [
        {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": "platform-db-app", "key": "uri"}}}
    ]
    roles = {role["name"]: role for role in cluster["spec"]["managed"]["roles"]}
    assert set(roles) == set(SERVICE_ROLES)
    for name, role in roles.items():
        assert role["login"] and role["passwordSecret"]["name"] == f"{name.replace('_', '-')}-database"


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_each_service_connects_as_its_own_role_and_none_gets_the_owners_login(overlay):
    objects = render(overlay)
    for name, deployment in by_kind(objects, "Deployment").items():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        sources = {ref.get("secretRef", {}).get("name") for ref in container.get("envFrom", [])}
        assert "incident-platform-database" not in sources and "platform-db-app" not in sources, name
        if name == "web-ui":
            continue
        database = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
        assert database == [
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": f"{name}-database", "key": "uri"}}}
        ]


def test_the_secret_templates_hold_no_value():
    secrets = list(yaml.safe_load_all((K8S / "secret.example.yaml").read_text()))
    assert {s["metadata"]["name"] for s in secrets} >= {"incident-platform-secrets", "incident-platform-database"}
    for secret in secrets:
        assert secret["kind"] == "Secret" and all(value == "" for value in secret["stringData"].values())
