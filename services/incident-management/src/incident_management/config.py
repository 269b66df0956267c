"""Settings of incident-management, from environment variables."""

from functools import lru_cache

from platform_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    service_name: str = "incident-management"
    port: int = 8002


@lru_cache
def get_settings() -> Settings:
    return Settings()
