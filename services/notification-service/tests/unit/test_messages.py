"""What receivers get: Slack blocks, webhook bodies, templates and their overrides, signatures."""

import ipaddress
from datetime import UTC, datetime

import httpx
import pytest

from notification_service.channels.base import is_public
from notification_service.channels.slack import SlackChannel
from notification_service.channels.webhook import WebhookChannel
from notification_service.domain.messages import message_context, sign, slack_payload, verify, webhook_body
from notification_service.domain.retry import Outcome
from notification_service.rendering import Renderer, TemplateProblem

INCIDENT = {
    "id": "6f1c2a52-3b7e-4d55-9d0f-7f3f7b0c9a11",
    "title": "API 5xx > 5%",
    "service": "api",
    "severity": "critical",
    "status": "acknowledged",
    "url": None,
}


def context(event="triggered", **incident):
    return message_context(
        notification_id="n1",
        event=event,
        incident={**INCIDENT, **incident},
        message=None,
        recipient="u1",
        ui_base_url="https://pager.example.com/",
    )


def buttons(payload):
    return [b["text"]["text"] for b in payload["blocks"][-1]["elements"]]


def test_slack_buttons_fit_the_event():
    assert buttons(slack_payload(context("triggered"), "t")) == ["Acknowledge", "Resolve", "Open incident"]
    assert buttons(slack_payload(context("acknowledged"), "t")) == ["Resolve", "Open incident"]
    assert buttons(slack_payload(context("resolved"), "t")) == ["Open incident"]


def test_slack_respects_its_length_limits():
    payload = slack_payload(context(title="x" * 500), "y" * 5000)
    assert len(payload["blocks"][0]["text"]["text"]) == 150
    assert len(payload["blocks"][2]["text"]["text"]) == 3000


def test_links_prefer_the_callers_url_and_point_actions_at_the_ui():
    links = context(url="https://elsewhere.example.com/i/1")["links"]
    assert links["incident"] == "https://elsewhere.example.com/i/1"
    # Without signed links from the caller (bare targets, no user), the buttons open the incident.
    assert links["resolve"] == f"https://pager.example.com/incidents/{INCIDENT['id']}"


def test_the_buttons_carry_the_callers_signed_links():
    actions = {"acknowledge": "https://pager.example.com/act/a.b.c", "resolve": "https://pager.example.com/act/d.e.f"}
    ctx = message_context(
        notification_id="n1",
        event="triggered",
        incident=INCIDENT,
        message=None,
        recipient="u1",
        ui_base_url="https://pager.example.com/",
        actions=actions,
    )
    assert ctx["links"]["acknowledge"] == actions["acknowledge"]
    urls = [b["url"] for b in slack_payload(ctx, "t")["blocks"][-1]["elements"]]
    assert urls[:2] == [actions["acknowledge"], actions["resolve"]]


def test_webhook_body_carries_the_signed_timestamp():
    sent_at = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    body = webhook_body(context(), "summary", sent_at)
    assert body["timestamp"] == "2026-11-23T12:00:00+00:00"
    assert body["incident"]["id"] == INCIDENT["id"]


def test_signature_is_github_style_hmac_sha256():
    # Known answer computed independently: echo -n '{}' | openssl dgst -sha256 -hmac key
    assert sign(b"{}", b"key") == "sha256=a777724d943eb48dc69bca8a4a6d57a04db3f9ec7e1de4e581e860265bdf3032"
    assert verify(b"{}", b"key", sign(b"{}", b"key"))
    assert not verify(b"{}", b"other", sign(b"{}", b"key"))


# What each event's page says happened (templates/_shared.j2), written out here.
LEADS = {
    "triggered": "A new incident needs a responder.",
    # Why it was escalated is the caller's to say (the message): a timeout, a level with
    # nobody on call, a re-notify or a responder's request are not the same story.
    "escalated": "This incident was escalated to you.",
    "acknowledged": "A responder acknowledged this incident and is working on it.",
    "resolved": "This incident is resolved.",
}
SIGNED = {"acknowledge": "https://pager.example.com/act/ack.sig", "resolve": "https://pager.example.com/act/res.sig"}


@pytest.mark.parametrize("event", sorted(LEADS))
def test_every_built_in_template_says_what_happened_to_which_incident_with_its_links(event):
    ctx = message_context(
        notification_id="n1",
        event=event,
        incident={**INCIDENT, "title": "Disk full on db-1", "severity": "high"},
        message="Runbook: rotate the logs",
        recipient="u1",
        ui_base_url="https://pager.example.com/",
        actions=SIGNED,
    )
    renderer = Renderer()
    incident_url = f"https://pager.example.com/incidents/{INCIDENT['id']}"
    title = event.title()

    subject = renderer.render("email", event, "subject.txt", ctx)
    assert subject == f"[HIGH] {title}: Disk full on db-1 (api)"
    webhook = renderer.render("webhook", event, "txt", ctx)
    assert webhook == f"[HIGH] {title}: Disk full on db-1 (api). {LEADS[event]} Runbook: rotate the logs"
    log = renderer.render("log", event, "txt", ctx)
    assert log == f"PAGE u1 [HIGH] {title}: Disk full on db-1 (api) {incident_url} - Runbook: rotate the logs"
    slack = renderer.render("slack", event, "txt", ctx)
    assert slack == f"*{title}*: <{incident_url}|Disk full on db-1>\n{LEADS[event]}\n>Runbook: rotate the logs"

    text = renderer.render("email", event, "txt", ctx)
    html = renderer.render("email", event, "html", ctx)
    for body in (text, html):
        assert title in body and "Disk full on db-1" in body and LEADS[event] in body
        assert "api" in body and "high" in body and "Runbook: rotate the logs" in body
        assert incident_url in body
        # Acknowledging is offered while nobody has; resolving until it is resolved.
        assert (SIGNED["acknowledge"] in body) == (event in ("triggered", "escalated"))
        assert (SIGNED["resolve"] in body) == (event != "resolved")


