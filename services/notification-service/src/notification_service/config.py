"""Settings of notification-service, from environment variables."""

from functools import lru_cache

from platform_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    service_name: str = "notification-service"
    port: int = 8004


@lru_cache
def get_settings() -> Settings:
    return Settings()
