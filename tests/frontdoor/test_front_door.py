"""Through real nginx to the real services, as a browser and a sender meet the platform."""

import json
import re
import ssl
import time

import httpx
import pytest

from incident_management.config import Settings as IncidentSettings
from platform_common.auth import SESSION_COOKIE
from platform_testing import EventStream, free_port

from .conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ASSET, ASSET_BODY, INDEX, frontdoor, upstreams_of

pytestmark = pytest.mark.e2e

# (method, path, the service that must answer it); each path's own service only.
ROUTES = [
    ("GET", "/api/v1/alerts", "alert_ingestion"),
    ("GET", "/api/v1/integrations", "alert_ingestion"),
    ("POST", "/api/v1/webhooks/alertmanager", "alert_ingestion"),
    ("POST", "/v2/enqueue", "alert_ingestion"),
    ("GET", "/api/v1/incidents", "incident_management"),
    ("GET", "/api/v1/incidents/stats/summary", "incident_management"),
    ("GET", "/api/v1/users", "oncall_service"),
    ("GET", "/api/v1/teams", "oncall_service"),
    ("GET", "/api/v1/services", "oncall_service"),
    ("GET", "/api/v1/schedules", "oncall_service"),
    ("GET", "/api/v1/escalation-policies", "oncall_service"),
    ("GET", "/api/v1/oncall/current", "oncall_service"),
    ("GET", "/api/v1/auth/me", "oncall_service"),
    ("GET", "/api/v1/notifications", "notification_service"),
]


