"""Settings of alert-ingestion, from environment variables."""

from functools import lru_cache

from pydantic import Field, SecretStr

from platform_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """Settings of alert-ingestion, from environment variables."""

    service_name: str = "alert-ingestion"
    port: int = 8001

    # An alert with no open match joins an open incident of the same service and
    # severity opened at most this long ago.
    correlation_window_minutes: float = Field(default=5.0, ge=0)
    # Resolve the incident (through incident-management) once every alert of it is resolved.
    auto_resolve_incidents: bool = True
    # Creating an incident through incident-management: past this, ingestion
    # opens it in the database itself (the shared-database fallback).
    incident_create_timeout_seconds: float = Field(default=2.0, gt=0)
    incident_create_retries: int = Field(default=1, ge=0)
    # Owed acknowledge/resolve calls to incident-management: retried by a loop
    # inside the service (off: another replica or process does it).
    incident_actions_worker_enabled: bool = True
    incident_actions_interval_seconds: float = Field(default=5.0, gt=0)
    incident_actions_max_attempts: int = Field(default=20, ge=1)
    # Backoff between tries (platform_common.retry): about base after the first failure, doubling, capped.
    incident_actions_retry_base_seconds: float = Field(default=2.0, gt=0)
    incident_actions_retry_max_seconds: float = Field(default=300.0, gt=0)
    # Events per minute one integration key may send to one process (a minute's
    # worth may come at once); over it: 429. 0 turns the limit off.
    rate_limit_per_minute: float = Field(default=6000, ge=0)
    # The same per client address, whatever keys it sends with (a runaway
    # forwarder with many keys, a scanner trying keys). 0 turns it off.
    rate_limit_per_client_per_minute: float = Field(default=60_000, ge=0)
    # How long a looked-up integration key is trusted before asking the
    # database again (a revoked key stops working on other replicas within this).
    integration_cache_seconds: float = Field(default=5.0, ge=0)
    # The trigger alerts that arrive together are written through one call of the
    # rule (ingest_alerts) in one transaction (group commit), at most this many:
    # a larger batch costs fewer commits per alert, and each of its alerts waits
    # for the whole batch.
    ingest_batch_max: int = Field(default=200, ge=1, le=5000)
    # uvicorn worker processes for `python -m alert_ingestion`.
    ingest_workers: int = Field(default=1, ge=1, le=64)
    # How old each process's copy of the maintenance windows may be: a window made or removed through
    # another worker or replica counts there within this (usecases/suppression.py).
    maintenance_cache_seconds: float = Field(default=1.0, ge=0)
    # The heartbeat watch (workers/heartbeats.py): how often it looks for late heartbeats, so a miss
    # is reported at most this long after the heartbeat's interval ran out. Off: another process does it.
    heartbeat_watch_enabled: bool = True
    heartbeat_check_interval_seconds: float = Field(default=10.0, gt=0)
    # The alerts' monthly partitions (workers/partitions.py, migration 0019_alert_partitions):
    # created this many months ahead, checked every interval. Off: another process does it.
    alert_partitions_enabled: bool = True
    alert_partitions_ahead: int = Field(default=3, ge=1, le=24)
    alert_partitions_interval_seconds: float = Field(default=3600.0, gt=0)
    # The alerts' retention (migration 0020_alert_retention), run by the same worker: a month of
    # alerts is dropped once wholly older than this, unless one of its alerts belongs to an incident
    # unresolved, resolved within it or not opened yet, or is an open opener. At least a month, so
    # the current month never qualifies; incidents themselves (and MTTA/MTTR) are kept.
    alert_retention_enabled: bool = True
    alert_retention_days: int = Field(default=90, ge=31)
    # Local runs only: the key of the integration seeded when none exists.
    seed_integration_key: SecretStr | None = None
    seed_integration_service: str = "demo"


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