def test_html_is_autoescaped_and_text_is_not():
    renderer = Renderer()
    ctx = context(title="<b>DB</b> & co")
    assert "&lt;b&gt;DB&lt;/b&gt; &amp; co" in renderer.render("email", "triggered", "html", ctx)
    assert "<b>DB</b> & co" in renderer.render("email", "triggered", "txt", ctx)
    assert "&lt;b&gt;DB&lt;/b&gt; &amp; co" in renderer.render("slack", "triggered", "txt", ctx)


def test_override_directory_replaces_one_event_of_one_channel(tmp_path):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "resolved.subject.txt").write_text("All clear: {{ incident.title }}")
    renderer = Renderer(tmp_path)
    assert renderer.render("email", "resolved", "subject.txt", context("resolved")) == "All clear: API 5xx > 5%"
    assert renderer.render("email", "triggered", "subject.txt", context()).startswith("[CRITICAL] Triggered")
    renderer.check()


def test_broken_override_is_caught_before_any_page(tmp_path):
    (tmp_path / "slack").mkdir()
    (tmp_path / "slack" / "escalated.txt").write_text("{{ incident.no_such_field }}")
    with pytest.raises(TemplateProblem, match=r"slack/escalated\.txt"):
        Renderer(tmp_path).check()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest",
        "http://10.1.2.3/x",
        # The metadata service's address written in IPv6: NAT64, 6to4, IPv4-mapped, IPv4-compatible.
        "http://[64:ff9b::a9fe:a9fe]/latest",
        "http://[64:ff9b::169.254.169.254]/latest",
        "http://[2002:a9fe:a9fe::1]/latest",
        "http://[::ffff:169.254.169.254]/latest",
        "http://[::169.254.169.254]/latest",
        "http://[64:ff9b:1::808:808]/x",  # local-use NAT64: never public, whatever it embeds
    ],
)
async def test_public_only_refuses_receivers_inside_the_network_without_calling_them(url):
    async def must_not_be_called(request):
        raise AssertionError("no request may be sent")

    http = httpx.AsyncClient(transport=httpx.MockTransport(must_not_be_called))
    channel = WebhookChannel(http, Renderer(), b"k", public_only=True)
    result = await channel.send(target=url, context=context(), now=datetime(2026, 1, 1, tzinfo=UTC))
    await http.aclose()
    assert result.outcome is Outcome.PERMANENT
    assert "non-public address" in result.error


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        # IPv6 forms of a public IPv4 address are as public as it is.
        ("64:ff9b::808:808", True),
        ("2002:808:808::1", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::a9fe:a9fe", False),
        ("64:ff9b::a00:1", False),
        ("2002:7f00:1::1", False),
        ("2002:c0a8:10a::1", False),
        ("::ffff:10.0.0.1", False),
        ("::a9fe:a9fe", False),
        ("64:ff9b:1::808:808", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("fe80::1", False),
        ("::1", False),
    ],
)
def test_which_addresses_are_public(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


async def test_public_only_lets_public_addresses_through():
    seen = []

    def answer(request):
        seen.append(request)
        return httpx.Response(204)

    http = httpx.AsyncClient(transport=httpx.MockTransport(answer))
    channel = SlackChannel(http, Renderer(), public_only=True)
    result = await channel.send(
        target="http://93.184.215.14/hook", context=context(), now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    await http.aclose()
    assert result.outcome is Outcome.SUCCESS
    assert len(seen) == 1


def test_an_alert_joining_an_acknowledged_incident_is_told_without_an_acknowledge_link():
    ctx = message_context(
        notification_id="n1",
        event="alert_joined",
        incident={**INCIDENT, "title": "Disk full on db-1", "severity": "high"},
        message='A new alert "Disk 95%" joined this incident (already acknowledged by Alice)',
        recipient="u1",
        ui_base_url="https://pager.example.com/",
        actions=SIGNED,
    )
    renderer = Renderer()
    lead = "A new alert joined this incident, which is already acknowledged."
    webhook = renderer.render("webhook", "alert_joined", "txt", ctx)
    assert webhook == f"[HIGH] New alert: Disk full on db-1 (api). {lead} {ctx['message']}"
    assert set(ctx["links"]) == {"incident", "resolve"}
    incident_url = f"https://pager.example.com/incidents/{INCIDENT['id']}"
    for kind in ("txt", "html"):
        body = renderer.render("email", "alert_joined", kind, ctx)
        assert lead in body and "already acknowledged by Alice" in body
        assert SIGNED["resolve"] in body and incident_url in body
        assert SIGNED["acknowledge"] not in body and "Acknowledge" not in body
    assert buttons(slack_payload(ctx, "t")) == ["Resolve", "Open incident"]