@pytest.fixture(scope="module")
def http(front_door, admin_headers):
    with httpx.Client(base_url=front_door.http_url, headers=admin_headers, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def https(front_door, admin_headers):
    # Trusts exactly the self-signed certificate the front door made.
    context = ssl.create_default_context(cafile=str(front_door.certificate))
    with httpx.Client(base_url=front_door.https_url, headers=admin_headers, verify=context, timeout=10) as client:
        yield client


def _logged(front_door, request_id: str) -> dict:
    """nginx's access-log line of one request; nginx writes it just after the answer, so wait for it."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = (front_door.folder / "logs" / "access.log").read_text().splitlines()
        for entry in map(json.loads, lines):
            if entry["request_id"] == request_id:
                return entry
        time.sleep(0.05)
    raise AssertionError(f"{request_id} not in nginx's access log")


@pytest.mark.parametrize(("method", "path", "service"), ROUTES)
def test_each_route_reaches_its_own_service(front_door, services, http, method, path, service):
    request_id = f"route-{service}-{path.replace('/', '.')}"
    answer = http.request(method, path, headers={"X-Request-ID": request_id}, json={} if method == "POST" else None)
    # The service answered (its JSON; nginx's own 404/502 say otherwise), and the log says which one.
    assert answer.status_code < 500, answer.text
    assert answer.json() != {"detail": "No API route at this path"}
    assert _logged(front_door, request_id)["upstream"] == f"127.0.0.1:{services[service].port}"


def test_a_path_of_no_service_is_a_json_404_not_the_spa(http):
    answer = http.get("/api/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json() == {"detail": "No API route at this path"}
    # A prefix of a route is not that route.
    assert http.get("/api/v1/alertsx").status_code == 404


def test_the_callers_request_id_goes_to_the_service_and_back(front_door, http):
    answer = http.get("/api/v1/incidents", headers={"X-Request-ID": "from-the-caller-1"})
    # The service echoes what it received (it would make its own otherwise), once.
    assert answer.headers.get_list("x-request-id") == ["from-the-caller-1"]
    assert _logged(front_door, "from-the-caller-1")["uri"] == "/api/v1/incidents"


def test_without_a_request_id_nginx_makes_one_the_service_keeps(front_door, http):
    answer = http.get("/api/v1/users")
    [request_id] = answer.headers.get_list("x-request-id")
    assert len(request_id) == 32
    assert _logged(front_door, request_id)["uri"] == "/api/v1/users"
    # An id the services would not log is replaced, by nginx already.
    replaced = http.get("/api/v1/users", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["x-request-id"] != "bad id\twith spaces"
    assert _logged(front_door, replaced.headers["x-request-id"])["uri"] == "/api/v1/users"
    # nginx's own answers carry one too.
    assert len(http.get("/health").headers["x-request-id"]) == 32


@pytest.mark.parametrize("path", ["/", "/api/v1/incidents", "/api/v1/nothing-here", "/health", "/assets/missing.js"])
def test_security_headers_on_every_answer(http, path):
    headers = http.get(path).headers
    csp = headers["content-security-policy"]
    for directive in ("default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"]
    assert "server" not in headers or headers["server"] == "nginx"  # no version
    # Plain HTTP gets no HSTS.
    assert "strict-transport-security" not in headers


def test_https_with_the_generated_certificate_sends_hsts(https):
    answer = https.get("/api/v1/incidents")
    assert answer.status_code == 200
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    assert https.get("/").text == INDEX
    # Not for localhost, where it would break the plain-HTTP port of the same host.
    assert "strict-transport-security" not in https.get("/health", headers={"Host": "localhost"}).headers


def test_the_spa_is_served_with_fallback_and_the_right_cache(http):
    index = http.get("/")
    assert index.text == INDEX
    assert index.headers["cache-control"] == "no-cache"
    # A client-side route is index.html too, equally uncached.
    deep = http.get("/incidents/4f1c?status=open")
    assert (deep.status_code, deep.text, deep.headers["cache-control"]) == (200, INDEX, "no-cache")
    asset = http.get(f"/{ASSET}")
    assert asset.text == ASSET_BODY
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith(("application/javascript", "text/javascript"))
    # A missing hashed file is a 404, never index.html served as script.
    assert http.get("/assets/index-00000000.js").status_code == 404
    # The API's answers keep the service's own caching.
    assert "cache-control" not in http.get("/api/v1/incidents").headers


def test_gzip_for_assets_and_api_answers(http):
    asset = http.get(f"/{ASSET}", headers={"Accept-Encoding": "gzip"})
    assert asset.headers["content-encoding"] == "gzip"
    assert asset.headers["vary"] == "Accept-Encoding"
    assert asset.text == ASSET_BODY  # httpx decodes it
    plain = http.get(f"/{ASSET}", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def test_its_own_health(http):
    answer = http.get("/health")
    assert answer.json() == {"status": "ok", "service": "web-ui"}
    assert answer.headers["cache-control"] == "no-store"


def test_a_body_over_the_services_limit_is_a_json_413(http):
    answer = http.post("/api/v1/alerts", content=b"x" * (1_048_576 + 1), headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert "detail" in answer.json()


def test_without_a_built_ui_the_api_is_still_served(nginx, services, admin_headers, tmp_path):
    door = frontdoor.FrontDoor(
        tmp_path / "nginx",
        upstreams_of(services),
        http_port=free_port(),
        https_port=free_port(),
        static_root=tmp_path / "no-dist",
        tls_dir=tmp_path / "tls",
        nginx=nginx,
    )
    with door, httpx.Client(base_url=door.http_url, headers=admin_headers, timeout=10) as client:
        home = client.get("/")
        assert home.status_code == 404
        assert "not built" in home.text
        assert client.get("/api/v1/incidents").status_code == 200


def test_a_service_that_is_down_is_a_json_502(nginx, services, admin_headers, tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    upstreams = upstreams_of(services)
    upstreams.notification_service = dead
    door = frontdoor.FrontDoor(
        tmp_path / "nginx",
        upstreams,
        http_port=free_port(),
        https_port=free_port(),
        tls_dir=tmp_path / "tls",
        nginx=nginx,
    )
    with door, httpx.Client(base_url=door.http_url, headers=admin_headers, timeout=10) as client:
        answer = client.get("/api/v1/notifications")
        assert answer.status_code == 502
        assert answer.json() == {"detail": "The service behind this path is unavailable"}
        assert client.get("/api/v1/incidents").status_code == 200


def test_a_browser_session_through_the_front_door_is_same_origin(front_door):
    """Logging in through nginx sets the cookie; a change sent with it from the
    front door's own origin passes the CSRF check (nginx passes Host with its
    port), one from another origin does not."""
    context = ssl.create_default_context(cafile=str(front_door.certificate))
    with httpx.Client(base_url=front_door.https_url, verify=context, timeout=10) as browser:
        login = browser.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
        assert browser.get("/api/v1/auth/me").json()["email"] == ADMIN_EMAIL

        own = browser.post(
            "/api/v1/auth/tokens", json={"name": "from the UI"}, headers={"Origin": front_door.https_url}
        )
        assert own.status_code == 201, own.text
        elsewhere = browser.post(
            "/api/v1/auth/tokens", json={"name": "forged"}, headers={"Origin": "https://evil.example.com"}
        )
        assert elsewhere.status_code == 403
        assert browser.post("/api/v1/auth/tokens", json={"name": "no origin"}).status_code == 403


KEY = "integration-key-sent-in-the-url"
# A key in the query string in every spelling the services would read as one,
# or a sender would mean as one: repeated, percent-encoded, any case.
KEY_QUERIES = [
    f"source=ci&integration_key={KEY}&x=1",
    f"integration_key=x&integration_key={KEY}",
    f"integration%5Fkey={KEY}",
    f"integration%5fkey={KEY}",
    f"%69ntegration_%6Bey={KEY}",
    f"x=1&INTEGRATION_KEY={KEY}",
    f"integration_key[]={KEY}",
]


def _wait_for_line(path, text: str) -> str:
    """The file's text once it holds `text` (nginx writes its logs just after answering)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.05)
    raise AssertionError(f"{text!r} never reached {path}")


