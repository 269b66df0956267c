"""`make demo`: synthetic alert traffic into the local platform (`make dev` running), so
the dashboards and the UI have something to show.

It takes integration keys from ALERTGEN_KEYS ("payments=KEY,..."), or creates one
PagerDuty integration per demo service through alert-ingestion's API with the local
run's internal credential (INTERNAL_TOKENS, else the one `make dev` keeps in
data/dev-secrets.json: no login, so no login throttle can stop it) and keeps the keys
in data/alert-generator/keys.json for the next run (made anew when the platform's
database no longer has them). Then it runs the generator (tools/alert-generator) in the
foreground; its control API is on :DEV_BASE_PORT+89 (http://127.0.0.1:8090/docs by default)."""

import json
import logging
import os
import sys
from pathlib import Path

import httpx
from dev import secrets_file

log = logging.getLogger("demo")

ROOT = Path(__file__).resolve().parents[1]
KEYS_FILE = ROOT / "data" / "alert-generator" / "keys.json"
SERVICES = ("checkout", "payments", "search", "auth", "inventory")


def platform_client() -> httpx.Client:
    """A client that calls as the local platform itself (its internal credential)."""
    tokens = os.environ.get("INTERNAL_TOKENS")
    if not tokens and secrets_file().exists():
        tokens = json.loads(secrets_file().read_text()).get("INTERNAL_TOKENS")
    if not tokens:
        sys.exit(
            "no internal credential: start the platform once with `make dev`, or pass ALERTGEN_KEYS=service=KEY,..."
        )
    return httpx.Client(timeout=10, headers={"Authorization": f"Bearer {tokens.split(',')[0].strip()}"})


def stored_keys(ingestion: str, admin: httpx.Client) -> dict[str, str] | None:
    """The keys of an earlier run, if every one of their integrations still exists."""
    if not KEYS_FILE.exists():
        return None
    stored = json.loads(KEYS_FILE.read_text())
    listed = admin.get(f"{ingestion}/api/v1/integrations", params={"limit": 200})  # revoked ones are not listed
    listed.raise_for_status()
    live = {item["id"] for item in listed.json()["items"]}
    if all(entry["id"] in live for entry in stored.values()):
        return {service: entry["key"] for service, entry in stored.items()}
    return None


def create_keys(ingestion: str, admin: httpx.Client) -> dict[str, str]:
    """One PagerDuty integration per demo service; the keys are shown only now, so they are kept."""
    stored = {}
    for service in SERVICES:
        response = admin.post(
            f"{ingestion}/api/v1/integrations",
            json={"name": f"demo generator: {service}", "service": service, "type": "pagerduty"},
        )
        if response.status_code in (401, 403):
            sys.exit(f"creating integrations was refused ({response.status_code}): pass ALERTGEN_KEYS=service=KEY,...")
        response.raise_for_status()
        stored[service] = {"id": response.json()["id"], "key": response.json()["key"]}
    KEYS_FILE.parent.mkdir(parents=True, exist_ok=True)
    KEYS_FILE.write_text(json.dumps(stored, indent=2))
    KEYS_FILE.chmod(0o600)
    return {service: entry["key"] for service, entry in stored.items()}


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    base_port = int(os.environ.get("DEV_BASE_PORT", "8001"))
    ingestion = f"http://127.0.0.1:{base_port}"
    env = {**os.environ, "ALERTGEN_TARGET": ingestion, "PORT": os.environ.get("ALERTGEN_PORT") or str(base_port + 89)}
    if not os.environ.get("ALERTGEN_KEYS"):
        try:
            with platform_client() as admin:
                keys = stored_keys(ingestion, admin) or create_keys(ingestion, admin)
        except httpx.HTTPError as exc:
            sys.exit(f"alert-ingestion is not answering on {ingestion} ({exc}): start the platform with `make dev`")
        env["ALERTGEN_KEYS"] = ",".join(f"{service}={key}" for service, key in keys.items())
    log.info("sending to %s; control API on http://127.0.0.1:%s/docs", ingestion, env["PORT"])
    os.execve(sys.executable, [sys.executable, "-m", "alert_generator", *sys.argv[1:]], env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
