"""The stand-ins for oncall-service and notification-service are held to those
services' OpenAPI documents (conftest.py); here the check itself is shown to
catch the drift it is there for."""

import uuid

import httpx

from platform_testing.contract import Contract

from ..conftest import person, uid, user_record

ONCALL = Contract.of("oncall-service")
NOTIFICATIONS = Contract.of("notification-service")


def test_the_stand_ins_answers_pass_the_check(oncall, notifier):
    oncall.configure("payments", levels=[(5, ["alice"])])
    with httpx.Client(timeout=5) as http:
        assert http.get(f"{oncall.server.url}/api/v1/oncall/current", params={"service": "payments"}).is_success
        assert http.get(f"{oncall.server.url}/api/v1/users/{uid('alice')}").is_success
        page = {
            "idempotency_key": "k-1",
            "event": "triggered",
            "incident": {"id": str(uuid.uuid4()), "title": "t", "service": "payments", "severity": "high"},
            "user_id": uid("alice"),
            "contact": {"name": "Alice", "contact_methods": [{"type": "email", "address": "alice@example.com"}]},
        }
        batch = http.post(f"{notifier.server.url}/api/v1/notify/batch", json={"items": [page, page]})
        assert [r["status_code"] for r in batch.json()["results"]] == [202, 200]
    assert oncall.contract.problems == []
    assert notifier.contract.problems == []


def test_a_field_the_document_lacks_or_misses_is_caught():
    alice = person("alice")
    user = user_record("alice")
    assert ONCALL.response_problems("GET", f"/api/v1/users/{alice['id']}", 200, user) == []

    [extra] = ONCALL.response_problems("GET", f"/api/v1/users/{alice['id']}", 200, {**user, "phone": "+1 555"})
    assert "'phone' was unexpected" in extra
    without_role = {key: value for key, value in user.items() if key != "role"}
    [missing] = ONCALL.response_problems("GET", f"/api/v1/users/{alice['id']}", 200, without_role)
    assert "'role' is a required property" in missing
    [not_uuid] = ONCALL.response_problems("GET", "/api/v1/users/x", 200, {**user, "id": "alice"})
    assert "'alice' is not a 'uuid'" in not_uuid


def test_a_request_or_status_the_document_does_not_have_is_caught():
    assert ONCALL.request_problems("GET", "/api/v1/oncall/current", "service=payments") == []
    assert ONCALL.request_problems("GET", "/api/v1/oncall/current", "service=payments&shift=now") == [
        "GET /api/v1/oncall/current request: query parameter 'shift' is not in the document"
    ]
    assert ONCALL.request_problems("GET", "/api/v1/oncall/next") == [
        "GET /api/v1/oncall/next: no such operation in the document"
    ]
    assert NOTIFICATIONS.response_problems("POST", "/api/v1/notify", 201, {}) == [
        "POST /api/v1/notify answer 201: status 201 is not documented"
    ]
    [refused] = NOTIFICATIONS.request_problems("POST", "/api/v1/notify", body={"incident": None})
    assert "'event' is a required property" in refused
