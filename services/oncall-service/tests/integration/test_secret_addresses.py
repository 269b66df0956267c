"""A Slack or webhook contact method's URL is its credential: viewers and
responders see where it goes (scheme and host), never the URL itself; the
user themself, admins and the platform (which pages with it) see all of it."""

from platform_testing import user_with_token

SLACK = "https://hooks.slack.com/services/T000/B000/s3cr3tpart"
HOOK = "https://example.com/page?token=s3cr3t"
# A credential in the URL's user part: others see the host without it.
BASIC = "https://hook-user:pa55word@alerts.example.com/in"
EMAIL = "noor@example.com"


async def _user_with_secret_addresses(api) -> dict:
    return await api.user(
        "Noor",
        contact_methods=[
            {"type": "slack", "address": SLACK},
            {"type": "webhook", "address": HOOK},
            {"type": "webhook", "address": BASIC},
            {"type": "email", "address": EMAIL},
        ],
    )


def _addresses(user: dict) -> list[tuple[str, str]]:
    return [(m["type"], m["address"]) for m in user["contact_methods"]]


async def test_others_see_where_a_secret_address_goes_but_not_the_url(api, client, clean_database):
    noor = await _user_with_secret_addresses(api)
    for role in ("viewer", "responder"):
        _, headers = user_with_token(clean_database, f"Other {role}", role=role)
        one = (await client.get(f"/api/v1/users/{noor['id']}", headers=headers)).json()
        listed = (await client.get("/api/v1/users", params={"q": "Noor"}, headers=headers)).json()["items"][0]
        for shown in (one, listed):
            assert _addresses(shown) == [
                ("slack", "https://hooks.slack.com/…"),
                ("webhook", "https://example.com/…"),
                ("webhook", "https://alerts.example.com/…"),
                ("email", EMAIL),  # where mail goes is no credential
            ], role


async def test_the_user_admins_and_the_platform_see_the_whole_url(api, client, clean_database):
    noor = await _user_with_secret_addresses(api)
    # Noor herself: her email names the account user_with_token gives a token to.
    _, own = user_with_token(clean_database, "Noor", role="viewer")
    _, admin = user_with_token(clean_database, "Ada", role="admin")
    for headers in (own, admin, {}):  # {}: the client's own platform credential
        shown = (await client.get(f"/api/v1/users/{noor['id']}", headers=headers)).json()
        assert _addresses(shown) == [("slack", SLACK), ("webhook", HOOK), ("webhook", BASIC), ("email", EMAIL)]


async def test_the_on_call_answer_hides_them_from_viewers_too(api, client, clean_database):
    noor = await _user_with_secret_addresses(api)
    levels = [{"delay_minutes": 5, "targets": [{"type": "user", "id": noor["id"]}]}]
    policy = await api.post("/api/v1/escalation-policies", {"name": "checkout", "levels": levels})
    await api.post("/api/v1/services", {"name": "checkout", "escalation_policy_id": policy["id"]})
    _, viewer = user_with_token(clean_database, "Vic", role="viewer")
    as_viewer = (await client.get("/api/v1/oncall/current", params={"service": "checkout"}, headers=viewer)).json()
    as_platform = (await client.get("/api/v1/oncall/current", params={"service": "checkout"})).json()
    for paged in (as_viewer["primary"], as_viewer["escalation_chain"][0]["users"][0]):
        assert _addresses(paged)[0] == ("slack", "https://hooks.slack.com/…"), as_viewer
        assert "pa55word" not in str(paged), as_viewer
    assert _addresses(as_platform["primary"])[0] == ("slack", SLACK)
