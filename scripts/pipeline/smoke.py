"""The pipeline's verify stage: every health endpoint, then one incident's whole
life through the front door (nginx), as a sender and a responder would see it.

The admin logs in (ADMIN_EMAIL / ADMIN_PASSWORD from the environment, else the
local run's data/dev-secrets.json), anonymous reads are refused, an integration
key is made, a PagerDuty event posted with it opens an incident, the incident
is acknowledged and resolved through the API, and its MTTA and MTTR are read
back. Exit status 0 only if every step did what it should."""

import argparse
import json
import os
import ssl
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

LOCAL_SECRETS = Path(__file__).resolve().parents[2] / "data" / "dev-secrets.json"


def wait_for(what: str, check: Callable[[], Any], timeout: float = 30.0) -> Any:
    """The first truthy answer of `check`, or SystemExit naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.2)
    raise SystemExit(f"FAILED: {what} (not within {timeout:.0f} s)")


def step(text: str) -> None:
    print(f"    ok  {text}", flush=True)


def admin_credentials() -> tuple[str, str]:
    email, password = os.environ.get("ADMIN_EMAIL"), os.environ.get("ADMIN_PASSWORD")
    if not (email and password) and LOCAL_SECRETS.exists():
        made = json.loads(LOCAL_SECRETS.read_text())
        email, password = made["ADMIN_EMAIL"], made["ADMIN_PASSWORD"]
    if not (email and password):
        raise SystemExit("FAILED: no admin to log in as: set ADMIN_EMAIL and ADMIN_PASSWORD")
    return email, password


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--front", required=True, help="nginx's base URL (http)")
    parser.add_argument("--https", help="nginx's HTTPS base URL, checked too when given")
    parser.add_argument("--certificate", help="the CA file that HTTPS URL's certificate verifies with")
    parser.add_argument("--service-ports", nargs=4, type=int, required=True, metavar="PORT")
    args = parser.parse_args()

    for port in args.service_ports:
        for path in ("/health", "/health/ready"):
            answer = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
            if answer.status_code != 200:
                raise SystemExit(f"FAILED: {path} on :{port} answered {answer.status_code}: {answer.text}")
        step(f"/health and /health/ready on :{port}")
    front = httpx.Client(base_url=args.front, timeout=10)
    if front.get("/health").status_code != 200:
        raise SystemExit("FAILED: nginx's /health")
    step("nginx /health")
    if args.https:
        verify = ssl.create_default_context(cafile=args.certificate) if args.certificate else True
        if httpx.get(f"{args.https}/health", verify=verify, timeout=5).status_code != 200:
            raise SystemExit("FAILED: nginx's /health over HTTPS")
        step("nginx /health over HTTPS")

    if (anonymous := front.get("/api/v1/incidents")).status_code != 401:
        raise SystemExit(f"FAILED: an anonymous read answered {anonymous.status_code}, not 401")
    email, password = admin_credentials()
    login = front.post("/api/v1/auth/login", json={"email": email, "password": password})
    if login.status_code != 200:
        raise SystemExit(f"FAILED: logging in as {email} answered {login.status_code}: {login.text}")
    # The session cookie from here on; changes carry the front door's own Origin, as the UI's do.
    front.headers["Origin"] = args.front.rstrip("/")
    step(f"anonymous reads refused; logged in as {email} through nginx")

    service = f"pipeline-{uuid.uuid4().hex[:8]}"
    created = front.post("/api/v1/integrations", json={"name": service, "service": service, "type": "pagerduty"})
    if created.status_code != 201:
        raise SystemExit(f"FAILED: creating an integration key answered {created.status_code}: {created.text}")
    event = {
        "routing_key": created.json()["key"],
        "event_action": "trigger",
        "dedup_key": f"{service}-down",
        "payload": {"summary": f"{service} is down", "source": "run-pipeline.sh", "severity": "critical"},
    }
    accepted = front.post("/v2/enqueue", json=event)
    if accepted.status_code != 202:
        raise SystemExit(f"FAILED: /v2/enqueue answered {accepted.status_code}: {accepted.text}")
    step("an alert posted through nginx with an integration key")

    def incident() -> dict[str, Any] | None:
        items = front.get("/api/v1/incidents", params={"service": service}).json()["items"]
        return items[0] if items else None

    opened = wait_for("the alert's incident", incident)
    step(f"incident {opened['id']} opened ({opened['status']})")
    for status in ("acknowledged", "resolved"):
        changed = front.patch(f"/api/v1/incidents/{opened['id']}", json={"status": status})
        if changed.status_code != 200:
            raise SystemExit(f"FAILED: PATCH status={status} answered {changed.status_code}: {changed.text}")
        step(f"incident {status}")
    closed = front.get(f"/api/v1/incidents/{opened['id']}").json()
    if closed.get("mtta_seconds") is None or closed.get("mttr_seconds") is None:
        raise SystemExit(f"FAILED: no MTTA/MTTR on the resolved incident: {closed}")
    step(f"MTTA {closed['mtta_seconds']:.2f} s, MTTR {closed['mttr_seconds']:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
