"""Pages delivered for real: to a local HTTP receiver (webhook and Slack) and a local SMTP server."""

import email
import email.policy
from datetime import datetime

from notification_service.domain.messages import verify
from platform_testing import free_port

# The signed one-click links incident-management makes for each recipient (opaque here).
ACTIONS = {"acknowledge": "http://ui.test/act/ack.token", "resolve": "http://ui.test/act/resolve.token"}


async def test_webhook_is_delivered_signed_and_recorded(client, receiver, settled, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "triggered",
            "incident": an_incident(),
            "targets": [{"channel": "webhook", "target": f"{receiver.url}/hooks/pager"}],
            "message": "p99 at 2.4s for 5 minutes",
            "actions": ACTIONS,
        },
    )
    assert response.status_code == 202
    accepted = response.json()
    assert accepted["status"] == "accepted"
    [notification] = accepted["notifications"]
    assert notification["status"] == "pending"

    settled_row = await settled(client, notification["id"])
    assert settled_row["status"] == "delivered"
    assert settled_row["attempts"] == 1
    assert [a["result"] for a in settled_row["attempt_history"]] == ["success"]
    assert settled_row["attempt_history"][0]["response_status"] == 200
    assert settled_row["delivered_at"] is not None

    [request] = receiver.received
    assert request.path == "/hooks/pager"
    # The receiver can prove the page came from us, byte for byte.
    assert verify(request.body, b"test-webhook-secret", request.headers["X-Signature-256"])
    assert not verify(request.body + b" ", b"test-webhook-secret", request.headers["X-Signature-256"])
    body = request.json()
    assert int(request.headers["X-Timestamp"]) == int(datetime.fromisoformat(body["timestamp"]).timestamp())
    assert request.headers["X-Notification-Id"] == notification["id"]
    assert body["event"] == "triggered"
    assert body["incident"]["title"] == "Checkout latency above 2s"
    assert body["message"] == "p99 at 2.4s for 5 minutes"
    assert body["summary"].startswith("[CRITICAL] Triggered: Checkout latency above 2s (checkout)")
    incident_id = an_incident()["id"]
    assert body["links"] == {**ACTIONS, "incident": f"http://ui.test/incidents/{incident_id}"}

    metrics = (await client.get("/metrics")).text
    assert 'notifications_sent_total{channel="webhook",result="delivered"}' in metrics
    assert "notification_delivery_seconds_bucket" in metrics


async def test_slack_gets_blocks_with_ack_and_resolve_links(client, receiver, settled, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "escalated",
            "incident": an_incident(title="Disk <!channel> & full", severity="high"),
            "targets": [{"channel": "slack", "target": f"{receiver.url}/services/T000/B000/XXX"}],
            "actions": ACTIONS,
        },
    )
    [notification] = response.json()["notifications"]
    assert (await settled(client, notification["id"]))["status"] == "delivered"

    payload = receiver.received[0].json()
    header, facts, text, actions = payload["blocks"]
    assert header["type"] == "header"
    assert "Escalated: Disk <!channel> & full" in header["text"]["text"]  # plain_text: shown literally
    assert {"type": "mrkdwn", "text": "*Severity*\nhigh"} in facts["fields"]
    assert {"type": "mrkdwn", "text": "*Service*\ncheckout"} in facts["fields"]
    # In mrkdwn a title must not ping the channel: control characters are escaped.
    assert "Disk &lt;!channel&gt; &amp; full" in text["text"]["text"]
    assert "<!channel>" not in text["text"]["text"]
    assert payload["text"] == text["text"]["text"]
    buttons = {b["text"]["text"]: b["url"] for b in actions["elements"]}
    incident_id = an_incident()["id"]
    assert buttons == {
        "Acknowledge": ACTIONS["acknowledge"],
        "Resolve": ACTIONS["resolve"],
        "Open incident": f"http://ui.test/incidents/{incident_id}",
    }


async def test_email_has_text_and_escaped_html_parts(client, smtp, settled, an_incident):
    response = await client.post(
        "/api/v1/notify",
        json={
            "event": "triggered",
            "incident": an_incident(title="<script>alert(1)</script> login down"),
            "targets": [{"channel": "email", "target": "oncall@example.com"}],
            "message": "Runbook: https://runbooks.example.com/login",
            "actions": ACTIONS,
        },
    )
    [notification] = response.json()["notifications"]
    assert (await settled(client, notification["id"]))["status"] == "delivered"

    [envelope] = smtp.handler.messages
    assert envelope.rcpt_tos == ["oncall@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "[CRITICAL] Triggered: <script>alert(1)</script> login down (checkout)"
    assert message["To"] == "oncall@example.com"
    assert message["X-Notification-Id"] == notification["id"]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Runbook: https://runbooks.example.com/login" in text
    assert "A new incident needs a responder." in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; login down" in html
    assert "<script>" not in html
    assert f'href="{ACTIONS["acknowledge"]}"' in html


async def test_log_channel_delivers_for_local_runs(client, settled, an_incident, caplog):
    response = await client.post(
        "/api/v1/notify",
        json={"event": "resolved", "incident": an_incident(), "targets": [{"channel": "log", "target": "dev"}]},
    )
    [notification] = response.json()["notifications"]
    assert (await settled(client, notification["id"]))["status"] == "delivered"
    assert any("Resolved: Checkout latency above 2s" in r.getMessage() for r in caplog.records)


async def test_readiness_reports_the_mail_relay_and_needs_no_other_service(client):
    body = (await client.get("/health/ready")).json()
    assert body["status"] == "ready"
    assert body["dependencies"]["smtp"]["status"] == "up"
    # Pages carry their recipients' contact methods: oncall-service is not a dependency.
    assert "oncall-service" not in body["dependencies"]


async def test_readiness_is_degraded_not_down_without_the_mail_relay(make_client):
    async with make_client(smtp_port=free_port()) as client:
        response = await client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["dependencies"]["smtp"]["status"] == "down"
