"""A page's Slack or webhook target is its recipient's credential: viewers see
where it went (scheme and host) in the incident's pages, never the URL; the
recipient, admins and the platform see all of it. The timeline, which every
viewer reads and nobody may rewrite, never stores it."""

from platform_testing import user_with_token

from ..conftest import target_of


async def _paged_and_delivered(harness) -> tuple[str, str, dict[str, str]]:
    """An incident whose page to Noor (a user) was delivered on every channel."""
    noor_id, noor = user_with_token(harness.database_url, "Noor")
    harness.oncall.configure("payments", levels=[(5, [str(noor_id)])])
    incident = await harness.create()
    await harness.tick()
    answers = await harness.settle("delivered", recipient=str(noor_id))
    assert answers and all(a.status_code == 200 for a in answers), [a.text for a in answers]
    return incident["id"], str(noor_id), noor


def _slack_targets(pages: list[dict]) -> list[str]:
    return [d["target"] for page in pages for d in page["notifications"] if d["channel"] == "slack"]


async def test_viewers_see_where_a_page_went_but_not_the_slack_url(harness):
    incident_id, noor_id, _ = await _paged_and_delivered(harness)
    secret = target_of(noor_id, "slack")
    for role in ("viewer", "responder"):
        _, headers = user_with_token(harness.database_url, f"Other {role}", role=role)
        pages = (await harness.client.get(f"/api/v1/incidents/{incident_id}/pages", headers=headers)).json()
        detail = (await harness.client.get(f"/api/v1/incidents/{incident_id}", headers=headers)).json()
        timeline = (await harness.client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=headers)).json()
        assert _slack_targets(pages) == _slack_targets(detail["pages"]) == ["https://hooks.slack.com/…"], role
        for answer in (pages, detail, timeline):
            assert secret not in str(answer) and "s3cr3t" not in str(answer), role
        delivered = [t["message"] for t in timeline if t["event_type"] == "notified"]
        # Named as the on-call answer named them (the stand-in titles the id), the id in the data.
        assert f"Page delivered to {noor_id.title()} via slack (https://hooks.slack.com/…)" in delivered, role
        assert f"Page delivered to {noor_id.title()} via email ({noor_id}@example.com)" in delivered, role


async def test_the_recipient_admins_and_the_platform_see_the_whole_url_but_the_timeline_never_keeps_it(harness):
    incident_id, noor_id, noor = await _paged_and_delivered(harness)
    secret = target_of(noor_id, "slack")
    _, admin = user_with_token(harness.database_url, "Ada", role="admin")
    for headers in (noor, admin, {}):  # {}: the platform's own credential
        pages = (await harness.client.get(f"/api/v1/incidents/{incident_id}/pages", headers=headers)).json()
        assert _slack_targets(pages) == [secret]
        timeline = (await harness.client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=headers)).json()
        assert "s3cr3t" not in str(timeline), timeline
