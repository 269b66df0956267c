"""Reading oncall-service's agreed answer."""

from incident_management.clients.oncall import parse_current, rules_of, steps_of


def test_the_chain_is_read_in_level_order_with_its_users():
    answer = parse_current(
        {
            "at": "2026-03-02T09:00:00+00:00",
            "service": {"id": "s", "name": "payments"},
            "escalation_policy": {"id": "6f1c1f3e-0000-4000-8000-000000000001", "name": "p", "repeat_count": 2},
            "primary": {"id": "u1", "name": "Alice", "email": "a@x"},
            "escalation_chain": [
                {"level": 1, "delay_minutes": 10, "targets": [], "users": [{"id": "u2", "name": "Bob"}]},
                {"level": 0, "delay_minutes": 5, "targets": [], "users": [{"id": "u1", "name": "Alice"}]},
            ],
        }
    )
    assert answer.primary.id == "u1"
    assert answer.repeat_count == 2
    assert [(lvl.level, lvl.delay_minutes, [u.id for u in lvl.users]) for lvl in answer.levels] == [
        (0, 5.0, ["u1"]),
        (1, 10.0, ["u2"]),
    ]
    assert answer.primary.label == "Alice"


def test_no_policy_means_no_chain():
    answer = parse_current({"primary": None, "escalation_policy": None, "escalation_chain": []})
    assert answer.primary is None
    assert answer.levels == ()
    assert answer.policy_id is None


def test_levels_carry_their_target_names_and_the_service_its_acknowledgement_timeout():
    answer = parse_current(
        {
            "escalation_policy": {"id": "p", "name": "Payments", "repeat_count": 0},
            "acknowledgement_timeout_minutes": 30,
            "escalation_chain": [
                {
                    "level": 0,
                    "delay_minutes": 5,
                    "targets": [{"type": "schedule", "id": "s", "name": "Payments primary"}, {"type": "user"}],
                    "users": [],
                }
            ],
        }
    )
    assert answer.levels[0].target_names == ("Payments primary",)
    assert answer.acknowledgement_timeout_minutes == 30
    assert parse_current({"acknowledgement_timeout_minutes": None}).acknowledgement_timeout_minutes is None


def test_a_users_rules_read_alone_give_the_steps_the_on_call_answer_gives():
    hook, mail = {"type": "webhook", "address": "https://h/a"}, {"type": "email", "address": "a@x"}
    alone = steps_of(
        {
            "user_id": "u1",
            "high": [
                {"id": "r1", "delay_minutes": 0, "contact_method_id": "m1", "contact_method": {"id": "m1", **hook}},
                {"id": "r2", "delay_minutes": 5, "contact_method_id": "m2", "contact_method": {"id": "m2", **mail}},
            ],
            "low": [{"id": "r3", "delay_minutes": 1, "contact_method_id": "m9", "contact_method": None}],
        }
    )
    in_answer = rules_of(
        {
            "contact_methods": [{"id": "m1", **hook}, {"id": "m2", **mail}],
            "notification_rules": [
                {"urgency": "high", "position": 1, "delay_minutes": 5, "contact_method_id": "m2"},
                {"urgency": "high", "position": 0, "delay_minutes": 0, "contact_method_id": "m1"},
            ],
        }
    )
    assert alone == in_answer
    assert [(step.urgency, step.delay_minutes, step.contact_method) for step in alone] == [
        ("high", 0.0, hook),
        ("high", 5.0, mail),
    ]
