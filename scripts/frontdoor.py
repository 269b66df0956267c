"""The front door of local runs: real nginx with the shipped configuration
(web-ui/nginx/default.conf.template) rendered for local ports, HTTP and
HTTPS, run as the current user with everything it writes under one folder
(data/nginx by default): configuration, pid, temp files, logs.

`make dev` starts it beside the services (scripts/dev.py); the tests in
tests/frontdoor use the same class. A self-signed certificate for localhost
and 127.0.0.1 is made under data/tls when none is there.

    python scripts/frontdoor.py check    # render for local ports and run `nginx -t`
"""

import argparse
import logging
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from system_packages import find_or_install

log = logging.getLogger("frontdoor")

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "web-ui" / "nginx" / "default.conf.template"
STATIC_ROOT = ROOT / "web-ui" / "dist"
TLS_DIR = ROOT / "data" / "tls"
INSTALL_COMMAND = "sudo apt-get install -y nginx"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
# The services' MAX_BODY_BYTES default (1 MiB), in nginx's units.
MAX_BODY_SIZE = "1m"


class MissingValues(ValueError):
    """The template names placeholders that were given no value."""


def render(template: str, values: dict[str, str]) -> str:
    """Substitute ${NAME} placeholders as envsubst does, refusing any left without a value."""
    missing = sorted(set(PLACEHOLDER.findall(template)) - values.keys())
    if missing:
        raise MissingValues(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def ensure_certificate(folder: Path = TLS_DIR) -> tuple[Path, Path]:
    """A self-signed certificate and key for localhost/127.0.0.1 in `folder`,
    made with the openssl CLI when either is missing. Never committed: data/ is ignored."""
    cert, key = folder / "localhost.crt", folder / "localhost.key"
    if cert.exists() and key.exists():
        return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
            "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    key.chmod(0o600)
    log.info("made a self-signed certificate for localhost: %s", cert)
    return cert, key


def find_nginx() -> str | None:
    """The nginx binary, also where a non-root PATH lacks /usr/sbin."""
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)


def install_nginx() -> str | None:
    """Install nginx with apt when running as root on Debian/Ubuntu (Debian's own
    nginx service, started on port 80 by the package, is stopped); the binary, or None."""
    return find_or_install("nginx", "nginx", service="nginx")


def _mime_types(nginx: str) -> Path:
    """mime.types beside the binary's compiled-in nginx.conf (/etc/nginx on Debian)."""
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    conf = re.search(r"--conf-path=(\S+)", built)
    return Path(conf.group(1)).parent / "mime.types" if conf else Path("/etc/nginx/mime.types")


@dataclass
class Upstreams:
    """host:port of each service nginx passes to."""

    alert_ingestion: str
    incident_management: str
    oncall_service: str
    notification_service: str

    @classmethod
    def from_base_port(cls, host: str, base_port: int) -> "Upstreams":
        """The four services on consecutive ports, as `make dev` runs them."""
        return cls(*(f"{host}:{base_port + offset}" for offset in range(4)))


