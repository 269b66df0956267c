"""Local run mode: migrate, then run every service as its own process on
127.0.0.1:8001-8004, their JSON logs straight on stdout, with the nginx front door
on :8080/:8443 (scripts/frontdoor.py; DEV_NGINX=0 leaves it out) and Prometheus
beside them when each is installed or can be (scripts/observe.py; DEV_PROMETHEUS=0
leaves it out). Ctrl-C (or SIGTERM,
or SIGHUP when its terminal closes) stops them all gracefully; if one dies, the rest are stopped too.

Without DATABASE_URL it first starts an embedded PostgreSQL (data in
data/dev-pg, or DEV_POSTGRES_DIR), serves the services from its database
`platform`, and stops it last, after the services.

DEV_BASE_PORT moves the four ports together (the services are told each
other's URLs), so a second copy can run beside the first, as the tests do.

Each service connects as its own PostgreSQL role (migration 0009_service_roles),
which may write only its own tables: the runner lets the roles log in with
passwords of its own. When DATABASE_URL's user may not manage roles, every
service runs as that user instead, with a warning.

Secrets of the local run (INTERNAL_TOKENS, LINK_SIGNING_KEY, the first admin's
ADMIN_PASSWORD, the service roles' database passwords) are made on the first
run and kept in data/dev-secrets.json (DEV_SECRETS_FILE), so logins, API
tokens and page links survive a restart; a variable already set wins. The
admin's login is printed at start.

`dev.py migrate` / `dev.py downgrade` only migrate the same database (up to
head / down to base) and `dev.py current` says its revision: on the embedded
server a running `make dev` started, or one started and stopped around it."""

import argparse
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

import frontdoor
import webui
from observe import DATA as PROMETHEUS_DATA
from observe import local_command as prometheus_command
from platform_common.logging import configure_logging
from platform_common.migrations import (
    SERVICE_ROLES,
    MigrationSettings,
    current,
    downgrade,
    enable_service_logins,
    upgrade,
)
from platform_testing.local_postgres import DataDirInUse, LocalPostgres, ensure_database, running_url

log = logging.getLogger("dev")

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "platform"

# (name, module, offset from DEV_BASE_PORT, the env variable other services find it by)
SERVICES = (
    ("alert-ingestion", "alert_ingestion", 0, "ALERT_INGESTION_URL"),
    ("incident-management", "incident_management", 1, "INCIDENT_SERVICE_URL"),
    ("oncall-service", "oncall_service", 2, "ONCALL_SERVICE_URL"),
    ("notification-service", "notification_service", 3, "NOTIFICATION_SERVICE_URL"),
)


def _interrupt(_signum: int, _frame: object) -> None:
    # Until the services run, SIGTERM and SIGHUP unwind like Ctrl-C, so the
    # embedded server started so far is still stopped on the way out.
    raise KeyboardInterrupt


def database(stack: ExitStack, *, share: bool = False) -> Path | None:
    """DATABASE_URL for this process and the services: the one given, or an
    embedded server's, stopped when `stack` closes. With `share`, the server a
    running `make dev` started on the same folder will do. Returns the embedded
    server's data folder, if one was started."""
    if given := os.environ.get("DATABASE_URL"):
        log.info("using DATABASE_URL")
        try:  # its database made when missing, as the embedded server's is
            ensure_database(given, make_url(given).database or DATABASE)
        except psycopg.Error as error:
            log.warning("could not make sure DATABASE_URL's database exists: %s", error)
        return None
    folder = Path(os.environ.get("DEV_POSTGRES_DIR") or ROOT / "data" / "dev-pg")
    try:
        server_url = stack.enter_context(LocalPostgres(folder)).url()
    except DataDirInUse:
        if not share or (server_url := running_url(folder)) is None:
            raise SystemExit(
                f"{folder} is in use by another `make dev`: stop it, or give this one a folder of its own"
                " (DEV_POSTGRES_DIR) and ports of its own (DEV_BASE_PORT, DEV_HTTP_PORT, DEV_HTTPS_PORT)"
            ) from None
        log.info("using the embedded PostgreSQL the running `make dev` started")
        folder = None
    os.environ["DATABASE_URL"] = ensure_database(server_url, DATABASE)
    log.info("embedded PostgreSQL: %s (psql %s)", folder, os.environ["DATABASE_URL"])
    return folder


