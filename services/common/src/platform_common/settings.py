"""Configuration from environment variables, the only source of configuration."""

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "dev", "prod"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# How .env.example's placeholder secrets begin: a deployment that kept one has no secret at all.
PLACEHOLDER = "change-me"


def refuse_placeholder(environment: str, name: str, secret: SecretStr | None) -> None:
    """Outside local and test runs, a secret left at .env.example's placeholder is an error."""
    values = secret.get_secret_value().split(",") if secret is not None else []
    if environment in ("dev", "prod") and any(v.strip().startswith(PLACEHOLDER) for v in values):
        raise ValueError(f"{name} is still .env.example's placeholder; set a secret of your own")


class BaseServiceSettings(BaseSettings):
    """Settings every service has; each service subclasses it with its own."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    service_name: str
    environment: Environment = "local"
    host: str = "127.0.0.1"
    port: int

    # PostgreSQL. Unset only in local/test runs, where the runner (`make dev`,
    # `make test`) starts an embedded server and sets it for the processes it runs.
    database_url: SecretStr | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10

    log_level: str = "INFO"

    # The platform's own credential on calls between services: "current" or
    # "current,previous". The first is sent, all are accepted, so it rotates
    # without downtime (add the new one second everywhere, then first, then
    # drop the old). Required outside local and test runs.
    internal_tokens: SecretStr | None = None
    # How long a service trusts a looked-up session or API token; logging out,
    # revoking or disabling counts everywhere within this.
    auth_cache_seconds: float = Field(default=2.0, ge=0, le=5)
    # The client addresses whose X-Forwarded-For / X-Forwarded-Proto are
    # believed (the front door's), for per-client limits; uvicorn's setting.
    forwarded_allow_ips: str = "127.0.0.1"

    http_timeout_seconds: float = 5.0
    http_retries: int = 3
    readiness_interval_seconds: float = 10.0
    max_body_bytes: int = 1_048_576
    graceful_shutdown_seconds: int = 15
    # How long an idle keep-alive connection stays open. Longer than any client's
    # or proxy's idle expiry (httpx 5 s, nginx's upstream keepalive_timeout 60 s),
    # so the client always closes first: when both sides expire together, a
    # request sent on a connection the server is just closing is reset
    # (httpx.ReadError, a 502 behind a proxy). uvicorn's default is 5 s.
    http_keepalive_seconds: int = Field(default=75, ge=1)

    alert_ingestion_url: str = "http://127.0.0.1:8001"
    incident_service_url: str = "http://127.0.0.1:8002"
    oncall_service_url: str = "http://127.0.0.1:8003"
    notification_service_url: str = "http://127.0.0.1:8004"
    ui_base_url: str = "http://127.0.0.1:8080"

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"log_level must be one of {', '.join(LOG_LEVELS)}")
        return level

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> "BaseServiceSettings":
        if self.environment in ("dev", "prod") and self.database_url is None:
            raise ValueError("DATABASE_URL must be set outside local and test runs")
        if self.environment in ("dev", "prod") and self.internal_tokens is None:
            raise ValueError("INTERNAL_TOKENS must be set outside local and test runs")
        refuse_placeholder(self.environment, "INTERNAL_TOKENS", self.internal_tokens)
        return self