class FrontDoor:
    """nginx with the shipped configuration on `http_port`/`https_port`, its
    files under `folder`; `start()` checks the configuration (`nginx -t`) first."""

    def __init__(
        self,
        folder: Path,
        upstreams: Upstreams,
        *,
        http_port: int,
        https_port: int,
        host: str = "127.0.0.1",
        static_root: Path = STATIC_ROOT,
        tls_dir: Path = TLS_DIR,
        nginx: str | None = None,
    ):
        self.folder = folder.resolve()
        self.upstreams = upstreams
        self.http_port, self.https_port, self.host = http_port, https_port, host
        self.static_root = static_root.resolve()
        self.tls_dir = tls_dir
        self.nginx = nginx or find_nginx() or "nginx"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://{self.host}:{self.https_port}"

    @property
    def certificate(self) -> Path:
        return self.tls_dir / "localhost.crt"

    @property
    def conf(self) -> Path:
        return self.folder / "conf" / "nginx.conf"

    @property
    def error_log(self) -> Path:
        return self.folder / "logs" / "error.log"

    def values(self) -> dict[str, str]:
        """The template's placeholders, for this local run."""
        cert, key = ensure_certificate(self.tls_dir)
        return {
            "NGINX_HTTP_LISTEN": f"{self.host}:{self.http_port}",
            "NGINX_HTTPS_LISTEN": f"{self.host}:{self.https_port}",
            "NGINX_TLS_CERTIFICATE": str(cert.resolve()),
            "NGINX_TLS_CERTIFICATE_KEY": str(key.resolve()),
            "NGINX_STATIC_ROOT": str(self.static_root),
            "NGINX_ACCESS_LOG": str(self.folder / "logs" / "access.log"),
            "NGINX_MAX_BODY_SIZE": MAX_BODY_SIZE,
            "NGINX_ALERT_INGESTION_UPSTREAM": self.upstreams.alert_ingestion,
            "NGINX_INCIDENT_MANAGEMENT_UPSTREAM": self.upstreams.incident_management,
            "NGINX_ONCALL_SERVICE_UPSTREAM": self.upstreams.oncall_service,
            "NGINX_NOTIFICATION_SERVICE_UPSTREAM": self.upstreams.notification_service,
        }

    def write_config(self) -> Path:
        """Render the shipped template, and a main nginx.conf around it that
        keeps pid, temp files and logs in this run's folder."""
        for sub in ("conf", "logs", "tmp"):
            (self.folder / sub).mkdir(parents=True, exist_ok=True)
        (self.folder / "conf" / "frontdoor.conf").write_text(render(TEMPLATE.read_text(), self.values()))
        tmp = self.folder / "tmp"
        # As root, nginx would hand its workers to `nobody`, who can neither
        # write these folders nor read a checkout under /root: run as ourselves.
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
        self.conf.write_text(
            f"{user}worker_processes 1;\n"
            f"pid {self.folder / 'nginx.pid'};\n"
            f"error_log {self.error_log} warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            f"    include {_mime_types(self.nginx)};\n"
            "    default_type application/octet-stream;\n"
            "    sendfile on;\n"
            f"    client_body_temp_path {tmp / 'body'};\n"
            f"    proxy_temp_path {tmp / 'proxy'};\n"
            f"    fastcgi_temp_path {tmp / 'fastcgi'};\n"
            f"    uwsgi_temp_path {tmp / 'uwsgi'};\n"
            f"    scgi_temp_path {tmp / 'scgi'};\n"
            "    include frontdoor.conf;\n"
            "}\n"
        )
        return self.conf

    def _command(self, *args: str) -> list[str]:
        return [self.nginx, "-p", str(self.folder), "-c", str(self.conf), "-e", str(self.error_log), *args]

    def check(self) -> str:
        """`nginx -t` on the rendered configuration; its report, or CalledProcessError."""
        self.write_config()
        result = subprocess.run(self._command("-t"), capture_output=True, text=True)
        if result.returncode != 0:
            raise subprocess.CalledProcessError(result.returncode, result.args, result.stdout, result.stderr)
        return result.stderr

    def start(self, timeout: float = 10.0) -> "FrontDoor":
        """Check, start in the foreground of its own session, and wait for /health."""
        self.check()
        self.process = subprocess.Popen(self._command("-g", "daemon off;"), start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}: {self.error_log.read_text()}")
            try:
                if httpx.get(f"{self.http_url}/health", timeout=0.5).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not answer on {self.http_url}: {self.error_log.read_text()}")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGQUIT: nginx finishes the requests in flight, then exits."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "FrontDoor":
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def local_front_door(base_port: int) -> FrontDoor:
    """The front door `make dev` runs: DEV_HTTP_PORT/DEV_HTTPS_PORT (8080/8443) on HOST,
    to the services on DEV_BASE_PORT.., its files in DEV_NGINX_DIR (data/nginx),
    serving the UI built in DEV_UI_DIST (web-ui/dist)."""
    host = os.environ.get("HOST", "127.0.0.1")
    return FrontDoor(
        Path(os.environ.get("DEV_NGINX_DIR") or ROOT / "data" / "nginx"),
        Upstreams.from_base_port(host, base_port),
        http_port=int(os.environ.get("DEV_HTTP_PORT", "8080")),
        https_port=int(os.environ.get("DEV_HTTPS_PORT", "8443")),
        host=host,
        static_root=Path(os.environ.get("DEV_UI_DIST") or STATIC_ROOT),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Render the front door for local ports and check it with nginx -t.")
    parser.add_argument("action", choices=["check"])
    parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    if find_nginx() is None:
        log.error("nginx is not installed; run: %s", INSTALL_COMMAND)
        return 1
    try:
        report = local_front_door(int(os.environ.get("DEV_BASE_PORT", "8001"))).check()
    except subprocess.CalledProcessError as failure:
        sys.stderr.write(failure.stderr)
        return 1
    sys.stderr.write(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