def secrets_file() -> Path:
    return Path(os.environ.get("DEV_SECRETS_FILE") or ROOT / "data" / "dev-secrets.json")


def local_secrets() -> dict[str, str]:
    """The local run's secrets, made once and kept (mode 0600), into os.environ
    where not set already. Nothing here is ever committed or used outside local runs."""
    path = secrets_file()
    kept: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    made = {
        "INTERNAL_TOKENS": lambda: secrets.token_urlsafe(32),
        "LINK_SIGNING_KEY": lambda: secrets.token_urlsafe(32),
        "ADMIN_EMAIL": lambda: "admin@example.com",
        "ADMIN_PASSWORD": lambda: secrets.token_urlsafe(12),
        **{f"{role.upper()}_DATABASE_PASSWORD": lambda: secrets.token_urlsafe(24) for role in SERVICE_ROLES},
    }
    if any(name not in kept for name in made):
        kept = {name: kept.get(name) or make() for name, make in made.items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.write_text(json.dumps(kept, indent=2) + "\n")
    for name, value in kept.items():
        os.environ.setdefault(name, value)
    return {name: os.environ[name] for name in made}


def service_databases(settings: MigrationSettings) -> dict[str, str]:
    """Each service's DATABASE_URL, by role: its own role's, when DATABASE_URL's
    user may let the roles log in; else DATABASE_URL itself, with a warning."""
    try:
        return enable_service_logins(settings, settings.service_passwords())
    except psycopg.errors.InsufficientPrivilege:
        log.warning(
            "DATABASE_URL's user may not manage roles, so every service runs as that user, with the rights"
            " of all of them; give it CREATEROLE (or use the embedded PostgreSQL) for each service's own role"
        )
        return dict.fromkeys(SERVICE_ROLES, os.environ["DATABASE_URL"])


def front_door(base_port: int) -> frontdoor.FrontDoor | None:
    """nginx in front of the services, started; None (and why, logged) when it cannot run."""
    # The UI first (web-ui/dist, served at /); without it nginx serves the API
    # and says at / that the UI is not built.
    if os.environ.get("DEV_UI_BUILD", "1") != "0":
        try:
            if not webui.build():
                log.warning("npm is not installed, so the UI is not built; run: sudo apt-get install -y npm")
        except (RuntimeError, subprocess.CalledProcessError) as error:
            log.error("the UI did not build; the API runs without it: %s", getattr(error, "stderr", None) or error)
    door = frontdoor.local_front_door(base_port)
    if frontdoor.find_nginx() is None and frontdoor.install_nginx() is None:
        log.warning("nginx is not installed, so no UI on :%d; run: %s", door.http_port, frontdoor.INSTALL_COMMAND)
        return None
    try:
        door.start()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as error:
        log.error("nginx did not start; the services run without it: %s", getattr(error, "stderr", None) or error)
        return None
    log.info("web UI and API: %s and %s (self-signed: %s)", door.http_url, door.https_url, door.certificate)
    return door


def _start_helper(argv: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    """A tool beside the services (nginx, Prometheus) in its own session, its output in `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as output:
        return subprocess.Popen(argv, start_new_session=True, stdout=output, stderr=subprocess.STDOUT)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _all_answer(urls: list[str]) -> bool:
    try:
        return all(httpx.get(url, timeout=0.5).status_code == 200 for url in urls)
    except httpx.HTTPError:
        return False


def serve(databases: dict[str, str], local: dict[str, str]) -> int:
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    # SIGHUP too: a closed terminal (or ssh session) would otherwise kill this
    # runner alone and leave the services, in their own sessions, running.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)

    base_port = int(os.environ.get("DEV_BASE_PORT", "8001"))
    urls = {url_env: f"http://127.0.0.1:{base_port + offset}" for _, _, offset, url_env in SERVICES}
    # Signed links in pages point at the UI behind the front door.
    urls["UI_BASE_URL"] = f"http://127.0.0.1:{os.environ.get('DEV_HTTP_PORT', '8080')}"
    for name, module, offset, _ in SERVICES:
        port = base_port + offset
        # Its own database login only: no service is handed another's password.
        inherited = {key: value for key, value in os.environ.items() if not key.endswith("_DATABASE_PASSWORD")}
        env = {**urls, **inherited, "PORT": str(port), "DATABASE_URL": databases[module]}
        # Own process group: the terminal's Ctrl-C reaches us only, and we stop
        # the children in order with SIGTERM (graceful) instead of all at once.
        children[name] = subprocess.Popen([sys.executable, "-m", module], env=env, start_new_session=True)
        log.info("started %s on http://127.0.0.1:%d (pid %d)", name, port, children[name].pid)
    # Optional: the services run the same without them, and go on if one stops.
    helpers: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    door = front_door(base_port) if os.environ.get("DEV_NGINX", "1") != "0" else None
    if door is not None and door.process is not None:
        helpers["nginx"] = (door.process, door.error_log)
    login = (
        f"log in at {door.http_url if door else f'http://127.0.0.1:{base_port + 2}/api/v1/auth/login'}"
        f" as {local['ADMIN_EMAIL']} with password {local['ADMIN_PASSWORD']}"
        f" (ADMIN_PASSWORD; kept in {secrets_file()})"
    )
    # Printed, not logged: the developer needs it whatever LOG_LEVEL is; again
    # once every service answers, below the services' start-up lines.
    _say(login)
    health = [f"http://127.0.0.1:{base_port + offset}/health" for _, _, offset, _ in SERVICES]
    if os.environ.get("DEV_PROMETHEUS", "1") != "0" and (argv := prometheus_command()) is not None:
        log_path = PROMETHEUS_DATA / "prometheus.log"
        helpers["Prometheus"] = (_start_helper(argv, log_path), log_path)

    exit_code = 0
    while not stopping:
        if health and _all_answer(health):
            _say(f"the platform is up: {login}")
            health = []
        for name, child in children.items():
            if child.poll() is not None:
                log.error("%s exited with %s; stopping the others", name, child.returncode)
                exit_code = 1
                stopping = True
                break
        for name, (helper, log_path) in list(helpers.items()):
            if helper.poll() is not None:
                log.warning(
                    "%s exited with %s (its log: %s); the services go on without it", name, helper.returncode, log_path
                )
                del helpers[name]
        time.sleep(0.3)

    children.update({name: helper for name, (helper, _) in helpers.items()})
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for name, child in children.items():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in time; killing it", name)
            child.kill()
            child.wait()
    log.info("all services stopped")
    return exit_code


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the platform locally, or only migrate its database.")
    parser.add_argument("action", choices=["serve", "migrate", "downgrade", "current"], nargs="?", default="serve")
    args = parser.parse_args()
    configure_logging("dev", os.environ.get("LOG_LEVEL", "INFO"))
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        with ExitStack() as stack:
            folder = database(stack, share=args.action != "serve")
            # First: the service roles' passwords among them, read by the settings.
            local = local_secrets() if args.action == "serve" else {}
            settings = MigrationSettings()
            if args.action == "downgrade":
                downgrade(settings, "base")
                return 0
            if args.action == "current":
                current(settings)
                return 0
            try:
                upgrade(settings)
            except Exception:
                if folder is not None:
                    # Migrations already applied here may have been edited since
                    # (nothing is deployed yet, so old ones still change).
                    log.error("migrating %s failed; local data can be started afresh: rm -rf %s", folder, folder)
                raise
            if args.action == "migrate":
                return 0
            return serve(service_databases(settings), local)
    except KeyboardInterrupt:
        log.info("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
