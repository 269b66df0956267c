"""Settings of alert-ingestion, from environment variables."""

from functools import lru_cache

from platform_common.settings import BaseServiceSettings


class Settings(BaseServiceSettings):
    service_name: str = "alert-ingestion"
    port: int = 8001


@lru_cache
def get_settings() -> Settings:
    return Settings()
