"""Prometheus metrics of oncall-service: coverage of the schedules, read from the
database at scrape time (every replica reports the same truth)."""

import logging
from collections.abc import Iterator
from datetime import timedelta

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from oncall_service.db import queries
from oncall_service.domain.schedule import first_gap
from oncall_service.usecases.schedules import to_domain_layers, to_domain_overrides
from platform_common.clock import Clock
from platform_db.models import Schedule

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=24)

NOTICES = Counter(
    "oncall_notices_total", "Shift notices handed to notification-service, by kind and result", ["kind", "result"]
)
NOTICE_CYCLE = Histogram("oncall_notice_cycle_seconds", "One cycle of the shift-notice loop")


class CoverageCollector(Collector):
    """`oncall_schedules_with_gap`: schedules where nobody is on call at some moment of
    the next 24 hours, by the same rotation arithmetic that answers "who is on call"."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        """The gauges, computed from the stored schedules at scrape time."""
        start = self.clock.now()
        end = start + HORIZON
        try:
            with Session(self.engine) as session:
                schedules = session.scalars(select(Schedule)).all()
                by_schedule = to_domain_overrides(session.scalars(queries.overrides_within(start=start, end=end)))
                gaps = sum(first_gap(to_domain_layers(s), by_schedule[s.id], start, end) is not None for s in schedules)
        except Exception:  # a scrape must not fail because the database is briefly away
            log.warning("coverage gauges: database unavailable at scrape", exc_info=True)
            return
        yield GaugeMetricFamily("oncall_schedules", "Schedules defined", value=len(schedules))
        yield GaugeMetricFamily(
            "oncall_schedules_with_gap",
            "Schedules with a moment in the next 24 hours when nobody is on call",
            value=gaps,
        )