@pytest.mark.parametrize("query", KEY_QUERIES)
def test_an_integration_key_in_the_url_is_refused_before_anything_logs_it(front_door, http, query):
    """nginx writes the request line into error.log on a body over the limit (or
    a service down) and it cannot be redacted there: a key in the URL is
    refused before either, with a 400 saying where the key goes."""
    request_id = f"key-in-query-{KEY_QUERIES.index(query)}"
    refused = http.post(
        f"/api/v1/alerts?{query}",
        content=b"x" * (1_048_576 + 1),  # over the limit: nginx would log the request line
        headers={"X-Request-ID": request_id, "content-type": "application/json", "Authorization": ""},
    )
    assert refused.status_code == 400, refused.text
    assert refused.headers["content-type"] == "application/json"
    assert "Authorization: Bearer" in refused.json()["detail"]
    logged = _logged(front_door, request_id)
    assert logged["uri"] == "/api/v1/alerts"
    assert logged["query"] == "REDACTED (an integration key)"
    # A request of the same size without a key is the positive signal: its line is in error.log.
    marker = f"/api/v1/alerts?too-large-{request_id}"
    too_large = http.post(marker, content=b"x" * (1_048_576 + 1), headers={"content-type": "application/json"})
    assert too_large.status_code == 413
    errors = _wait_for_line(front_door.error_log, marker)
    assert KEY not in errors
    assert KEY not in (front_door.folder / "logs" / "access.log").read_text()


def test_a_query_without_a_key_is_logged_as_it_came(front_door, http):
    answer = http.get("/api/v1/incidents?status=open&keyword=integration_keys", headers={"X-Request-ID": "plain-q"})
    assert answer.status_code == 200, answer.text
    assert _logged(front_door, "plain-q")["query"] == "status=open&keyword=integration_keys"


def test_a_page_links_token_never_reaches_nginx_logs(front_door, http):
    token = "eyJpbmNpZGVudCI6IjEifQ.link-token-s3cr3t.sig"
    for path, request_id in ((f"/api/v1/incidents/links/{token}", "link-api"), (f"/act/{token}", "link-ui")):
        http.get(path, headers={"X-Request-ID": request_id})
        logged = _logged(front_door, request_id)
        assert "s3cr3t" not in logged["uri"], logged
    assert _logged(front_door, "link-api")["uri"] == "/api/v1/incidents/links/REDACTED"
    assert "s3cr3t" not in (front_door.folder / "logs" / "access.log").read_text()


def test_with_incident_management_down_a_links_token_stays_out_of_error_log(nginx, services, tmp_path):
    upstreams = upstreams_of(services)
    upstreams.incident_management = f"127.0.0.1:{free_port()}"  # nothing listens there
    door = frontdoor.FrontDoor(
        tmp_path / "nginx",
        upstreams,
        http_port=free_port(),
        https_port=free_port(),
        tls_dir=tmp_path / "tls",
        nginx=nginx,
    )
    with door, httpx.Client(base_url=door.http_url, timeout=10) as client:
        tapped = client.post("/api/v1/incidents/links/link-token-s3cr3t", json={})
        assert tapped.status_code == 502
        # The same failure on another path is logged: the sign that error.log is written.
        assert client.get("/api/v1/incidents?after-the-link=1").status_code == 502
        errors = _wait_for_line(door.error_log, "after-the-link")
    assert "s3cr3t" not in errors


def test_live_updates_stream_through_nginx_unbuffered_and_uncompressed(front_door, http):
    """A browser's EventSource through the front door, with its session cookie:
    the stream opens at once, each change arrives as it happens (nginx buffers
    nothing, compresses nothing), and nginx waits longer than the heartbeat."""
    context = ssl.create_default_context(cafile=str(front_door.certificate))
    with httpx.Client(base_url=front_door.https_url, verify=context, timeout=10) as browser:
        assert browser.post("/api/v1/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}).is_success
        cookie = {"Cookie": f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}", "Accept-Encoding": "gzip"}
    stream = EventStream(f"{front_door.https_url}/api/v1/incidents/changes", cookie, verify=context)
    try:
        assert stream.status == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in stream.headers
        assert stream.lines_until(": open", timeout=5)
        created = http.post("/api/v1/incidents", json={"title": "Seen live", "service": "payments", "severity": "high"})
        assert created.status_code == 201, created.text
        assert stream.next_event(timeout=10)["incidents"] == [created.json()["id"]]
    finally:
        stream.close()
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", frontdoor.TEMPLATE.read_text())
    assert (
        read_timeout
        and int(read_timeout[1]) > IncidentSettings.model_fields["incident_changes_heartbeat_seconds"].default
    )
