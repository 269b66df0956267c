"""The front door: real nginx with the shipped configuration (web-ui/nginx/,
rendered by scripts/frontdoor.py as `make dev` renders it) in front of the four
services as processes, over HTTP and HTTPS; and the official `pagerduty` client,
which sends only to https URLs, paging through it."""

import gzip
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pagerduty
import pytest

import frontdoor
from platform_testing import free_port

from .test_platform import Platform, platform, wait_for  # noqa: F401 - `platform` is a fixture

pytestmark = pytest.mark.e2e

SECURITY_HEADERS = {
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "permissions-policy",
}
# A hashed build asset, large enough to be worth compressing.
ASSET = "assets/index-3f9a1c2b.js"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is required (apt-get install -y nginx); .ci/run installs it")
    return found


@dataclass
class Front:
    http: httpx.Client
    https: httpx.Client
    https_url: str
    certificate: Path


def test_the_shipped_configuration_passes_nginx_t(tmp_path):
    tls = frontdoor.ensure_certificate(tmp_path / "tls")
    config = frontdoor.write_config(
        tmp_path / "nginx",
        http_port=free_port(),
        https_port=free_port(),
        upstreams=dict.fromkeys(("INGESTION", "INCIDENTS", "ONCALL", "NOTIFICATIONS"), "http://127.0.0.1:9"),
        tls=tls,
    )
    frontdoor.check(nginx_binary(), config)
    # A value left out is refused before nginx ever sees the file.
    with pytest.raises(ValueError, match="NOTIFICATIONS_UPSTREAM"):
        frontdoor.render(frontdoor.TEMPLATE.read_text(), {"LISTEN_HTTP": "1"})


@pytest.fixture
def front(platform, tmp_path) -> Iterator[Front]:  # noqa: F811 - `platform` is the imported fixture
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text('<!doctype html><title>Incidents</title><script src="/assets/app.js"></script>')
    (dist / ASSET).write_text("export const severities = ['critical', 'high', 'medium', 'low', 'info'];\n" * 200)
    tls = frontdoor.ensure_certificate(tmp_path / "tls")
    http_port, https_port = free_port(), free_port()
    config = frontdoor.write_config(
        tmp_path / "nginx",
        http_port=http_port,
        https_port=https_port,
        upstreams={
            "INGESTION": platform.ingestion.url,
            "INCIDENTS": platform.incidents.url,
            "ONCALL": platform.oncall.url,
            "NOTIFICATIONS": platform.notifications.url,
        },
        static_root=dist,
        tls=tls,
    )
    binary = nginx_binary()
    frontdoor.check(binary, config)
    process = subprocess.Popen(frontdoor.command(binary, config), stderr=subprocess.PIPE)
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{http_port}", timeout=10)
        https = httpx.Client(
            base_url=f"https://127.0.0.1:{https_port}", timeout=10, verify=ssl.create_default_context(cafile=tls[0])
        )
        wait_for(lambda: _answers(http))
        yield Front(http, https, f"https://127.0.0.1:{https_port}", tls[0])
    finally:
        process.terminate()
        process.wait(10)


def _answers(client: httpx.Client) -> bool:
    try:
        return client.get("/health").status_code == 200
    except httpx.TransportError:
        return False


def test_each_path_reaches_its_service_with_the_request_id_and_security_headers(front):
    # Every list is answered by the service that owns it, through the one origin.
    for path in (
        "/api/v1/alerts",
        "/api/v1/integrations",
        "/api/v1/incidents",
        "/api/v1/users",
        "/api/v1/teams",
        "/api/v1/schedules",
        "/api/v1/escalation-policies",
        "/api/v1/notifications",
    ):
        answer = front.http.get(path)
        assert answer.status_code == 200, (path, answer.text)
        assert "items" in answer.json(), path
    created = front.http.post("/api/v1/integrations", json={"name": "front", "service": "web", "type": "generic"})
    assert created.status_code == 201 and created.json()["key"]
    assert front.http.post("/api/v1/webhooks/alertmanager", json={}).status_code in (400, 401, 422)
    # Not a path of any service: a JSON 404 from nginx, not the UI's index.html.
    unknown = front.http.get("/api/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["detail"]

    # The caller's request id reaches the service and comes back; without one, nginx makes one.
    given = front.http.get("/api/v1/incidents", headers={"X-Request-ID": "front-door-1"})
    assert given.headers["x-request-id"] == "front-door-1"
    made = front.http.get("/api/v1/incidents")
    assert len(made.headers["x-request-id"]) == 32

    for answer in (given, front.http.get("/"), front.http.get("/health"), unknown):
        assert answer.headers.keys() >= SECURITY_HEADERS
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert "strict-transport-security" not in answer.headers  # HSTS over HTTPS only
    assert "default-src 'self'" in given.headers["content-security-policy"]


def test_the_ui_is_served_with_fallback_caching_and_compression(front):
    index = front.http.get("/")
    assert index.status_code == 200 and "<title>Incidents</title>" in index.text
    assert index.headers["cache-control"] == "no-cache"
    # A route of the single-page app is the same page.
    deep = front.http.get("/incidents/3f9a1c2b?status=open")
    assert deep.status_code == 200 and deep.text == index.text

    raw = httpx.get(f"{front.http.base_url}/{ASSET}", headers={"Accept-Encoding": "gzip"})
    asset = front.http.get(f"/{ASSET}")
    assert raw.headers["content-encoding"] == "gzip"
    assert "immutable" in raw.headers["cache-control"] and "max-age=31536000" in raw.headers["cache-control"]
    assert len(gzip.compress(asset.content)) < len(asset.content) / 10
    assert asset.headers["x-content-type-options"] == "nosniff"
    assert front.http.get("/assets/missing.js").status_code == 404


def test_https_serves_the_same_with_hsts(front):
    answer = front.https.get("/api/v1/incidents")
    assert answer.status_code == 200 and answer.json()["items"] == []
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert answer.headers.keys() >= SECURITY_HEADERS
    # The certificate is made for this machine only, not trusted by default.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{front.https_url}/health")


def test_the_official_pagerduty_client_pages_through_https(front):
    created = front.https.post("/api/v1/integrations", json={"name": "pd", "service": "checkout", "type": "pagerduty"})
    events = pagerduty.EventsApiV2Client(
        created.json()["key"],
        base_url=front.https_url,
        verify=ssl.create_default_context(cafile=front.certificate),  # the client's own HTTP client takes it
    )

    dedup_key = events.trigger("Checkout error rate above 5%", "prometheus", dedup_key="checkout-errors")
    assert dedup_key == "checkout-errors"
    incident = wait_for(lambda: _incident(front, "checkout"))
    assert incident["status"] == "open" and incident["severity"] == "critical"

    events.acknowledge(dedup_key)
    wait_for(lambda: _incident(front, "checkout")["status"] == "acknowledged")
    events.resolve(dedup_key)
    resolved = wait_for(lambda: (i := _incident(front, "checkout"))["status"] == "resolved" and i)
    assert resolved["mtta_seconds"] is not None and resolved["mttr_seconds"] is not None


def _incident(front: Front, service: str) -> dict | None:
    items = front.https.get("/api/v1/incidents", params={"service": service}).json()["items"]
    return items[0] if items else None
