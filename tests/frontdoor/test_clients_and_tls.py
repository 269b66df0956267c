"""What the front door promises about its clients, checked through the real nginx:
the services see each client's own address (X-Forwarded-For), so a per-client
limit holds one client back and not everyone behind nginx; and it speaks TLS 1.2
and 1.3 only."""

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from .conftest import frontdoor

pytestmark = [
    pytest.mark.e2e,
    # Offering TLS 1.0 and 1.1 is the point of the refusal test (Python deprecates asking for them).
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning"),
]

# oncall-service's default LOGIN_FAILURES_PER_CLIENT (30/10minutes), which the conftest's services run with.
FAILURES_PER_CLIENT = 30


def _from(address: str, front_door) -> httpx.Client:
    """A client whose connections to nginx come from `address` (any 127.x.y.z is this machine)."""
    return httpx.Client(base_url=front_door.http_url, transport=httpx.HTTPTransport(local_address=address), timeout=10)


def _fail_login(client: httpx.Client, **headers: str) -> int:
    body = {"email": "nobody@example.com", "password": "not the password"}
    return client.post("/api/v1/auth/login", json=body, headers=headers).status_code


def test_a_per_client_limit_through_nginx_holds_back_that_client_only(front_door):
    with _from("127.0.0.2", front_door) as one, _from("127.0.0.3", front_door) as other:
        # One client uses up its failed logins; the address it claims for itself changes nothing.
        statuses = [_fail_login(one, **{"X-Forwarded-For": f"198.51.100.{n}"}) for n in range(FAILURES_PER_CLIENT)]
        assert statuses == [401] * FAILURES_PER_CLIENT
        assert _fail_login(one) == 429
        assert _fail_login(one, **{"X-Forwarded-For": "198.51.100.99"}) == 429
        # Another client, through the same nginx, is not held back, even claiming to be the first.
        assert _fail_login(other) == 401
        assert _fail_login(other, **{"X-Forwarded-For": "127.0.0.2"}) == 401


def _context(version: ssl.TLSVersion, cafile: Path) -> ssl.SSLContext:
    """A client context pinned to one TLS version. OpenSSL's default security level
    refuses TLS 1.0 and 1.1 on the client side already; level 0 lets it offer them,
    so a refusal can only be the server's."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile)
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    return context


def _handshake(port: int, context: ssl.SSLContext) -> str:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.version() or ""


@pytest.fixture
def old_tls_server(front_door) -> Iterator[int]:
    """A TLS server of our own that does speak TLS 1.0 and 1.1 (the same certificate):
    the control that the client contexts below can."""
    cert, key = frontdoor.ensure_certificate(front_door.tls_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            with raw, context.wrap_socket(raw, server_side=True):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1]
    listener.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["1.0", "1.1"])
def test_nginx_refuses_tls_1_0_and_1_1(front_door, old_tls_server, version):
    context = _context(version, front_door.certificate)
    assert _handshake(old_tls_server, context) == version.name.replace("_", ".")  # the client can speak it
    with pytest.raises(ssl.SSLError, match="PROTOCOL_VERSION"):  # nginx's alert: protocol version
        _handshake(front_door.https_port, context)


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3], ids=["1.2", "1.3"])
def test_nginx_speaks_tls_1_2_and_1_3(front_door, version):
    assert _handshake(front_door.https_port, _context(version, front_door.certificate)) == version.name.replace(
        "_", "."
    )
