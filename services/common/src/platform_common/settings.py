"""Configuration from environment variables, the only source of configuration."""

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["local", "test", "dev", "prod"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# .env.example's placeholder secrets, in any case or spelling: a deployment that kept one has no secret at all.
PLACEHOLDER = "change-me"
# Keys (each of INTERNAL_TOKENS, LINK_SIGNING_KEY, NOTIFICATION_WEBHOOK_SECRET)
# are HMAC keys or bearer secrets nobody types: 32 characters is what
# `openssl rand -hex 16` makes, 128 bits.
MIN_KEY_LENGTH = 32
# Fewer different characters than this is a pattern, not a secret ("aaaa...", "abab...").
MIN_DISTINCT_CHARACTERS = 6
KEY_ADVICE = "make one with `openssl rand -hex 32`"


def secret_problem(value: str, *, min_length: int) -> str | None:
    """What makes `value` unfit to guard a deployment, or None: a placeholder
    (change-me in any case or spelling: CHANGE_ME, ChangeMe, change-me-now),
    fewer than `min_length` characters, or fewer than
    MIN_DISTINCT_CHARACTERS different ones. Says so without the value."""
    if _letters(PLACEHOLDER) in _letters(value):
        return "is still a placeholder (change-me)"
    if len(value) < min_length:
        return f"is shorter than {min_length} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return f"is too weak: fewer than {MIN_DISTINCT_CHARACTERS} different characters"
    return None


def _letters(value: str) -> str:
    return re.sub(r"[^a-z]", "", value.lower())


def refuse_weak_secret(
    environment: str,
    name: str,
    secret: SecretStr | None,
    *,
    min_length: int = MIN_KEY_LENGTH,
    several: bool = False,
    advice: str = KEY_ADVICE,
) -> None:
    """Outside local and test runs, a secret (with `several`, each of its
    comma-separated values) that secret_problem finds fault with stops the
    service at start, naming the variable. Local and test runs make their own
    or use fixed test values, and guard nothing."""
    if environment in ("local", "test") or secret is None:
        return
    values = secret.get_secret_value().split(",") if several else [secret.get_secret_value()]
    for value in values:
        if problem := secret_problem(value.strip(), min_length=min_length):
            raise ValueError(f"{name} {problem}; set a secret of your own ({advice})")


class BaseServiceSettings(BaseSettings):
    """Settings every service has; each service subclasses it with its own."""

    # hide_input_in_errors: a refused setting's error would otherwise print the
    # values given, secrets included, into the start-up log.
    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, hide_input_in_errors=True)

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
        refuse_weak_secret(self.environment, "INTERNAL_TOKENS", self.internal_tokens, several=True)
        return self
