"""Who gets a page over which channel, and why someone does not."""

from notification_service.domain.recipients import ContactMethod, Target, UserProfile, plan_deliveries


def user(*methods, channels=(), severities=()):
    return UserProfile(
        id="u1",
        name="Ada",
        contact_methods=tuple(ContactMethod(kind, address) for kind, address in methods),
        muted_channels=frozenset(channels),
        muted_severities=frozenset(severities),
    )


def summary(planned):
    return [(p.channel, p.target, p.status, p.suppressed_reason) for p in planned]


def test_each_deliverable_method_once_and_sms_is_left_out():
    ada = user(("email", "ada@x.io"), ("sms", "+1555"), ("slack", "https://hooks/1"), ("email", "ada@x.io"))
    assert summary(plan_deliveries(user=ada, targets=[], severity="critical")) == [
        ("email", "ada@x.io", "pending", None),
        ("slack", "https://hooks/1", "pending", None),
    ]


def test_muted_channel_is_recorded_as_suppressed():
    ada = user(("email", "ada@x.io"), ("slack", "https://hooks/1"), channels=["slack"])
    assert summary(plan_deliveries(user=ada, targets=[], severity="high"))[1] == (
        "slack",
        "https://hooks/1",
        "suppressed",
        "channel 'slack' is muted by the user",
    )


def test_muted_severity_wins_over_channel():
    ada = user(("email", "ada@x.io"), channels=["email"], severities=["info"])
    [only] = plan_deliveries(user=ada, targets=[], severity="info")
    assert only.suppressed_reason == "severity 'info' is muted by the user"


def test_nothing_deliverable_leaves_one_suppressed_row_with_the_reason():
    [only] = plan_deliveries(user=user(("phone", "+1555")), targets=[], severity="critical")
    assert (only.channel, only.target, only.status, only.recipient) == (None, None, "suppressed", "u1")
    assert "no contact method" in only.suppressed_reason


def test_explicit_targets_ignore_the_users_mutes_and_are_not_duplicated():
    ada = user(("webhook", "https://hook"), channels=["webhook"], severities=["low"])
    planned = plan_deliveries(user=ada, targets=[Target("webhook", "https://hook")], severity="low")
    assert summary(planned) == [("webhook", "https://hook", "pending", None)]
    assert planned[0].recipient == "u1"


def test_targets_without_a_user_are_their_own_recipients():
    [only] = plan_deliveries(user=None, targets=[Target("log", "dev")], severity="low")
    assert (only.recipient, only.status) == ("dev", "pending")
