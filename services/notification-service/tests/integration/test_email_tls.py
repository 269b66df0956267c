"""Email through a relay that insists on STARTTLS and a login, as production relays do."""

import email
import email.policy
import ssl
import subprocess

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from platform_testing import free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(folder / "key.pem"), "-out", str(folder / "cert.pem"), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return folder / "cert.pem", folder / "key.pem"


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((session.authenticated, envelope))
        return "250 OK"


def only_pager(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"pager", b"s3cret")
    return AuthResult(success=ok)


@pytest.fixture
def tls_relay(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=only_pager,
        auth_required=True,
    )
    controller.start()
    yield controller.port, inbox
    controller.stop()


async def test_starttls_and_login_are_used_when_configured(make_client, tls_relay, certificate, settled, an_incident):
    port, inbox = tls_relay
    async with make_client(
        smtp_port=port, smtp_starttls=True, smtp_ca_file=certificate[0], smtp_username="pager", smtp_password="s3cret"
    ) as client:
        response = await client.post(
            "/api/v1/notify",
            json={
                "event": "acknowledged",
                "incident": an_incident(),
                "targets": [{"channel": "email", "target": "lead@example.com"}],
            },
        )
        row = await settled(client, response.json()["notifications"][0]["id"])
    assert row["status"] == "delivered"
    [(authenticated, envelope)] = inbox.messages
    assert authenticated is True
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"].startswith("[CRITICAL] Acknowledged:")


async def test_relay_requiring_tls_refuses_plain_text_and_history_says_why(
    make_client, tls_relay, settled, an_incident
):
    port, inbox = tls_relay
    async with make_client(smtp_port=port, notification_max_attempts=1) as client:
        response = await client.post(
            "/api/v1/notify",
            json={
                "event": "triggered",
                "incident": an_incident(),
                "targets": [{"channel": "email", "target": "lead@example.com"}],
            },
        )
        row = await settled(client, response.json()["notifications"][0]["id"])
    # "530 Must issue a STARTTLS command first": a configuration problem, shown in history.
    assert row["status"] == "failed"
    assert "530" in row["last_error"]
    assert inbox.messages == []
