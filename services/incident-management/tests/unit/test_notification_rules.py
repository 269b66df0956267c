"""A person's notification rules applied to a page, and who notices go to."""

from datetime import UTC, datetime, timedelta

from incident_management.clients.oncall import parse_current
from incident_management.domain.rules import (
    RuleStep,
    first_method_only,
    notice_recipients,
    plan_person,
    urgency_of,
)

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
HOOK = {"type": "webhook", "address": "https://hooks.example.com/a"}
MAIL = {"type": "email", "address": "a@example.com"}
CONTACT = {"name": "Ann", "contact_methods": [HOOK, MAIL], "muted_channels": [], "muted_severities": []}


def test_without_rules_for_the_urgency_every_method_is_paged_at_once_as_before():
    rules = (RuleStep("low", 5, MAIL),)
    (page,) = plan_person(
        recipient="ann", step_key="level-0-cycle-0", contact=CONTACT, rules=rules, urgency="high", now=NOW
    )
    assert (page.step_key, page.contact, page.due_at) == ("level-0-cycle-0", CONTACT, NOW)


def test_rules_make_one_page_per_step_each_due_after_its_delay():
    rules = (RuleStep("high", 0, HOOK), RuleStep("high", 1, MAIL), RuleStep("low", 9, MAIL))
    pages = plan_person(
        recipient="ann", step_key="level-0-cycle-0", contact=CONTACT, rules=rules, urgency="high", now=NOW
    )
    assert [(p.step_key, p.contact["contact_methods"], p.due_at) for p in pages] == [
        ("level-0-cycle-0/rule-0", [HOOK], NOW),
        ("level-0-cycle-0/rule-1", [MAIL], NOW + timedelta(minutes=1)),
    ]
    assert pages[1].contact["name"] == "Ann"  # the rest of the contact (mutes, name) travels along


def test_urgency_follows_the_services_setting():
    assert urgency_of("high", ("critical", "high")) == "high"
    assert urgency_of("high", ("critical",)) == "low"
    assert urgency_of("info", ()) == "low"


def test_notices_go_to_each_paged_person_once_but_not_to_who_made_the_change():
    assert notice_recipients(["ann", "bob", "ann", "cy"], except_ids={"bob"}) == ["ann", "cy"]
    assert first_method_only(CONTACT)["contact_methods"] == [HOOK]
    assert first_method_only({"contact_methods": []})["contact_methods"] == []


def test_the_on_call_answer_brings_rules_with_their_methods():
    user = {
        "id": "u1",
        "name": "Ann",
        "contact_methods": [{"id": "m1", **HOOK}, {"id": "m2", **MAIL}],
        "notification_rules": [
            {"urgency": "high", "position": 1, "delay_minutes": 2, "contact_method_id": "m2"},
            {"urgency": "high", "position": 0, "delay_minutes": 0, "contact_method_id": "m1"},
            {"urgency": "low", "position": 0, "delay_minutes": 0, "contact_method_id": "gone"},
        ],
    }
    answer = parse_current(
        {"primary": user, "service": {"id": "s", "name": "s", "high_urgency_severities": ["critical"]}}
    )
    assert answer.high_urgency_severities == ("critical",)
    assert answer.primary.rules == (RuleStep("high", 0, HOOK), RuleStep("high", 2, MAIL))
    assert parse_current({"primary": None}).high_urgency_severities == ("critical", "high")
