"""nginx for the local run: the repository's front door (web-ui/nginx/
platform.conf.template, the file Compose and K3s render too) in front of the
services of `make dev`, HTTP on :8080 and HTTPS on :8443 (both move with
DEV_BASE_PORT; DEV_HTTP_PORT / DEV_HTTPS_PORT set them), its files under
data/nginx/ and a self-signed certificate made once under data/tls/.

`make dev` starts it beside the services when nginx is there (installing
Debian's package first when run as root with apt-get; otherwise it prints the
command and the services run without it); DEV_NGINX=0 leaves it out."""

import datetime
import ipaddress
import os
import re
import subprocess
from pathlib import Path

from system_packages import find_or_install

ROOT = Path(__file__).resolve().parents[1]
NGINX_DIR = ROOT / "web-ui" / "nginx"
TEMPLATE = NGINX_DIR / "platform.conf.template"
DATA = Path(os.environ.get("DEV_NGINX_DIR") or ROOT / "data" / "nginx")
TLS = ROOT / "data" / "tls"
STATIC_ROOT = ROOT / "web-ui" / "dist"
# Above the services' MAX_BODY_BYTES (1 MiB), so an oversize body gets their 413 envelope.
MAX_BODY_SIZE = "2m"
PLACEHOLDER = re.compile(r"\$\{([A-Z0-9_]+)\}")


def render(template: str, values: dict[str, str]) -> str:
    """`template` with each ${NAME} replaced, as the nginx images' envsubst does;
    a ${NAME} with no value is an error here (envsubst would leave it, and nginx fail later)."""
    missing = sorted({name for name in PLACEHOLDER.findall(template) if name not in values})
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


def ensure_certificate(folder: Path = TLS) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (made once, kept
    under data/, never committed): its certificate and key paths."""
    cert, key = folder / "localhost.crt", folder / "localhost.key"
    if cert.exists() and key.exists():
        return cert, key
    # Imported here: only the local run makes certificates.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=825))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key.chmod(0o600)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert, key


def write_config(
    folder: Path,
    *,
    http_port: int,
    https_port: int,
    upstreams: dict[str, str],
    static_root: Path = STATIC_ROOT,
    tls: tuple[Path, Path] | None = None,
) -> Path:
    """A whole nginx.conf around the rendered template, every file nginx writes
    kept under `folder`. `upstreams` maps INGESTION/INCIDENTS/ONCALL/NOTIFICATIONS to base URLs."""
    cert, key = tls or ensure_certificate()
    site = render(
        TEMPLATE.read_text(),
        {
            "LISTEN_HTTP": f"127.0.0.1:{http_port}",
            "LISTEN_HTTPS": f"127.0.0.1:{https_port}",
            "TLS_CERTIFICATE": str(cert),
            "TLS_CERTIFICATE_KEY": str(key),
            "STATIC_ROOT": str(static_root),
            "MAX_BODY_SIZE": MAX_BODY_SIZE,
            "SNIPPETS_DIR": str(NGINX_DIR),
            **{f"{name}_UPSTREAM": url.rstrip("/") for name, url in upstreams.items()},
        },
    )
    temp = folder / "tmp"
    for part in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (temp / part).mkdir(parents=True, exist_ok=True)
    # As root, the workers would otherwise drop to `nobody`, who may read neither
    # the checkout nor these folders; this nginx serves one developer's machine.
    user = "user root;\n" if os.geteuid() == 0 else ""
    config = folder / "nginx.conf"
    config.write_text(
        "# Written by scripts/frontdoor.py from web-ui/nginx/platform.conf.template; changes are overwritten.\n"
        f"{user}worker_processes 1;\npid {folder / 'nginx.pid'};\nerror_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "    include /etc/nginx/mime.types;\n"
        "    default_type application/octet-stream;\n"
        f"    access_log {folder / 'access.log'};\n"
        "    sendfile on;\n"
        + "".join(f"    {part}_temp_path {temp / part};\n" for part in ("fastcgi", "uwsgi", "scgi", "proxy"))
        + f"    client_body_temp_path {temp / 'body'};\n"
        + site
        + "}\n"
    )
    return config


def check(binary: str, config: Path) -> None:
    """`nginx -t` on `config`; raises with nginx's own words when it is refused."""
    result = subprocess.run([binary, "-t", "-q", "-c", str(config)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"nginx -t refused {config}:\n{result.stderr}")


def command(binary: str, config: Path) -> list[str]:
    """The command line of nginx in the foreground with `config`."""
    return [binary, "-c", str(config), "-g", "daemon off;"]


def local_ports(base_port: int) -> tuple[int, int]:
    """HTTP and HTTPS ports of `make dev`: 8080 and 8443, moved with DEV_BASE_PORT."""
    offset = base_port - 8001
    return (
        int(os.environ.get("DEV_HTTP_PORT") or 8080 + offset),
        int(os.environ.get("DEV_HTTPS_PORT") or 8443 + offset),
    )


def local_command(base_port: int) -> list[str] | None:
    """The nginx of `make dev`, in front of its services from `base_port`; None without nginx."""
    binary = find_or_install("nginx", "nginx", service="nginx")
    if binary is None:
        return None
    http_port, https_port = local_ports(base_port)
    upstreams = {
        name: f"http://127.0.0.1:{base_port + offset}"
        for offset, name in enumerate(("INGESTION", "INCIDENTS", "ONCALL", "NOTIFICATIONS"))
    }
    config = write_config(DATA, http_port=http_port, https_port=https_port, upstreams=upstreams)
    check(binary, config)
    return command(binary, config)
