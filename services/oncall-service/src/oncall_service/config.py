"""Settings of oncall-service, from environment variables."""

from functools import lru_cache

from pydantic import Field, SecretStr, model_validator

from platform_common.settings import BaseServiceSettings, refuse_weak_secret

MIN_PASSWORD_LENGTH = 12


class Settings(BaseServiceSettings):
    """Settings of oncall-service, from environment variables."""

    service_name: str = "oncall-service"
    port: int = 8003

    # The first admin, created on start when no user has this email yet (an
    # existing user's password is never overwritten, so a changed one stays).
    # No default: nothing is created without them.
    admin_email: str | None = None
    admin_password: SecretStr | None = None
    # A login lasts this long (the session cookie and its row).
    session_ttl_hours: float = Field(default=168, gt=0)
    # Failed logins per client address (any account) before 429, in the `limits`
    # library's notation; per account, the lock grows from the 5th failure on.
    login_failures_per_client: str = "30/10minutes"

    # The "you are on call" loop (workers/notices.py): how often it looks for shift
    # starts and ends, and how late a boundary may be found and still be told
    # (a restart or a slow cycle); notices per cycle; backoff while
    # notification-service is down.
    oncall_notice_enabled: bool = True
    oncall_notice_interval_seconds: float = Field(default=30.0, gt=0)
    oncall_notice_lookback_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    oncall_notice_batch_size: int = Field(default=50, ge=1, le=1000)
    oncall_notice_retry_base_seconds: float = Field(default=5.0, gt=0)
    oncall_notice_retry_max_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _admin_password_strength(self) -> "Settings":
        if self.admin_password is not None and len(self.admin_password.get_secret_value()) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"ADMIN_PASSWORD must be at least {MIN_PASSWORD_LENGTH} characters")
        if (self.admin_email is None) != (self.admin_password is None):
            raise ValueError("set ADMIN_EMAIL and ADMIN_PASSWORD together")
        refuse_weak_secret(
            self.environment,
            "ADMIN_PASSWORD",
            self.admin_password,
            min_length=MIN_PASSWORD_LENGTH,
            advice="a password manager's generated one will do",
        )
        return self


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
