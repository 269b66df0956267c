"""Settings of oncall-service, from environment variables."""

from functools import lru_cache

from platform_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    """Settings of oncall-service, from environment variables."""

    service_name: str = "oncall-service"
    port: int = 8003


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()
