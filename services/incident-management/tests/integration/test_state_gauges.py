"""The gauges read from the database at scrape time: incidents by status and
severity (resolved included) and the health of the engine."""

from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families


async def _scrape(harness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await harness.client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


async def test_incidents_by_status_and_severity_include_resolved(harness):
    harness.oncall.configure("payments", levels=[(5, ["alice"])])
    first = await harness.create(severity="critical")
    await harness.create(severity="critical")
    low = await harness.create(severity="low")
    assert (await harness.patch(first["id"], status="acknowledged")).status_code == 200
    assert (await harness.patch(low["id"], status="resolved")).status_code == 200

    samples = await _scrape(harness)
    assert _value(samples, "incidents", status="open", severity="critical") == 1
    assert _value(samples, "incidents", status="acknowledged", severity="critical") == 1
    assert _value(samples, "incidents", status="resolved", severity="low") == 1
    assert _value(samples, "incidents", status="resolved", severity="critical") == 0, "zeros are reported too"
    assert sum(v for (name, _), v in samples.items() if name == "incidents") == 3
    assert _value(samples, "incidents_open", status="open") == 1

    harness.clock.advance(timedelta(minutes=20))
    samples = await _scrape(harness)
    assert _value(samples, "incident_oldest_open_age_seconds", severity="critical") == 20 * 60
    assert _value(samples, "incident_oldest_open_age_seconds", severity="low") == 0, "resolved is not waiting"


async def test_engine_health_gauges_follow_the_outbox_escalations_and_assignment(harness):
    samples = await _scrape(harness)
    for name in (
        "incident_escalation_lag_seconds",
        "incident_outbox_depth",
        "incident_oldest_undelivered_page_age_seconds",
        "incident_oldest_unassigned_open_age_seconds",
    ):
        assert _value(samples, name) == 0, f"{name}: nothing waiting yet"

    # Nobody on call for "search": the incident stays unassigned and ages.
    await harness.create(service="search")
    harness.clock.advance(timedelta(minutes=3))
    samples = await _scrape(harness)
    assert _value(samples, "incident_oldest_unassigned_open_age_seconds") == 180

    # notification-service down: the page waits in the outbox and ages.
    harness.oncall.configure("payments", levels=[(5, ["alice"]), (10, ["bob"])])
    harness.notifier.server.stop()
    await harness.create()
    await harness.tick(seconds=30)
    samples = await _scrape(harness)
    assert _value(samples, "incident_outbox_depth") == 1
    assert _value(samples, "incident_oldest_undelivered_page_age_seconds") == 30

    # The escalation fell due five minutes after opening; with no loop run since, it is 90 s late.
    harness.clock.advance(timedelta(minutes=6))
    samples = await _scrape(harness)
    assert _value(samples, "incident_escalation_lag_seconds") == 90

    harness.notifier.server.start()
    await harness.tick()
    samples = await _scrape(harness)
    assert _value(samples, "incident_escalation_lag_seconds") == 0, "the loop escalated it"
    assert _value(samples, "incident_outbox_depth") == 0


async def test_the_last_cycle_gauge_moves_when_the_engine_runs(harness):
    before = (await _scrape(harness)).get(("incident_worker_last_cycle_timestamp_seconds", ()), 0.0)
    await harness.tick()
    after = _value(await _scrape(harness), "incident_worker_last_cycle_timestamp_seconds")
    assert after > before
