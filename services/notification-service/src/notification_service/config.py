"""Settings of notification-service, from environment variables."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from platform_common.settings import BaseServiceSettings, refuse_weak_secret

# Good enough to sign webhooks on a laptop; refused anywhere else (see below).
LOCAL_WEBHOOK_SECRET = "local-only-webhook-signing-secret"  # noqa: S105 - a documented local default, refused in dev/prod  # nosec B105


class Settings(BaseServiceSettings):
    """Settings of notification-service, from environment variables."""

    service_name: str = "notification-service"
    port: int = 8004

    # The delivery worker runs as an asyncio task in this process; switch it
    # off to run API-only replicas (any replica with it on delivers).
    notification_worker_enabled: bool = True
    notification_poll_seconds: float = 1.0
    # Claimed per cycle; a full batch loops again at once. 20 kept a storm of
    # 50 pages a second seconds behind (bench/alert_to_page.py --rate 50).
    notification_batch_size: int = 100
    # How long a claimed row is reserved for its worker; a worker that dies
    # mid-send frees it when this runs out. Must outlast the slowest send.
    notification_lease_seconds: float = 60.0
    # With base 5 s and cap 600 s, 10 attempts span 15-30 minutes: a receiver down
    # for minutes still gets its pages when it is back. 5 gave up after 37-75 s,
    # and a webhook failing for 90 s lost pages (bench/faults.py webhook-500).
    notification_max_attempts: int = 10
    notification_retry_base_seconds: float = 5.0
    notification_retry_max_seconds: float = 600.0
    notification_http_timeout_seconds: float = 10.0
    # Reports of final results to a caller's callback_url: retried with the same
    # backoff as deliveries while the caller is down, at most this many times.
    notification_callback_max_attempts: int = 50
    # The retention (workers/retention.py): a request older than this many days is
    # deleted with its notifications and attempts once none of them is still being
    # delivered or owes its caller a report; in batches, one per transaction.
    notification_retention_enabled: bool = True
    notification_retention_days: int = Field(default=90, ge=31)
    notification_retention_interval_seconds: float = Field(default=3600.0, gt=0)
    notification_retention_batch_size: int = Field(default=1000, ge=1, le=10_000)
    notification_webhook_secret: SecretStr = SecretStr(LOCAL_WEBHOOK_SECRET)
    # Refuse webhook/Slack targets that resolve to loopback, private or
    # link-local addresses (users choose their own webhook URLs, and must not
    # reach the platform's own network through them). Unset: refused outside
    # local and test runs, allowed in them (they page receivers on 127.0.0.1).
    notification_public_targets_only: bool | None = None

    @property
    def public_targets_only(self) -> bool:
        """Whether private and loopback targets are refused."""
        if self.notification_public_targets_only is None:
            return self.environment not in ("local", "test")
        return self.notification_public_targets_only

    # A folder whose `<channel>/<event>.<kind>` files replace the built-in templates.
    notification_templates_dir: Path | None = None

    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_ssl: bool = False
    smtp_ca_file: Path | None = None
    smtp_from: str = "Incident Platform <pager@localhost>"
    smtp_timeout_seconds: float = 30.0

    @model_validator(mode="after")
    def _check_notification_settings(self) -> "Settings":
        if self.environment in ("dev", "prod") and self.notification_webhook_secret.get_secret_value() in (
            LOCAL_WEBHOOK_SECRET,
            "",
        ):
            raise ValueError("NOTIFICATION_WEBHOOK_SECRET must be set outside local runs")
        refuse_weak_secret(self.environment, "NOTIFICATION_WEBHOOK_SECRET", self.notification_webhook_secret)
        if self.smtp_starttls and self.smtp_ssl:
            raise ValueError("SMTP_STARTTLS and SMTP_SSL exclude each other (STARTTLS upgrades, SSL starts in TLS)")
        slowest_send = max(self.notification_http_timeout_seconds, self.smtp_timeout_seconds)
        if self.notification_lease_seconds <= slowest_send:
            raise ValueError(
                "NOTIFICATION_LEASE_SECONDS must exceed the send timeouts, or a slow send is retried while in flight"
            )
        if self.notification_max_attempts < 1 or self.notification_batch_size < 1:
            raise ValueError("NOTIFICATION_MAX_ATTEMPTS and NOTIFICATION_BATCH_SIZE must be at least 1")
        if not 0 < self.notification_retry_base_seconds <= self.notification_retry_max_seconds:
            raise ValueError("need 0 < NOTIFICATION_RETRY_BASE_SECONDS <= NOTIFICATION_RETRY_MAX_SECONDS")
        if self.notification_templates_dir is not None and not self.notification_templates_dir.is_dir():
            raise ValueError(f"NOTIFICATION_TEMPLATES_DIR {self.notification_templates_dir} is not a directory")
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
