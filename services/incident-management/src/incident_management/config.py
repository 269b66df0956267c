"""Settings of incident-management, from environment variables."""

import secrets
from functools import lru_cache

from pydantic import Field, SecretStr, model_validator

from platform_common.settings import BaseServiceSettings, refuse_weak_secret


class Settings(BaseServiceSettings):
    """Settings of incident-management, from environment variables."""

    service_name: str = "incident-management"
    port: int = 8002

    # The background loop (assignment retries, escalation timers, the page
    # outbox) runs as an asyncio task in each replica; it is
    # safe to run in several because work is claimed in the database.
    incident_worker_enabled: bool = True
    incident_worker_interval_seconds: float = Field(default=5.0, gt=0)
    incident_worker_batch_size: int = Field(default=50, ge=1, le=1000)
    # Pages handed to notification-service at the same time by one replica.
    incident_worker_concurrency: int = Field(default=32, ge=1, le=100)
    # How long a replica may hold a claimed incident or page before another may take it over.
    incident_claim_lease_seconds: float = Field(default=60.0, gt=0)
    # Backoff (platform_common.retry) of retries while oncall-service / notification-service are down:
    # about base after the first failure, doubling, capped.
    incident_retry_base_seconds: float = Field(default=5.0, gt=0)
    incident_retry_max_seconds: float = Field(default=300.0, gt=0)
    # >1 runs the service's clock faster than real time (demos, end-to-end tests of escalation).
    incident_clock_speed: float = Field(default=1.0, gt=0)

    # The timeline's retention (workers/retention.py, migration 0018_retention): monthly
    # partitions created this many months ahead, and dropped once wholly older than the
    # retention (13 months by default) unless an incident of theirs is unresolved or was
    # resolved within it. Incidents themselves, with their MTTA/MTTR, are kept.
    incident_timeline_retention_enabled: bool = True
    incident_timeline_retention_days: int = Field(default=395, ge=31)
    incident_timeline_partitions_ahead: int = Field(default=3, ge=1, le=24)
    incident_timeline_retention_interval_seconds: float = Field(default=3600.0, gt=0)

    # Live updates (GET /api/v1/incidents/changes): one watcher per process reads the
    # timeline's tail this often while any stream is open; each stream sends a comment
    # this often so proxies keep it open (nginx's proxy_read_timeout is 60 s), and ends
    # after its lifetime, when the browser reconnects and its credential is checked again.
    incident_changes_interval_seconds: float = Field(default=1.0, gt=0)
    incident_changes_heartbeat_seconds: float = Field(default=15.0, gt=0, lt=60)
    incident_changes_stream_seconds: float = Field(default=300.0, gt=0)
    incident_changes_max_streams: int = Field(default=1000, ge=0)

    # Signs the one-click acknowledge/resolve links in pages; the same in every
    # replica. Required outside local and test runs; there, unset means a key
    # made at start (links die with the process).
    link_signing_key: SecretStr | None = None
    link_ttl_hours: float = Field(default=24, gt=0, le=24 * 14)

    @model_validator(mode="after")
    def _real_time_in_production(self) -> "Settings":
        if self.environment == "prod" and self.incident_clock_speed != 1.0:
            raise ValueError("INCIDENT_CLOCK_SPEED must be 1 in prod")
        if self.link_signing_key is None:
            if self.environment in ("dev", "prod"):
                raise ValueError("LINK_SIGNING_KEY must be set outside local and test runs")
            self.link_signing_key = SecretStr(secrets.token_urlsafe(32))
        refuse_weak_secret(self.environment, "LINK_SIGNING_KEY", self.link_signing_key)
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
