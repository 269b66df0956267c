import json
import logging

import httpx

from platform_common.logging import configure_logging, current_log_level, request_id_var, set_log_level


def test_log_lines_are_json_with_service_and_request_id(capsys):
    configure_logging("svc-x", "INFO")
    token = request_id_var.set("rid-1")
    try:
        logging.getLogger("t").info("paged %s", "alice", extra={"incident_id": "i-1"})
    finally:
        request_id_var.reset(token)
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["message"] == "paged alice"
    assert line["service"] == "svc-x"
    assert line["request_id"] == "rid-1"
    assert line["incident_id"] == "i-1"
    assert line["level"] == "INFO"
    assert line["time"].endswith("+00:00")


def test_level_changes_at_run_time(capsys):
    configure_logging("svc-x", "INFO")
    logging.getLogger("t").debug("hidden")
    assert set_log_level("debug") == "DEBUG"
    assert current_log_level() == "DEBUG"
    logging.getLogger("t").debug("shown")
    out = capsys.readouterr().out
    assert "shown" in out and "hidden" not in out
    set_log_level("INFO")


def test_outbound_requests_leave_no_line_with_their_url(capsys):
    """httpx would log each request's URL at INFO: a webhook's token, a Slack URL,
    and a line per readiness check. Our own line after it is the sign the log is flushed."""
    configure_logging("svc-x", "INFO")
    with httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200))) as client:
        client.post("https://hooks.example.com/services/T0/B0/s3cr3t?token=s3cr3t")
        client.get("http://127.0.0.1:8002/health/ready")
    logging.getLogger("t").info("after the requests")
    out = capsys.readouterr().out
    assert "after the requests" in out
    assert "s3cr3t" not in out and "HTTP Request" not in out and "/health" not in out
